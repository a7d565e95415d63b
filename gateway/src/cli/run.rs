//! Runs the command given.

use std::process::ExitCode;

use clap::Parser;
use passerelle_connectors::sandbox::SandboxSettings;
use passerelle_connectors::Registry;

use super::args::{Cli, Command, ImportCommand};
use super::campaign::{import_allocations, write_campaign, ImportArgs};
use super::common::{load_config, report, runtime};
use super::mapping::mapping;
use super::partner::partner;
use super::serve::{sandbox, serve};
use crate::config::{Config, LogFormat, Overrides};

/// Runs the command line; the exit code says how it went.
pub fn run() -> ExitCode {
    // The partners this binary knows, declared before any is read from the
    // command line.
    let _ = Registry::standard();
    let cli = Cli::parse();
    match cli.command {
        Command::Mapping { command } => mapping(command),
        Command::Partner { command } => partner(command),
        Command::Import {
            command:
                ImportCommand::Allocations {
                    file,
                    opco,
                    campaign,
                    idempotency_key,
                    config,
                    data_dir,
                },
        } => {
            let config = match load_config(config.as_deref(), data_dir) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let import = ImportArgs {
                file,
                opco,
                campaign,
                idempotency_key,
            };
            match runtime().and_then(|rt| rt.block_on(import_allocations(config, import))) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("passerelle: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::DevToken {
            scope,
            opco,
            cfa,
            ttl,
            subject,
            config,
            data_dir,
        } => {
            let config = match load_config(config.as_deref(), data_dir) {
                Ok(c) => c,
                Err(code) => return code,
            };
            if config.auth.jwks_url.is_some() || !config.sandbox.enabled {
                eprintln!("passerelle: the configuration names a real identity provider: ask it for tokens");
                return ExitCode::from(2);
            }
            match crate::auth::issuer::Issuer::load(
                &config.data_dir,
                &config.auth.issuer,
                &config.auth.audience,
            ) {
                Ok(issuer) => {
                    println!(
                        "{}",
                        issuer.mint(&subject, &scope, opco.as_deref(), cfa.as_deref(), ttl)
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("passerelle: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::SandboxCampaign {
            out,
            allocations,
            employers,
            invalid_every,
            format,
            batch,
            year,
        } => {
            let settings = passerelle_connectors::sandbox::campaign::CampaignSettings {
                allocations,
                employers,
                invalid_every,
                year,
                ..Default::default()
            };
            match write_campaign(&out, settings, &format, batch.max(1)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("passerelle: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Schema {
            subgraph,
            without_scopes,
            book,
        } => {
            if book {
                match crate::graphql::reference::reference_markdown(&crate::graphql::sdl()) {
                    Ok(page) => print!("{page}"),
                    Err(e) => {
                        eprintln!("passerelle: the schema's SDL does not parse: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else if without_scopes {
                print!(
                    "{}",
                    crate::graphql::introspection::without_scopes(&crate::graphql::federation_sdl())
                );
            } else if subgraph {
                print!("{}", crate::graphql::federation_sdl());
            } else {
                print!("{}", crate::graphql::sdl());
            }
            ExitCode::SUCCESS
        }
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            let overrides = Overrides { listen, data_dir };
            let config = match Config::load(config.as_deref(), &overrides) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("passerelle: configuration: {e}");
                    return ExitCode::from(2);
                }
            };
            let telemetry = crate::telemetry::init(config.log.format, &config.telemetry);
            let result = runtime().and_then(|rt| rt.block_on(serve(config)));
            telemetry.shutdown();
            report(result)
        }
        Command::Sandbox {
            base_port,
            offers,
            cma_offers,
            latency_ms,
            write_config,
        } => {
            crate::telemetry::init(LogFormat::Auto, &crate::config::TelemetryConfig::default());
            let mut settings = SandboxSettings {
                base_port,
                ..SandboxSettings::default()
            };
            if let Some(n) = offers {
                settings.data.cci_offers = n;
                settings.data.cma_offers = n;
                settings.data.shared_offers = settings.data.shared_offers.min(n / 10);
            }
            if let Some(n) = cma_offers {
                settings.data.cma_offers = n;
            }
            report(
                runtime().and_then(|rt| {
                    rt.block_on(sandbox(settings, latency_ms, write_config.as_deref()))
                }),
            )
        }
    }
}
