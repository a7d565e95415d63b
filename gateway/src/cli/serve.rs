//! `serve` and `sandbox`: the gateway until it is told to stop, and the
//! partners' simulators.

use std::path::Path;

use anyhow::Context as _;
use passerelle_connectors::sandbox::{Sandbox, SandboxSettings};
use passerelle_connectors::Registry;

use crate::app::Application;
use crate::config::Config;

pub(super) async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

pub(super) async fn sandbox(
    settings: SandboxSettings,
    latency_ms: u64,
    write_config: Option<&Path>,
) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&settings, &Registry::standard())
        .await
        .context("the sandbox could not start")?;
    if let Some(path) = write_config {
        std::fs::write(path, sandbox.partners_toml())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    for s in sandbox.simulators() {
        if latency_ms > 0 {
            s.faults
                .update(&passerelle_connectors::sandbox::FaultUpdate {
                    latency_ms: Some(latency_ms),
                    ..Default::default()
                })
                .map_err(anyhow::Error::msg)?;
        }
        println!("{} {}", s.partner, s.server.base_url());
    }
    shutdown_signal().await;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
