//! What the command line takes: the commands and their arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Passerelle: one GraphQL API over the partner systems of the Normandy
/// apprenticeship plan.
#[derive(Debug, Parser)]
#[command(name = "passerelle", version)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
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
    /// Works with the partners of a configuration.
    Partner {
        #[command(subcommand)]
        command: PartnerCommand,
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
        /// The book's GraphQL reference instead, in Markdown, written from
        /// the schema's descriptions: `docs/src/reference/graphql.md`.
        #[arg(long, conflicts_with = "subgraph")]
        book: bool,
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
pub(super) enum ImportCommand {
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
pub(super) enum PartnerCommand {
    /// Calls a configured partner once (each feed pulled, each live source
    /// searched with the filters given), maps its answer and prints the
    /// records as JSON lines on stdout, the requests sent and the records
    /// rejected on stderr. Exit status 0 when every record mapped, 1 when
    /// some were rejected, 2 when the partner could not be read.
    Check {
        /// The configuration that declares or configures it.
        #[arg(long, env = "PASSERELLE_CONFIG")]
        config: PathBuf,
        /// The partner's identifier.
        partner: String,
        /// Offers: an occupation (ROME code), repeatable.
        #[arg(long)]
        rome: Vec<String>,
        /// Offers: a département.
        #[arg(long)]
        departement: Option<String>,
        /// Offers: a diploma level, 3 to 8.
        #[arg(long)]
        level: Option<u8>,
        /// Mobilities: the CFA's UAI.
        #[arg(long)]
        uai: Option<String>,
        /// Mobilities and public-sector counts: the year.
        #[arg(long)]
        year: Option<i32>,
        /// Mobilities: the destination (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum MappingCommand {
    /// Writes a first mapping file from a sample payload (JSON, XML, CSV,
    /// iCalendar, LHÉO): where its records are, each unified field with the
    /// path whose values fit it best, the fields no path fits as comments,
    /// and a test case of its first record; for a person to finish.
    Init {
        /// The entity its records are: offer, formation, mobility, event, site.
        #[arg(long, default_value = "offer")]
        entity: String,
        /// The sample, as the partner sends it.
        #[arg(long)]
        input: PathBuf,
        /// The partner's identifier; the sample's file name unless given.
        #[arg(long)]
        partner: Option<String>,
        /// Where to write it (a new file); standard output unless given.
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
        partner: String,
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
