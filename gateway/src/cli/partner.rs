//! `partner check`: a configured partner called once, its answer mapped
//! and printed as `mapping run` prints a payload's, with the requests sent.

use std::io::Write;
use std::process::ExitCode;

use passerelle_connectors::source::{MobilityQuery, OfferQuery};
use passerelle_connectors::{FeedPull, FeedSource, Registry, Source};
use passerelle_mappings::{Entity, RecordError};
use passerelle_schema::{Departement, DiplomaLevel, RomeCode};

use super::args::PartnerCommand;
use super::common::{load_config, runtime};

/// What a check read: records printed, records rejected.
#[derive(Default)]
struct Read {
    records: usize,
    rejected: usize,
}

impl Read {
    /// Prints `records` on stdout and `rejected` on stderr.
    fn print<E: serde::Serialize>(
        &mut self,
        records: impl IntoIterator<Item = E>,
        rejected: &[RecordError],
    ) {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for r in records {
            self.records += 1;
            let _ = writeln!(out, "{}", serde_json::json!(r));
        }
        for e in rejected {
            self.rejected += 1;
            eprintln!("rejected {e}");
        }
    }
}

pub(super) fn partner(command: PartnerCommand) -> ExitCode {
    let PartnerCommand::Check {
        config,
        partner,
        rome,
        departement,
        level,
        uai,
        year,
        country,
    } = command;
    let config = match load_config(Some(&config), None) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let check = || -> Result<ExitCode, String> {
        let offers = OfferQuery {
            rome: rome
                .iter()
                .map(|r| RomeCode::parse(r).map_err(|e| format!("--rome {r}: {e}")))
                .collect::<Result<_, _>>()?,
            departement: departement
                .map(|d| Departement::parse(&d).map_err(|e| format!("--departement {d}: {e}")))
                .transpose()?,
            level: level
                .map(|l| DiplomaLevel::new(l).map_err(|e| format!("--level {l}: {e}")))
                .transpose()?,
        };
        let mobilities = MobilityQuery { uai, year, country };
        let registry = config
            .registry(Registry::standard())
            .map_err(|e| e.to_string())?;
        let catalog = registry
            .catalog(config.mappings_dir.as_deref())
            .map_err(|e| e.to_string())?;
        let configured = config.partners(&registry).map_err(|e| e.to_string())?;
        let Some(found) = configured
            .iter()
            .find(|c| c.partner.id().eq_ignore_ascii_case(partner.trim()))
        else {
            let ids: Vec<&str> = configured.iter().map(|c| c.partner.id()).collect();
            return Err(format!(
                "{partner} is not a partner of this configuration; its partners: {}",
                ids.join(", ")
            ));
        };
        let sources = found
            .settings
            .sources(&catalog)
            .map_err(|e| e.to_string())?;
        // The requests sent, on stderr.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_level(false)
            .with_ansi(false)
            .without_time()
            .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
                "{}=debug",
                passerelle_connectors::http::REQUESTS
            )))
            .try_init();
        let rt = runtime().map_err(|e| format!("{e:#}"))?;
        let read = rt.block_on(async move {
            let mut read = Read::default();
            for source in sources {
                check_source(source, &offers, &mobilities, year, &mut read).await?;
            }
            Ok::<_, String>(read)
        })?;
        eprintln!("{} records, {} rejected", read.records, read.rejected);
        Ok(if read.rejected == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    };
    match check() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("passerelle: {message}");
            ExitCode::from(2)
        }
    }
}

/// Calls one source once and prints what it gave.
async fn check_source(
    source: Source,
    offers: &OfferQuery,
    mobilities: &MobilityQuery,
    year: Option<i32>,
    read: &mut Read,
) -> Result<(), String> {
    let e = |e: passerelle_connectors::ConnectorError| e.to_string();
    match source {
        Source::OfferFeed(s, _) => pull(s.feed.as_ref(), read).await,
        Source::Formations(s) => pull(s.feed.as_ref(), read).await,
        Source::MobilityFeed(s) => pull(s.feed.as_ref(), read).await,
        Source::Sites(s) => pull(s.feed.as_ref(), read).await,
        Source::Events(s) => pull(s.feed.as_ref(), read).await,
        Source::LiveOffers(c) => {
            let answer = c.search(offers.clone()).await.map_err(e)?.value;
            read.print(answer.offers.iter().map(|o| o.as_ref()), &answer.rejected);
            Ok(())
        }
        Source::LiveMobility(c) => {
            let answer = c.mobilities(mobilities.clone()).await.map_err(e)?.value;
            read.print(
                answer.mobilities.iter().map(|m| m.as_ref()),
                &answer.rejected,
            );
            Ok(())
        }
        Source::PublicCounts(c) => {
            let year = year.unwrap_or_else(|| chrono::Datelike::year(&chrono::Utc::now()));
            let counts = c.counts(year).await.map_err(e)?.value;
            read.print(
                [serde_json::json!({
                    "year": counts.year,
                    "etat": counts.etat,
                    "territoriale": counts.territoriale,
                    "hospitaliere": counts.hospitaliere,
                })],
                &[],
            );
            Ok(())
        }
    }
}

/// Pulls a feed once, unconditionally, and prints its records.
async fn pull<E: Entity>(feed: &dyn FeedSource<E>, read: &mut Read) -> Result<(), String> {
    match feed.pull(None).await.map_err(|e| e.to_string())? {
        FeedPull::NotModified => Ok(()),
        FeedPull::Fetched { batch, .. } => {
            read.print(&batch.records, &batch.rejected);
            broken(batch.truncated, read)
        }
        FeedPull::Streamed { records, .. } => {
            let (batch, _) = records.collect().await.map_err(|e| e.to_string())?;
            read.print(&batch.records, &batch.rejected);
            broken(batch.truncated, read)
        }
    }
}

fn broken(
    truncated: Option<passerelle_mappings::record::PayloadError>,
    read: &mut Read,
) -> Result<(), String> {
    if let Some(e) = truncated {
        eprintln!(
            "payload broken after record {}: {e}",
            read.records + read.rejected
        );
        read.rejected += 1;
    }
    Ok(())
}
