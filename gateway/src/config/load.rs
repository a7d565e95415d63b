//! The configuration whole: read from its file, the environment and the
//! command line, then checked, with no IO.

use super::alerts::{AlertSettings, SubscriptionLimits};
use super::api::ApiConfig;
use super::auth::AuthConfig;
use super::console::ConsoleConfig;
use super::federation::FederationConfig;
use super::limits::Limits;
use super::partners::{PartnerTables, SandboxConfig};
use super::server::ServerConfig;
use super::telemetry::{LogConfig, TelemetryConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Json, Serialized, Toml};
use figment::Figment;
use passerelle_connectors::registry::ConfiguredPartner;
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

pub(super) fn yes() -> bool {
    true
}
fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4000))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
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
pub(super) fn is_setting(key: &str) -> bool {
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
    /// `registry` its `kind` names (the partners declared here among them:
    /// see [`Config::registry`]).
    pub fn partners(&self, registry: &Registry) -> Result<Vec<ConfiguredPartner>, ConfigError> {
        Ok(registry.configure(&self.partners.0)?)
    }

    /// `registry` and the partners this configuration declares
    /// (`kind = "declared"`), after them.
    pub fn registry(&self, registry: Registry) -> Result<Registry, ConfigError> {
        Ok(registry.declaring(&self.partners.0)?)
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
        self.partners(&self.registry(registry.clone())?)?;
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
