//! The gateway's configuration: one TOML file, layered with
//! `PASSERELLE_`-prefixed environment variables and command-line flags.
//!
//! Validation does no IO: whether partners answer is checked at run time
//! and shown by `/readyz` and `partners`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Json, Serialized, Toml};
use figment::Figment;
use passerelle_connectors::registry::ConfiguredPartner;
use passerelle_connectors::sandbox::SandboxSettings;
use passerelle_connectors::Registry;
use serde::Deserialize;

/// Everything the gateway is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The address the HTTP server listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where the embedded store and other state live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The store's URL: `sqlite://FILE` or `postgres://…`. By default a
    /// SQLite file `passerelle.db` under `data_dir`.
    #[serde(default)]
    pub store_url: Option<String>,
    /// A directory of mapping files (`PARTNER/ENTITY.toml`) that override
    /// the shipped ones.
    #[serde(default)]
    pub mappings_dir: Option<PathBuf>,
    /// The partner sandbox: simulators started in-process.
    #[serde(default)]
    pub sandbox: SandboxConfig,
    /// The real partners, when the sandbox is off: `[[partners]]` tables,
    /// each read by the registered partner its `kind` names.
    #[serde(default)]
    pub partners: PartnerTables,
    /// Bounds on what one request may ask.
    #[serde(default)]
    pub limits: Limits,
    /// Log output.
    #[serde(default)]
    pub log: LogConfig,
    /// Traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// What the API exposes besides answers.
    #[serde(default)]
    pub api: ApiConfig,
    /// How callers' tokens are checked.
    #[serde(default)]
    pub auth: AuthConfig,
    /// New offers pushed to candidates: detection and webhooks.
    #[serde(default)]
    pub alerts: AlertSettings,
    /// Bounds on subscriptions (graphql-ws and graphql-sse).
    #[serde(default)]
    pub subscriptions: SubscriptionLimits,
    /// The web console at `/` and its sign-in.
    #[serde(default)]
    pub console: ConsoleConfig,
    /// The HTTP server: the proxies believed about clients' addresses, and
    /// how long a connection may keep the gateway waiting.
    #[serde(default)]
    pub server: ServerConfig,
    /// Passerelle as a subgraph of a supergraph.
    #[serde(default)]
    pub federation: FederationConfig,
}

/// Passerelle as an Apollo Federation 2 subgraph.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Whether the subgraph SDL (`_service { sdl }`) carries
    /// `@requiresScopes`, so that a router enforcing it refuses unscoped
    /// callers before they reach Passerelle. Off for routers that refuse a
    /// supergraph with it (`@apollo/gateway`): Passerelle checks every
    /// scope itself either way.
    #[serde(default = "yes")]
    pub requires_scopes: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            requires_scopes: true,
        }
    }
}

/// The web console at `/`: its pages, and how a person signs in to it
/// (OpenID Connect authorization code flow with PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Whether the console is served.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The identity provider's OpenID configuration
    /// (`https://idp.example/realms/region/.well-known/openid-configuration`).
    /// Unset in sandbox mode: the sandbox's own sign-in page then. Unset
    /// otherwise: the console shows its public pages only.
    #[serde(default)]
    pub discovery_url: Option<url::Url>,
    /// The console's client at the identity provider.
    #[serde(default = "default_console_client")]
    pub client_id: String,
    /// The client's secret, for a confidential client; none for a public
    /// one (PKCE alone).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Where browsers reach the gateway (`https://passerelle.region-normandie.fr`):
    /// the redirect URI is `/console/callback` under it, and cookies are
    /// `Secure` when it is HTTPS. Unset: taken from the request's `Host`.
    #[serde(default)]
    pub public_url: Option<url::Url>,
    /// The scopes asked of the identity provider.
    #[serde(default = "default_console_scopes")]
    pub scopes: Vec<String>,
    /// The API the console's access token is for, as a resource indicator
    /// (RFC 8707: `resource`, on the authorization and the token requests):
    /// what oidc-provider and Keycloak's resource-indicator support need to
    /// issue a JWT for the API rather than an opaque token. Usually
    /// `auth.audience`.
    #[serde(default)]
    pub resource: Option<String>,
    /// The API the console's access token is for, as Auth0 names it
    /// (`audience`, on the authorization request): without it Auth0 issues
    /// an opaque token.
    #[serde(default)]
    pub audience: Option<String>,
    /// A file holding the key (at least 32 bytes) that signs the cookie of
    /// a sign-in under way. Replicas behind one address must share it.
    /// Unset: `console-cookie.key` under `data_dir`, created on first use.
    #[serde(default)]
    pub cookie_key_file: Option<PathBuf>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            discovery_url: None,
            client_id: default_console_client(),
            client_secret: None,
            public_url: None,
            scopes: default_console_scopes(),
            resource: None,
            audience: None,
            cookie_key_file: None,
        }
    }
}

fn default_console_client() -> String {
    "passerelle-console".into()
}
fn default_console_scopes() -> Vec<String> {
    vec!["openid".into()]
}

/// Where a token's claims carry scopes and the caller's OPCO and CFA
/// (`[auth.claims]`; read by `auth::claims`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClaimMap {
    /// The claims that carry scopes, each a name or a dotted path into
    /// nested objects (`resource_access.passerelle.roles`); each a
    /// space-separated string or an array of strings. The scopes of every
    /// claim present are granted.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Provider names of scopes or roles → Passerelle's scopes
    /// (`"passerelle-region-bi" = "region:bi"`). Names not listed are kept
    /// as they are.
    #[serde(default)]
    pub rename: std::collections::HashMap<String, String>,
    /// The claim naming the OPCO the caller acts for (a string or a
    /// number).
    #[serde(default = "default_opco")]
    pub opco: String,
    /// The claim naming the CFA the caller is (a UAI, or an array of one).
    #[serde(default = "default_cfa")]
    pub cfa: String,
}

fn default_scopes() -> Vec<String> {
    vec!["scope".into()]
}
fn default_opco() -> String {
    "opco".into()
}
fn default_cfa() -> String {
    "cfa".into()
}

impl Default for ClaimMap {
    fn default() -> Self {
        Self {
            scopes: default_scopes(),
            rename: std::collections::HashMap::new(),
            opco: default_opco(),
            cfa: default_cfa(),
        }
    }
}

/// How callers' JWT bearer tokens are checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The identity provider's JWKS. Unset in sandbox mode: the sandbox's
    /// own issuer (`passerelle dev-token`) signs the tokens then.
    #[serde(default)]
    pub jwks_url: Option<url::Url>,
    /// The issuer tokens must name (`iss`).
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// The audience tokens must name (`aud`).
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Clock skew tolerated on expiry and not-before.
    #[serde(default = "default_leeway", with = "humantime_serde")]
    pub leeway: std::time::Duration,
    /// Accepted signature algorithms.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// The least time between two fetches of the JWKS asked for by tokens
    /// naming a key not in it; such tokens are refused without fetching
    /// meanwhile.
    #[serde(default = "default_jwks_cooldown", with = "humantime_serde")]
    pub jwks_cooldown: std::time::Duration,
    /// The least time the JWKS is kept before fetching it again, whatever
    /// its `Cache-Control: max-age` says; also the wait after a failed fetch.
    #[serde(default = "default_jwks_refresh_min", with = "humantime_serde")]
    pub jwks_refresh_min: std::time::Duration,
    /// The most time the JWKS is kept before fetching it again: how late a
    /// key the identity provider withdraws may still be trusted.
    #[serde(default = "default_jwks_refresh_max", with = "humantime_serde")]
    pub jwks_refresh_max: std::time::Duration,
    /// How long the JWKS is kept when its answer has no `max-age`.
    #[serde(default = "default_jwks_refresh", with = "humantime_serde")]
    pub jwks_refresh_default: std::time::Duration,
    /// Which claims carry the caller's scopes (and under which names), its
    /// OPCO and its CFA: see the README's table for Keycloak, Entra ID and
    /// Auth0.
    #[serde(default)]
    pub claims: ClaimMap,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwks_url: None,
            issuer: default_issuer(),
            audience: default_audience(),
            leeway: default_leeway(),
            algorithms: default_algorithms(),
            jwks_cooldown: default_jwks_cooldown(),
            jwks_refresh_min: default_jwks_refresh_min(),
            jwks_refresh_max: default_jwks_refresh_max(),
            jwks_refresh_default: default_jwks_refresh(),
            claims: ClaimMap::default(),
        }
    }
}

impl AuthConfig {
    /// When the JWKS is fetched again.
    pub fn jwks_refresh(&self) -> JwksRefresh {
        JwksRefresh {
            cooldown: self.jwks_cooldown,
            min: self.jwks_refresh_min,
            max: self.jwks_refresh_max,
            default: self.jwks_refresh_default,
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        let inconsistent = |path, reason: &str| {
            Err(ConfigError::Inconsistent {
                path,
                reason: reason.into(),
            })
        };
        if self.jwks_cooldown.is_zero() {
            return inconsistent(
                "auth.jwks_cooldown",
                "must be more than zero: every token naming an unknown key would fetch the JWKS",
            );
        }
        if self.jwks_refresh_min.is_zero() || self.jwks_refresh_min > self.jwks_refresh_max {
            return inconsistent(
                "auth.jwks_refresh_min",
                "must be more than zero and at most auth.jwks_refresh_max",
            );
        }
        if !(self.jwks_refresh_min..=self.jwks_refresh_max).contains(&self.jwks_refresh_default) {
            return inconsistent(
                "auth.jwks_refresh_default",
                "must be between auth.jwks_refresh_min and auth.jwks_refresh_max",
            );
        }
        Ok(())
    }
}

/// When the identity provider's keys are fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksRefresh {
    /// The least time between two fetches asked for by tokens naming a key
    /// not in the set. Within it, such tokens are refused without fetching.
    pub cooldown: std::time::Duration,
    /// The least time the keys are kept, whatever the provider's
    /// `Cache-Control` says (`max-age=0`, `no-store`), and the time before
    /// trying again after a failed fetch.
    pub min: std::time::Duration,
    /// The most time the keys are kept, however long the provider says they
    /// may be: how late a withdrawn key may still be trusted.
    pub max: std::time::Duration,
    /// How long the keys are kept when the provider does not say.
    pub default: std::time::Duration,
}

impl Default for JwksRefresh {
    fn default() -> Self {
        Self {
            // A key the provider signs with before publishing it is picked
            // up that late at most; tokens naming random keys cost the
            // provider two fetches a minute per replica at most.
            cooldown: std::time::Duration::from_secs(30),
            // A provider answering `max-age=0` is not asked more often.
            min: std::time::Duration::from_secs(60),
            // A withdrawn key is trusted an hour at most, whatever the
            // provider's `max-age` (Google's says about six).
            max: std::time::Duration::from_secs(3600),
            // When the provider says nothing (Keycloak), five minutes:
            // 288 small fetches a day per replica.
            default: std::time::Duration::from_secs(300),
        }
    }
}

// The defaults are the validator's own, and say why.
fn default_jwks_cooldown() -> std::time::Duration {
    JwksRefresh::default().cooldown
}
fn default_jwks_refresh_min() -> std::time::Duration {
    JwksRefresh::default().min
}
fn default_jwks_refresh_max() -> std::time::Duration {
    JwksRefresh::default().max
}
fn default_jwks_refresh() -> std::time::Duration {
    JwksRefresh::default().default
}
fn default_issuer() -> String {
    "passerelle-sandbox".into()
}
fn default_audience() -> String {
    "passerelle".into()
}
fn default_leeway() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}
fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}

/// What the API exposes besides answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Whether the schema may be introspected (turn off in production).
    #[serde(default = "yes")]
    pub introspection: bool,
    /// Whether a browser gets GraphiQL at `/graphql`.
    #[serde(default = "yes")]
    pub graphiql: bool,
    /// The web origins allowed to call the API from a browser
    /// (`https://www.apprentissage-normandie.fr`); `*` for any.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// A manifest of trusted documents (JSON: SHA-256 hex → document);
    /// when set, only these documents run, sent whole or by hash.
    #[serde(default)]
    pub trusted_documents: Option<PathBuf>,
    /// How long a complete answer to a query is served again to the same
    /// request from callers who may see the same things, unless the data
    /// changes first; `0s` turns the response cache off.
    #[serde(default = "default_response_cache_ttl", with = "humantime_serde")]
    pub response_cache_ttl: std::time::Duration,
    /// The most bytes of answers the response cache keeps.
    #[serde(default = "default_response_cache_bytes")]
    pub response_cache_max_bytes: u64,
}

fn default_response_cache_ttl() -> std::time::Duration {
    std::time::Duration::from_secs(2)
}
fn default_response_cache_bytes() -> u64 {
    8 << 20
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            introspection: true,
            graphiql: true,
            cors_origins: Vec::new(),
            trusted_documents: None,
            response_cache_ttl: default_response_cache_ttl(),
            response_cache_max_bytes: default_response_cache_bytes(),
        }
    }
}

/// Where traces go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// The OTLP collector's endpoint traces are sent to; no traces when
    /// unset. Over gRPC, the collector's address (`http://collector:4317`);
    /// over HTTP, the full URL of its traces route
    /// (`http://collector:4318/v1/traces`).
    #[serde(default)]
    pub otlp_endpoint: Option<url::Url>,
    /// How traces reach the collector: `grpc` (the default) or
    /// `http/protobuf`.
    #[serde(default)]
    pub otlp_protocol: OtlpProtocol,
    /// The service name traces carry.
    #[serde(default = "default_service_name")]
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            otlp_protocol: OtlpProtocol::default(),
            service_name: default_service_name(),
        }
    }
}

/// The OTLP transports traces can be exported over, named as in the
/// OpenTelemetry specification (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OtlpProtocol {
    /// OTLP over gRPC, on a collector's port 4317.
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP as protobuf over HTTP, on a collector's port 4318.
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

fn default_service_name() -> String {
    "passerelle".into()
}

/// The sandbox's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// Whether to start the simulators and use them as the partners.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The simulators' data and ports.
    #[serde(flatten)]
    pub settings: SandboxSettings,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            settings: SandboxSettings::default(),
        }
    }
}

/// The `[[partners]]` tables as written: read by the registry, which knows
/// each kind's settings. Shown by their kinds alone, since they hold
/// secrets.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct PartnerTables(pub Vec<serde_json::Value>);

impl PartnerTables {
    /// Whether no partner is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many partners are configured.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Debug for PartnerTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .map(|t| t.get("kind").and_then(|k| k.as_str())),
            )
            .finish()
    }
}

/// Bounds on requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The most items one page of a connection may hold (`first`).
    #[serde(default = "default_max_page")]
    pub max_page_size: usize,
    /// The deepest a query may nest.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// The most fields one query may select, fragments included.
    #[serde(default = "default_max_complexity")]
    pub max_complexity: usize,
    /// The most aliases one document may use.
    #[serde(default = "default_max_aliases")]
    pub max_aliases: usize,
    /// The most root fields one operation may select.
    #[serde(default = "default_max_root_fields")]
    pub max_root_fields: usize,
    /// The most operations one batched request may hold.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// The most representations one operation may give `_entities`, in
    /// all: a router's entity fetch is a page, bounded as pages are.
    #[serde(default = "default_max_representations")]
    pub max_representations: usize,
    /// The most operations one document may define. The whole document is
    /// validated, whichever operation runs.
    #[serde(default = "default_max_operations")]
    pub max_operations: usize,
    /// The most variables one operation may declare.
    #[serde(default = "default_max_variables")]
    pub max_variables: usize,
    /// The most directives on one field, fragment, operation or variable.
    #[serde(default = "default_max_directives")]
    pub max_directives: usize,
    /// The most field selections a document makes with its fragments
    /// expanded where they are spread, over all its operations and
    /// fragments: what validating it costs. Counted before anything else
    /// reads the document, with each fragment counted once.
    #[serde(default = "default_max_selections")]
    pub max_selections: usize,
    /// Requests per second and burst, per client address for anonymous
    /// callers and per token subject for the others.
    #[serde(default)]
    pub rate: RateLimits,
    /// The largest request body, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// The largest allocation upload (`POST /ingest/allocations`), in
    /// bytes; uploads are streamed, so this bounds time, not memory.
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: usize,
    /// How long one GraphQL operation may take: partner calls made for it
    /// give up then, and the fields they feed are answered as failed.
    #[serde(default = "default_operation_timeout", with = "humantime_serde")]
    pub operation_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_page_size: default_max_page(),
            max_depth: default_max_depth(),
            max_complexity: default_max_complexity(),
            max_aliases: default_max_aliases(),
            max_root_fields: default_max_root_fields(),
            max_batch: default_max_batch(),
            max_representations: default_max_representations(),
            max_operations: default_max_operations(),
            max_variables: default_max_variables(),
            max_directives: default_max_directives(),
            max_selections: default_max_selections(),
            rate: RateLimits::default(),
            max_body_bytes: default_max_body(),
            max_upload_bytes: default_max_upload(),
            operation_timeout: default_operation_timeout(),
        }
    }
}

/// Requests allowed per caller.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Requests per second of an anonymous caller (by address).
    #[serde(default = "default_anonymous_rate")]
    pub anonymous_per_second: u32,
    /// Requests per second of a caller with a token (by subject).
    #[serde(default = "default_client_rate")]
    pub client_per_second: u32,
    /// Requests allowed at once above the rate.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            anonymous_per_second: default_anonymous_rate(),
            client_per_second: default_client_rate(),
            burst: default_burst(),
        }
    }
}

fn default_anonymous_rate() -> u32 {
    50
}
fn default_client_rate() -> u32 {
    500
}
fn default_burst() -> u32 {
    100
}

/// Log output settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text`, `json`, or `auto` (text on a terminal, JSON otherwise).
    #[serde(default)]
    pub format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

fn yes() -> bool {
    true
}
fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4000))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}
fn default_max_page() -> usize {
    1000
}
fn default_max_depth() -> usize {
    12
}
fn default_operation_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_max_representations() -> usize {
    default_max_page()
}
fn default_max_operations() -> usize {
    20
}
fn default_max_variables() -> usize {
    100
}
fn default_max_directives() -> usize {
    10
}
fn default_max_selections() -> usize {
    5000
}
fn default_max_complexity() -> usize {
    1000
}
fn default_max_aliases() -> usize {
    30
}
fn default_max_root_fields() -> usize {
    20
}
fn default_max_batch() -> usize {
    10
}
fn default_max_upload() -> usize {
    2 << 30
}

fn default_max_body() -> usize {
    1024 * 1024
}

/// Settings given on the command line, which win over file and environment.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// A configuration that cannot be used; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an environment variable does not fit the format.
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A partner's settings cannot be used.
    #[error("{0}")]
    Partner(#[from] passerelle_connectors::registry::ConfigureError),
    /// The settings contradict each other.
    #[error("at {path}: {reason}")]
    Inconsistent {
        /// The setting at fault.
        path: &'static str,
        /// Why.
        reason: String,
    },
    /// One entry of a list cannot be read.
    #[error("at {path}: {reason}")]
    Entry {
        /// The entry at fault, with its index (`server.trusted_proxies[2]`).
        path: String,
        /// Why.
        reason: String,
    },
}

/// The top-level keys of the configuration. Other `PASSERELLE_*` variables
/// (`PASSERELLE_CONFIG`, those Kubernetes sets for a service named
/// `passerelle`, test settings) are not configuration and are left alone.
const SECTIONS: [&str; 15] = [
    "listen",
    "data_dir",
    "store_url",
    "mappings_dir",
    "sandbox",
    "partners",
    "limits",
    "log",
    "telemetry",
    "api",
    "auth",
    "alerts",
    "subscriptions",
    "console",
    "server",
];

/// Whether an environment variable's key (prefix removed, levels split)
/// names a setting: its first level is one of [`SECTIONS`], in any case.
fn is_setting(key: &str) -> bool {
    let first = key.split('.').next().unwrap_or("");
    SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(first))
}

impl Config {
    /// Reads the configuration: defaults, then `file` (when given: TOML,
    /// or JSON when its name ends in `.json`, as the Helm chart writes it), then
    /// `PASSERELLE_*` environment variables (`__` separates levels:
    /// `PASSERELLE_SANDBOX__ENABLED=false`), then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_for(file, overrides, &Registry::standard())
    }

    /// [`Config::load`], the partners read by `registry`.
    pub fn load_for(
        file: Option<&Path>,
        overrides: &Overrides,
        registry: &Registry,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = if file.extension().is_some_and(|e| e == "json") {
                figment.merge(Json::file_exact(file))
            } else {
                figment.merge(Toml::file_exact(file))
            };
        }
        let config: Config = figment
            .merge(
                Env::prefixed("PASSERELLE_")
                    .split("__")
                    .filter(|key| is_setting(key.as_str())),
            )
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate(registry)?;
        Ok(config)
    }

    /// Parses a configuration from TOML text alone, for tests and checks.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate(&Registry::standard())?;
        Ok(config)
    }

    /// The configured partners' settings, each read by the partner of
    /// `registry` its `kind` names.
    pub fn partners(&self, registry: &Registry) -> Result<Vec<ConfiguredPartner>, ConfigError> {
        Ok(registry.configure(&self.partners.0)?)
    }

    fn validate(&self, registry: &Registry) -> Result<(), ConfigError> {
        if self.sandbox.enabled && !self.partners.is_empty() {
            return Err(ConfigError::Inconsistent {
                path: "partners",
                reason: "the sandbox configures its own partners; set sandbox.enabled = false to use real ones".into(),
            });
        }
        if !self.sandbox.enabled && self.partners.is_empty() {
            return Err(ConfigError::Inconsistent {
                path: "partners",
                reason: "no partner is configured and the sandbox is off".into(),
            });
        }
        self.partners(registry)?;
        self.auth.check()?;
        if self.limits.max_page_size == 0 {
            return Err(ConfigError::Inconsistent {
                path: "limits.max_page_size",
                reason: "must be at least 1".into(),
            });
        }
        self.server.validate(&self.limits, &self.subscriptions)?;
        // Outside the sandbox, the redirect URI the identity provider is
        // given must not come from a request's Host header.
        if !self.sandbox.enabled
            && self.console.enabled
            && self.console.discovery_url.is_some()
            && self.console.public_url.is_none()
        {
            return Err(ConfigError::Inconsistent {
                path: "console.public_url",
                reason: "signing in to the console needs the address browsers reach the gateway at (https://…)".into(),
            });
        }
        Ok(())
    }

    /// The store's URL, the default SQLite file when none is set.
    pub fn store_url(&self) -> String {
        self.store_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("passerelle.db").display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwks_schedule_is_read_and_its_bounds_checked() {
        let c = Config::from_toml(
            "[auth]\njwks_cooldown = \"10s\"\njwks_refresh_min = \"2m\"\njwks_refresh_max = \"30m\"\njwks_refresh_default = \"10m\"\n",
        )
        .unwrap();
        let refresh = c.auth.jwks_refresh();
        assert_eq!(refresh.cooldown, std::time::Duration::from_secs(10));
        assert_eq!(refresh.default, std::time::Duration::from_secs(600));
        assert_eq!(
            Config::from_toml("").unwrap().auth.jwks_refresh(),
            JwksRefresh::default()
        );
        for (bad, path) in [
            ("jwks_cooldown = \"0s\"", "auth.jwks_cooldown"),
            ("jwks_refresh_min = \"2h\"", "auth.jwks_refresh_min"),
            ("jwks_refresh_default = \"1d\"", "auth.jwks_refresh_default"),
        ] {
            let e = Config::from_toml(&format!("[auth]\n{bad}\n")).unwrap_err();
            assert!(e.to_string().contains(path), "{bad}: {e}");
        }
    }

    #[test]
    fn the_console_signs_in_at_a_public_address_outside_the_sandbox() {
        let real = "[sandbox]\nenabled = false\n[[partners]]\nkind = \"cma\"\nfeed_url = \"https://cma.example/offres.xml\"\n";
        let signing_in =
            "[console]\ndiscovery_url = \"https://sso.example/.well-known/openid-configuration\"\n";
        let e = Config::from_toml(&format!("{real}{signing_in}")).unwrap_err();
        assert!(e.to_string().contains("console.public_url"), "{e}");
        let with_address =
            format!("{real}{signing_in}public_url = \"https://passerelle.example\"\n");
        let c = Config::from_toml(&with_address).unwrap();
        assert_eq!(
            c.console.public_url.unwrap().as_str(),
            "https://passerelle.example/"
        );
    }

    #[test]
    fn no_file_means_the_sandbox_on_loopback() {
        let c = Config::from_toml("").unwrap();
        assert!(c.sandbox.enabled);
        assert_eq!(c.listen.to_string(), "127.0.0.1:4000");
        assert!(c.store_url().starts_with("sqlite://"));
    }

    #[test]
    fn errors_name_the_setting() {
        let e = Config::from_toml("listen = 4000").unwrap_err().to_string();
        assert!(e.contains("listen"), "{e}");
        let e = Config::from_toml("[sandbox]\nbase_prot = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("base_prot"), "{e}");
        let e = Config::from_toml("[sandbox]\nenabled = false")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("at partners:"), "{e}");
    }

    #[test]
    fn only_settings_are_read_from_the_environment() {
        for key in [
            "STORE_URL",
            "store_url",
            "SANDBOX.ENABLED",
            "limits.max_depth",
        ] {
            assert!(is_setting(key), "{key}");
        }
        for key in [
            "CONFIG",
            "TEST_POSTGRES_URL",
            "PORT",
            "SERVICE_HOST",
            "REQUIRE_POSTGRES",
        ] {
            assert!(!is_setting(key), "{key}");
        }
    }

    #[test]
    fn traces_go_over_grpc_unless_http_is_asked_for() {
        let c =
            Config::from_toml("[telemetry]\notlp_endpoint = \"http://collector:4317\"").unwrap();
        assert_eq!(c.telemetry.otlp_protocol, OtlpProtocol::Grpc);
        let c = Config::from_toml("[telemetry]\notlp_protocol = \"http/protobuf\"").unwrap();
        assert_eq!(c.telemetry.otlp_protocol, OtlpProtocol::HttpProtobuf);
        let e = Config::from_toml("[telemetry]\notlp_protocol = \"http/json\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("otlp_protocol") && e.contains("http/protobuf"),
            "{e}"
        );
    }

    #[test]
    fn unknown_partner_kinds_list_the_known_ones() {
        let e = Config::from_toml("[sandbox]\nenabled = false\n[[partners]]\nkind = \"opca\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cci") && e.contains("cma"), "{e}");
    }

    #[test]
    fn real_partners_are_read_with_their_secrets_hidden() {
        let c = Config::from_toml(
            r#"
            [sandbox]
            enabled = false
            [[partners]]
            kind = "cci"
            base_url = "https://api.cci.example/"
            cache_ttl = "2m"
            [partners.credentials]
            token_url = "https://auth.cci.example/token"
            client_id = "passerelle"
            client_secret = "s3cret"
            [[partners]]
            kind = "cma"
            feed_url = "https://cma.example/flux.xml"
            sync_interval = "6h"
            "#,
        )
        .unwrap();
        assert_eq!(c.partners.len(), 2);
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}

/// How new offers are detected and alerts delivered: `[alerts]`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// Whether this replica takes its turn detecting new offers (its
    /// subscribers still hear of the others' batches). Off, the live
    /// exchanges see no traffic of its own.
    #[serde(default = "default_detect")]
    pub detect: bool,
    /// How often the live exchanges are asked for new offers (a synced
    /// feed's new snapshot is read at once).
    #[serde(with = "humantime_serde", default = "default_poll")]
    pub poll_interval: std::time::Duration,
    /// How many entries a live subscriber's buffer holds (the results of a detection,
    /// ready together, take one); one that lets it fill is cut off.
    #[serde(default = "default_buffer")]
    pub subscriber_buffer: usize,
    /// The hour (UTC) daily digests are sent at, for the day before.
    #[serde(default = "default_digest_hour")]
    pub digest_hour_utc: u32,
    /// The first wait before a failed delivery is tried again; each wait
    /// doubles, with jitter.
    #[serde(with = "humantime_serde", default = "default_retry_base")]
    pub retry_base: std::time::Duration,
    /// The longest wait between two attempts.
    #[serde(with = "humantime_serde", default = "default_retry_max")]
    pub retry_max: std::time::Duration,
    /// How long a delivery is tried before it is dead-lettered.
    #[serde(with = "humantime_serde", default = "default_retry_for")]
    pub retry_for: std::time::Duration,
    /// How long a receiver has to answer.
    #[serde(with = "humantime_serde", default = "default_delivery_timeout")]
    pub delivery_timeout: std::time::Duration,
    /// Deliveries made at once by a replica.
    #[serde(default = "default_concurrency")]
    pub delivery_concurrency: usize,
    /// Networks webhooks may target although private, loopback or
    /// link-local (CIDR, `127.0.0.1/32`). Unset: none, except in the
    /// sandbox, which allows loopback for its own receiver.
    #[serde(default)]
    pub allow_private_targets: Option<Vec<String>>,
    /// The most saved alerts one client (token subject) keeps; a further
    /// `createOfferAlert` is refused with `TOO_MANY_ALERTS`.
    #[serde(default = "default_max_per_client")]
    pub max_per_client: usize,
}

fn default_detect() -> bool {
    true
}
fn default_poll() -> std::time::Duration {
    std::time::Duration::from_secs(300)
}
fn default_buffer() -> usize {
    64
}
fn default_digest_hour() -> u32 {
    7
}
fn default_retry_base() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_retry_max() -> std::time::Duration {
    std::time::Duration::from_secs(3600)
}
fn default_retry_for() -> std::time::Duration {
    std::time::Duration::from_secs(24 * 3600)
}
fn default_delivery_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_concurrency() -> usize {
    32
}
fn default_max_per_client() -> usize {
    100
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            detect: default_detect(),
            poll_interval: default_poll(),
            subscriber_buffer: default_buffer(),
            digest_hour_utc: default_digest_hour(),
            retry_base: default_retry_base(),
            retry_max: default_retry_max(),
            retry_for: default_retry_for(),
            delivery_timeout: default_delivery_timeout(),
            delivery_concurrency: default_concurrency(),
            allow_private_targets: None,
            max_per_client: default_max_per_client(),
        }
    }
}

/// Bounds on subscriptions: `[subscriptions]`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionLimits {
    /// How long a graphql-ws client has to send `connection_init`.
    #[serde(with = "humantime_serde", default = "default_init_timeout")]
    pub init_timeout: std::time::Duration,
    /// Subscriptions at once on one connection.
    #[serde(default = "default_per_connection")]
    pub per_connection: usize,
    /// Connections at once (graphql-ws and graphql-sse) from one address.
    #[serde(default = "default_per_address")]
    pub connections_per_address: usize,
    /// Interval of keep-alive pings (graphql-ws) and comments (SSE).
    #[serde(with = "humantime_serde", default = "default_keep_alive")]
    pub keep_alive: std::time::Duration,
    /// The most bytes of results a subscriber that does not read may have
    /// waiting; past them (or `[alerts] subscriber_buffer` entries) it is
    /// cut off and what it held is let go.
    #[serde(default = "default_buffer_bytes")]
    pub buffer_bytes: usize,
}

fn default_buffer_bytes() -> usize {
    1024 * 1024
}

fn default_init_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_per_connection() -> usize {
    20
}
fn default_per_address() -> usize {
    200
}
fn default_keep_alive() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}

impl Default for SubscriptionLimits {
    fn default() -> Self {
        Self {
            init_timeout: default_init_timeout(),
            per_connection: default_per_connection(),
            connections_per_address: default_per_address(),
            keep_alive: default_keep_alive(),
            buffer_bytes: default_buffer_bytes(),
        }
    }
}

/// The HTTP server: whose word is taken for a client's address, and how
/// long a connection may keep the gateway waiting: `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The networks of the proxies in front of the gateway (the ingress
    /// controller's pods), in CIDR notation (`10.42.0.0/16`, `fd00::/8`; a
    /// bare address is one host). A connection from one of them has its
    /// `client_address_header` read: the client is the rightmost address
    /// there that is not itself a trusted proxy. Empty: every client is the
    /// connection's peer, and forwarding headers are ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header the trusted proxies append the client's address to:
    /// `x-forwarded-for` (ingress-nginx, Traefik, HAProxy, cloud load
    /// balancers) or `forwarded` (RFC 7239). Only that one is read: a
    /// header the proxies pass through untouched is the client's to write.
    #[serde(default)]
    pub client_address_header: ClientAddressHeader,
    /// How long a client has to send a request's line and headers,
    /// counted from when its connection opened or its previous answer was
    /// sent: a connection that sends nothing or half a header is closed
    /// then, and so is a kept-alive one whose next request does not come.
    #[serde(default = "default_header_read_timeout", with = "humantime_serde")]
    pub header_read_timeout: std::time::Duration,
    /// The longest a request's body may stall between two chunks; a
    /// request whose body stalls longer is answered 408 and its connection
    /// closed. Uploads of any length are fine as long as bytes keep coming.
    #[serde(default = "default_body_read_timeout", with = "humantime_serde")]
    pub body_read_timeout: std::time::Duration,
    /// How long a connection may move no byte either way before it is
    /// closed: a stalled response, a WebSocket or event stream whose
    /// client is gone. Keep-alives count as traffic, so it must exceed
    /// `subscriptions.keep_alive`, and `limits.operation_timeout` so that
    /// an operation still running is not cut.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    pub idle_timeout: std::time::Duration,
    /// How long a write may wait for a client that reads nothing before
    /// the connection is closed: an event stream, a large answer or a
    /// WebSocket whose client stopped reading lets go of what it buffered
    /// then, rather than at the idle timeout.
    #[serde(default = "default_write_timeout", with = "humantime_serde")]
    pub write_timeout: std::time::Duration,
}

/// The header trusted proxies write the client's address in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ClientAddressHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    #[serde(rename = "forwarded")]
    Forwarded,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            client_address_header: ClientAddressHeader::default(),
            header_read_timeout: default_header_read_timeout(),
            body_read_timeout: default_body_read_timeout(),
            idle_timeout: default_idle_timeout(),
            write_timeout: default_write_timeout(),
        }
    }
}

fn default_header_read_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_body_read_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}
fn default_idle_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(75)
}
fn default_write_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}

impl ServerConfig {
    /// The trusted proxies' networks, each entry read as a network in CIDR
    /// notation or a single address.
    pub fn trusted_networks(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let n = n.trim();
                n.parse::<ipnet::IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ConfigError::Entry {
                        path: format!("server.trusted_proxies[{i}]"),
                        reason: format!(
                            "{n:?} is not a network in CIDR notation (10.42.0.0/16, fd00::/8) nor an address"
                        ),
                    })
            })
            .collect()
    }

    fn validate(
        &self,
        limits: &Limits,
        subscriptions: &SubscriptionLimits,
    ) -> Result<(), ConfigError> {
        self.trusted_networks()?;
        for (path, d) in [
            ("server.header_read_timeout", self.header_read_timeout),
            ("server.body_read_timeout", self.body_read_timeout),
            ("server.idle_timeout", self.idle_timeout),
            ("server.write_timeout", self.write_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::Inconsistent {
                    path,
                    reason: "must be longer than 0s".into(),
                });
            }
        }
        let longer_than = |other: &str, d: std::time::Duration, why: &str| {
            if self.idle_timeout > d {
                return Ok(());
            }
            Err(ConfigError::Inconsistent {
                path: "server.idle_timeout",
                reason: format!(
                    "{} must be longer than {other} ({}), {why}",
                    humantime::format_duration(self.idle_timeout),
                    humantime::format_duration(d)
                ),
            })
        };
        longer_than(
            "subscriptions.keep_alive",
            subscriptions.keep_alive,
            "or live subscriptions are cut between two keep-alives",
        )?;
        longer_than(
            "limits.operation_timeout",
            limits.operation_timeout,
            "or operations still running are cut",
        )
    }
}

#[cfg(test)]
mod server_tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        let c = Config::from_toml(
            "[server]\ntrusted_proxies = [\"10.42.0.0/16\", \"fd00::/8\", \"192.0.2.7\", \"10.1.2.3/8\"]",
        )
        .unwrap();
        let nets = c.server.trusted_networks().unwrap();
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["10.42.0.0/16", "fd00::/8", "192.0.2.7/32", "10.0.0.0/8"]
        );
    }

    #[test]
    fn a_malformed_trusted_proxy_is_refused_by_its_index() {
        for bad in ["10.0.0.0/33", "ingress-nginx", "fd00::/129", ""] {
            let toml = format!("[server]\ntrusted_proxies = [\"10.42.0.0/16\", {bad:?}]");
            let e = Config::from_toml(&toml).unwrap_err().to_string();
            assert!(e.starts_with("at server.trusted_proxies[1]: "), "{e}");
        }
    }

    #[test]
    fn the_idle_timeout_outlasts_keep_alives_and_operations() {
        let c = Config::from_toml("").unwrap();
        assert!(c.server.idle_timeout > c.subscriptions.keep_alive);
        assert!(c.server.idle_timeout > c.limits.operation_timeout);
        let e = Config::from_toml("[server]\nidle_timeout = \"30s\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("at server.idle_timeout:") && e.contains("subscriptions.keep_alive"),
            "{e}"
        );
        let e = Config::from_toml(
            "[server]\nidle_timeout = \"40s\"\n[limits]\noperation_timeout = \"1m\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("limits.operation_timeout"), "{e}");
        let e = Config::from_toml("[server]\nbody_read_timeout = \"0s\"")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("at server.body_read_timeout:"), "{e}");
        Config::from_toml(
            "[server]\nidle_timeout = \"2s\"\n[subscriptions]\nkeep_alive = \"1s\"\n[limits]\noperation_timeout = \"1s\"",
        )
        .unwrap();
    }

    #[test]
    fn the_client_address_header_is_one_of_two() {
        let c = Config::from_toml("[server]\nclient_address_header = \"forwarded\"").unwrap();
        assert_eq!(
            c.server.client_address_header,
            ClientAddressHeader::Forwarded
        );
        let e = Config::from_toml("[server]\nclient_address_header = \"x-real-ip\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x-forwarded-for"), "{e}");
    }
}
