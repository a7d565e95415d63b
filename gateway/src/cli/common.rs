//! What every command shares: its configuration, its runtime, how it
//! reports a failure.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::{Config, Overrides};

/// The configuration of a command that needs no listener; a message and
/// exit status 2 when it is invalid.
pub(super) fn load_config(
    file: Option<&std::path::Path>,
    data_dir: Option<PathBuf>,
) -> Result<Config, ExitCode> {
    let overrides = Overrides {
        listen: None,
        data_dir,
    };
    Config::load(file, &overrides).map_err(|e| {
        eprintln!("passerelle: configuration: {e}");
        ExitCode::from(2)
    })
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    crate::memory::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(super) fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "passerelle failed");
            eprintln!("passerelle: {e:#}");
            ExitCode::FAILURE
        }
    }
}
