//! The `passerelle` command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use passerelle_connectors::sandbox::{Sandbox, SandboxSettings};
use passerelle_connectors::Registry;
use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::Partner;

use crate::app::Application;
use crate::config::{Config, LogFormat, Overrides};

/// Passerelle: one GraphQL API over the partner systems of the Normandy
/// apprenticeship plan.
#[derive(Debug, Parser)]
#[command(name = "passerelle", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the gateway. With no configuration: every partner simulator
    /// in-process, SQLite under ./data, on 127.0.0.1:4000.
    Serve {
        /// A TOML configuration file.
        #[arg(long, env = "PASSERELLE_CONFIG")]
        config: Option<PathBuf>,
        /// The address to listen on.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Where the store and other state live.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Works with mapping files.
    Mapping {
        #[command(subcommand)]
        command: MappingCommand,
    },
    /// Runs the partner simulators alone, on fixed ports, until Ctrl-C.
    Sandbox {
        /// The first port: CCI takes it, CMA the next.
        #[arg(long, default_value_t = 4100)]
        base_port: u16,
        /// Offers per exchange.
        #[arg(long)]
        offers: Option<usize>,
        /// Offers of the CMA's feed alone (overrides --offers for it).
        #[arg(long)]
        cma_offers: Option<usize>,
        /// Added latency of every partner answer, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Writes a gateway configuration whose partners are these
        /// simulators (`passerelle serve --config FILE`).
        #[arg(long)]
        write_config: Option<PathBuf>,
    },
    /// Prints the GraphQL schema (SDL).
    Schema {
        /// The schema as a Federation 2 subgraph, with its `@key`s and
        /// other directives: what `_service { sdl }` answers, for
        /// composing a supergraph.
        #[arg(long)]
        subgraph: bool,
        /// With --subgraph: without `@requiresScopes`, for routers that
        /// refuse it (`@apollo/gateway`); what `[federation]
        /// requires_scopes = false` serves.
        #[arg(long, requires = "subgraph")]
        without_scopes: bool,
    },
    /// Writes a simulated taxe d'apprentissage campaign, one file per OPCO
    /// (`OPCO.csv` for `/ingest/allocations`, or `OPCO.jsonl`: one
    /// `pushAllocations` request body a line), for tests and benchmarks.
    SandboxCampaign {
        /// The directory to write to.
        #[arg(long)]
        out: PathBuf,
        /// Allocations in all.
        #[arg(long, default_value_t = 10_000)]
        allocations: u64,
        /// Distinct employers.
        #[arg(long, default_value_t = 1_000)]
        employers: usize,
        /// Spoil every Nth record (a bad check key, a zero amount…).
        #[arg(long)]
        invalid_every: Option<u64>,
        /// `csv`, or `jsonl` with this many allocations a request.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Allocations a request, for `jsonl`.
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// The campaign year.
        #[arg(long, default_value_t = 2026)]
        year: i32,
    },
    /// Imports data handed over by hand into the store.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Prints a token signed by the sandbox's issuer (the key in the data
    /// directory), which a sandbox gateway on the same directory accepts.
    /// Refused when the configuration names a real identity provider.
    DevToken {
        /// Space-separated scopes (`region:bi`, `allocations:write`).
        #[arg(long, default_value = "")]
        scope: String,
        /// The OPCO the caller acts for.
        #[arg(long)]
        opco: Option<String>,
        /// The CFA the caller is (a UAI).
        #[arg(long)]
        cfa: Option<String>,
        /// How long the token is valid.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
        /// The subject.
        #[arg(long, default_value = "dev")]
        subject: String,
        /// A TOML configuration file.
        #[arg(long, env = "PASSERELLE_CONFIG")]
        config: Option<PathBuf>,
        /// The sandbox gateway's data directory, where its issuer key is:
        /// resolved as `serve` resolves it (this flag, then
        /// `PASSERELLE_DATA_DIR`, then the configuration's `data_dir`, then
        /// `./data`). No key is created: the gateway makes it.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Imports an OPCO's allocations file (CSV or XML, as uploaded to
    /// `/ingest/allocations`) in one transaction, with a progress bar on a
    /// terminal. Prints the report as JSON. Exit status 0 when every record
    /// was stored (or already was), 1 when some were rejected, 2 when the
    /// file was refused whole.
    Allocations {
        /// The file: `.csv` or `.xml`.
        file: PathBuf,
        /// The OPCO the allocations are from.
        #[arg(long)]
        opco: String,
        /// The campaign year (an XML file may declare it).
        #[arg(long)]
        campaign: Option<String>,
        /// The batch's idempotency key; by default the file's SHA-256, so
        /// that importing the same file twice stores it once.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// A TOML configuration file (for the store's URL).
        #[arg(long, env = "PASSERELLE_CONFIG")]
        config: Option<PathBuf>,
        /// Where the store lives.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum MappingCommand {
    /// Runs every mapping file's test cases.
    Test {
        /// A directory of mapping files overriding the shipped ones.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Maps a partner payload offline: unified records as JSON lines on
    /// stdout, one line per rejected record on stderr. Exit status 0 when
    /// every record mapped, 1 when some were rejected, 2 when the input is
    /// unreadable.
    Run {
        /// The partner whose payload it is.
        #[arg(long)]
        partner: Partner,
        /// The entity to map to.
        #[arg(long, default_value = "offer")]
        entity: String,
        /// The payload, as the partner sends it.
        #[arg(long)]
        input: PathBuf,
        /// A directory of mapping files overriding the shipped ones.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// What the connector would add to every record (`KEY=VALUE`), such
        /// as the site a calendar belongs to: `--context X-SITE=cio-14118`.
        #[arg(long, value_parser = parse_context)]
        context: Vec<(String, String)>,
    },
}

fn parse_context(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| "expected KEY=VALUE".to_owned())
}

/// Runs the command line; the exit code says how it went.
pub fn run() -> ExitCode {
    // The partners this binary knows, declared before any is read from the
    // command line.
    let _ = Registry::standard();
    let cli = Cli::parse();
    match cli.command {
        Command::Mapping { command } => mapping(command),
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
        } => {
            if without_scopes {
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

fn write_campaign(
    out: &std::path::Path,
    settings: passerelle_connectors::sandbox::campaign::CampaignSettings,
    format: &str,
    batch: usize,
) -> anyhow::Result<()> {
    use passerelle_connectors::sandbox::campaign::Campaign;
    use std::collections::HashMap;
    use std::io::Write;

    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let year = settings.year;
    let mut files: HashMap<&str, std::io::BufWriter<std::fs::File>> = HashMap::new();
    let mut pending: HashMap<&str, Vec<passerelle_schema::AllocationInput>> = HashMap::new();
    let mut sent: HashMap<&str, usize> = HashMap::new();
    let jsonl = match format {
        "csv" => false,
        "jsonl" => true,
        other => anyhow::bail!("--format is csv or jsonl, not {other}"),
    };
    let mut flush = |opco: &'static str,
                     records: &mut Vec<passerelle_schema::AllocationInput>,
                     files: &mut HashMap<&str, std::io::BufWriter<std::fs::File>>|
     -> anyhow::Result<()> {
        let file = match files.entry(opco) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = out.join(format!("{opco}.{}", if jsonl { "jsonl" } else { "csv" }));
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                if !jsonl {
                    writeln!(
                        f,
                        "{}",
                        passerelle_connectors::sandbox::campaign::CSV_HEADER
                    )?;
                }
                e.insert(f)
            }
        };
        if jsonl {
            let n = sent.entry(opco).or_default();
            let body = serde_json::json!({
                "query": "mutation($input: PushAllocationsInput!) { pushAllocations(input: $input) { accepted duplicates rejectedCount } }",
                "variables": { "input": {
                    "campaign": year,
                    "idempotencyKey": format!("{opco}-{n}"),
                    "allocations": records,
                } }
            });
            *n += 1;
            writeln!(file, "{body}")?;
        } else {
            for a in records.iter() {
                passerelle_connectors::sandbox::campaign::write_csv_record(file, a)?;
            }
        }
        records.clear();
        Ok(())
    };
    for (opco, input) in Campaign::new(settings) {
        let records = pending.entry(opco).or_default();
        records.push(input);
        if records.len() >= batch {
            flush(opco, records, &mut files)?;
        }
    }
    for (opco, mut records) in pending {
        if !records.is_empty() {
            flush(opco, &mut records, &mut files)?;
        }
    }
    for (_, mut f) in files {
        f.flush()?;
    }
    Ok(())
}

struct ImportArgs {
    file: PathBuf,
    opco: String,
    campaign: Option<String>,
    idempotency_key: Option<String>,
}

async fn import_allocations(config: Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    use crate::domain::campaign::{self, Format};
    use sha2::{Digest, Sha256};

    let opco = passerelle_schema::Opco::parse(&args.opco).context("--opco")?;
    let format = Format::from_path(&args.file)?;
    let key = match args.idempotency_key {
        Some(k) => k,
        None => {
            let mut file = std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?;
            let mut hash = Sha256::new();
            std::io::copy(&mut file, &mut hash)?;
            format!("file-sha256-{}", hex::encode(hash.finalize()))
        }
    };
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let size = file.metadata()?.len();
    let store = crate::store::Store::open(&config.store_url())
        .await
        .context("the store could not be opened")?;
    let bar = indicatif::ProgressBar::new(size).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {wide_bar} {eta} {msg}",
        )
        .expect("a valid template"),
    );
    let input = bar.wrap_read(file);
    let records = bar.clone();
    let result = campaign::ingest_upload(
        &store,
        &opco,
        &key,
        args.campaign.as_deref(),
        format,
        input,
        move |n| records.set_message(format!("{n} records")),
    )
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report)?);
            eprintln!(
                "{}: {} stored, {} already stored, {} rejected{}",
                args.file.display(),
                report.accepted,
                report.duplicates,
                report.rejected_count,
                if report.replayed {
                    " (imported before: nothing changed)"
                } else {
                    ""
                }
            );
            Ok(if report.rejected_count > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e) => {
            eprintln!(
                "passerelle: {} refused: {e} ({})",
                args.file.display(),
                e.code()
            );
            Ok(ExitCode::from(2))
        }
    }
}

/// The configuration of a command that needs no listener; a message and
/// exit status 2 when it is invalid.
fn load_config(
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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    crate::memory::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "passerelle failed");
            eprintln!("passerelle: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn sandbox(
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

fn catalog(dir: Option<&Path>) -> Result<Catalog, passerelle_mappings::MappingFileError> {
    Registry::standard().catalog(dir)
}

/// Why a payload cannot be a partner's at all, before it is read: empty,
/// or an HTML page (the error page of a proxy or a portal).
fn unreadable_payload(bytes: &[u8]) -> Option<&'static str> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Some("the input is empty");
    };
    let head: Vec<u8> = text[start..]
        .iter()
        .take(15)
        .map(u8::to_ascii_lowercase)
        .collect();
    (head.starts_with(b"<!doctype html") || head.starts_with(b"<html"))
        .then_some("an HTML page, not a partner's payload")
}

fn mapping(command: MappingCommand) -> ExitCode {
    match command {
        MappingCommand::Test { dir } => {
            let catalog = match catalog(dir.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("passerelle: {e}");
                    return ExitCode::from(2);
                }
            };
            let outcomes = catalog.run_tests();
            let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
            for o in &outcomes {
                match &o.failure {
                    None => println!("ok     {} — {}", o.file, o.name),
                    Some(why) => println!("FAILED {} — {}: {why}", o.file, o.name),
                }
            }
            println!("{} passed, {failed} failed", outcomes.len() - failed);
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        MappingCommand::Run {
            partner,
            entity,
            input,
            dir,
            context,
        } => {
            let run = || -> Result<ExitCode, (u8, String)> {
                let catalog = catalog(dir.as_deref()).map_err(|e| (2, e.to_string()))?;
                let kind = EntityKind::parse(&entity).map_err(|e| (2, e))?;
                let mapping = catalog
                    .get(partner, kind)
                    .ok_or_else(|| (2, format!("no {entity} mapping for {partner}")))?;
                let bytes = std::fs::read(&input)
                    .map_err(|e| (2, format!("cannot read {}: {e}", input.display())))?;
                unreadable_payload(&bytes).map_or(Ok(()), |why| {
                    Err((2, format!("{}: {why}", input.display())))
                })?;
                let (mut records, broken) = mapping.records(&bytes);
                for r in &mut records {
                    if let serde_json::Value::Object(map) = r {
                        for (k, v) in &context {
                            map.insert(k.clone(), serde_json::Value::String(v.clone()));
                        }
                    }
                }
                if records.is_empty() {
                    return Err((
                        2,
                        match broken {
                            Some(e) => format!("{}: {e}", input.display()),
                            None => format!(
                                "{}: no {entity} record in it: not a {partner} payload",
                                input.display()
                            ),
                        },
                    ));
                }
                let mut rejected = 0;
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                // Events are gathered as the connector gathers them: an
                // override of one occurrence within its event, the latest
                // version of each.
                let mut events = Vec::new();
                for (i, r) in records.iter().enumerate() {
                    let mapped = match kind {
                        EntityKind::Event => mapping
                            .map_record::<passerelle_schema::Event>(i, r)
                            .map(|e| events.push(e))
                            .map(|()| None),
                        _ => mapping.map_record_json(i, r).map(Some),
                    };
                    match mapped {
                        Ok(Some(v)) => {
                            use std::io::Write;
                            let _ = writeln!(out, "{v}");
                        }
                        Ok(None) => {}
                        Err(e) => {
                            rejected += 1;
                            eprintln!("rejected {e}");
                        }
                    }
                }
                for e in passerelle_schema::Event::gather(events) {
                    use std::io::Write;
                    let _ = writeln!(out, "{}", serde_json::json!(e));
                }
                if let Some(e) = broken {
                    eprintln!("payload broken after record {}: {e}", records.len());
                    rejected += 1;
                }
                Ok(if rejected == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            };
            match run() {
                Ok(code) => code,
                Err((code, message)) => {
                    eprintln!("passerelle: {message}");
                    ExitCode::from(code)
                }
            }
        }
    }
}
