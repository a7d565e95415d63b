//! The partner sandbox: every simulator, started together on loopback.
//!
//! `passerelle serve` with no configuration starts it in-process so that a
//! newcomer has a working gateway in one command; `passerelle sandbox` runs
//! it alone on fixed ports, for benchmarks and for trying a connector.

pub mod campaign;
pub mod cfas;
pub mod document;
pub mod faults;
pub mod generate;
pub mod mobility;
mod server;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use passerelle_schema::Partner;
use serde::Deserialize;

pub use faults::{FaultReport, FaultUpdate, Faults};
pub use generate::DatasetSettings;
pub use server::SimServer;

use crate::feed::{FeedConfig, FeedSpec};
use crate::registry::{Configured, ConfiguredPartner, Registry};

/// How the sandbox runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    /// The generated data.
    #[serde(default)]
    pub data: DatasetSettings,
    /// The address simulators listen on.
    #[serde(default = "default_host")]
    pub host: IpAddr,
    /// The first port: each simulator takes the next, in partner order
    /// (CCI, CMA, Carif-Oref, …).
    /// 0 picks free ports.
    #[serde(default)]
    pub base_port: u16,
    /// How long the simulated CCI's access tokens live.
    #[serde(default = "default_token_ttl", with = "humantime_serde")]
    pub cci_token_ttl: Duration,
    /// The resilience settings of every sandbox partner (the defaults when
    /// not given): chaos tests shorten the breaker's open time.
    #[serde(default)]
    pub resilience: crate::http::ResilienceSettings,
}

fn default_host() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

fn default_token_ttl() -> Duration {
    Duration::from_secs(3600)
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            data: DatasetSettings::default(),
            host: default_host(),
            base_port: 0,
            cci_token_ttl: default_token_ttl(),
            resilience: crate::http::ResilienceSettings::default(),
        }
    }
}

/// A partner's simulator: what the sandbox needs of a partner's folder.
pub trait Simulated: crate::registry::PartnerSpec {
    /// Its simulator's routes, serving the sandbox's data with `faults`.
    fn simulator(data: &SandboxData, faults: Faults) -> axum::Router;
    /// Its connection settings against its simulator at `base`.
    fn sandboxed(base: &url::Url, settings: &SandboxSettings) -> Self::Config;
}

/// The simulator of a partner whose data is one feed: the feed's path and
/// its routes; its settings against it are the feed's defaults at that
/// path.
pub trait FeedSimulator: FeedSpec {
    /// Where the simulator serves the feed.
    const PATH: &'static str;
    /// Its routes, serving the sandbox's data with `faults`.
    fn router(data: &SandboxData, faults: Faults) -> axum::Router;
}

impl<S: FeedSimulator> Simulated for S {
    fn simulator(data: &SandboxData, faults: Faults) -> axum::Router {
        S::router(data, faults)
    }

    fn sandboxed(base: &url::Url, settings: &SandboxSettings) -> FeedConfig<S> {
        let url = base
            .join(S::PATH)
            .expect("a simulator's path is a relative URL");
        let mut config = FeedConfig::new(url);
        config.resilience = settings.resilience.clone();
        config
    }
}

/// What the simulators serve, generated once from the settings: every
/// simulator reads the part it plays.
#[derive(Debug)]
pub struct SandboxData {
    /// The settings it was generated from.
    pub settings: SandboxSettings,
    /// The positions the offer exchanges publish.
    pub offers: generate::Dataset,
    /// Normandy's CFAs.
    pub cfas: Vec<cfas::Cfa>,
    /// Their programmes.
    pub programmes: Vec<cfas::Programme>,
    /// Their Erasmus+ activities.
    pub erasmus: Vec<mobility::ErasmusActivity>,
    /// Their apprentices' Pass Monde grants.
    pub grants: Vec<mobility::PassMondeGrant>,
}

impl SandboxData {
    /// Generates the data of `settings`; the same settings give the same
    /// data.
    pub fn generate(settings: &SandboxSettings) -> Self {
        let data = &settings.data;
        let cfas = cfas::cfas(data);
        Self {
            settings: settings.clone(),
            offers: generate::dataset(data),
            programmes: cfas::programmes(data, &cfas),
            erasmus: mobility::erasmus(data, &cfas),
            grants: mobility::pass_monde(data, &cfas),
            cfas,
        }
    }
}

/// One running simulator and its fault knobs.
#[derive(Debug)]
pub struct Simulator {
    /// The partner it plays.
    pub partner: Partner,
    /// Its server.
    pub server: SimServer,
    /// Its faults.
    pub faults: Faults,
    /// The partner's connection settings against it.
    pub configured: Arc<dyn Configured>,
}

/// Every simulator, running. Dropping it stops them.
#[derive(Debug)]
pub struct Sandbox {
    simulators: Vec<Simulator>,
}

impl Sandbox {
    /// Generates the data and starts the simulator of every partner of
    /// `registry`, each on the next port, in the registry's order.
    pub async fn start(settings: &SandboxSettings, registry: &Registry) -> std::io::Result<Self> {
        let data = SandboxData::generate(settings);
        let port = |offset: u16| {
            let p = if settings.base_port == 0 {
                0
            } else {
                settings.base_port + offset
            };
            SocketAddr::new(settings.host, p)
        };
        let mut simulators = Vec::new();
        for (offset, kind) in registry.kinds().enumerate() {
            let partner = kind.partner();
            let faults = Faults::default();
            let router = kind.simulator(&data, faults.clone());
            let server = SimServer::start(port(offset as u16), router).await?;
            tracing::info!(partner = %partner, addr = %server.addr(), "simulator started");
            let configured = kind.sandboxed(&server.base_url(), settings);
            simulators.push(Simulator {
                partner,
                server,
                faults,
                configured,
            });
        }
        Ok(Self { simulators })
    }

    /// The simulator of a partner.
    pub fn simulator(&self, partner: Partner) -> Option<&Simulator> {
        self.simulators.iter().find(|s| s.partner == partner)
    }

    /// Every simulator.
    pub fn simulators(&self) -> &[Simulator] {
        &self.simulators
    }

    /// Every partner's connection settings against its simulator.
    pub fn configured(&self) -> Vec<ConfiguredPartner> {
        self.simulators
            .iter()
            .map(|s| ConfiguredPartner {
                partner: s.partner,
                settings: s.configured.clone(),
            })
            .collect()
    }

    /// One of a partner's settings against its simulator, by its path in
    /// the partner's table (`feed_url`, `credentials.token_url`).
    pub fn setting(&self, partner: Partner, path: &str) -> Option<String> {
        let table = self.simulator(partner)?.configured.table();
        let mut value = None::<&toml::Value>;
        for key in path.split('.') {
            value = match value {
                None => table.get(key),
                Some(v) => v.get(key),
            };
        }
        value?.as_str().map(str::to_owned)
    }

    /// A gateway configuration whose partners are these simulators, with
    /// their own credentials.
    pub fn partners_toml(&self) -> String {
        let mut out = String::from(
            "# The partners of a standalone `passerelle sandbox`.\n[sandbox]\nenabled = false\n",
        );
        for s in &self.simulators {
            let mut table = toml::Table::new();
            table.insert("kind".into(), toml::Value::String(s.partner.id().into()));
            table.extend(s.configured.table());
            let mut doc = toml::Table::new();
            doc.insert(
                "partners".into(),
                toml::Value::Array(vec![toml::Value::Table(table)]),
            );
            out.push('\n');
            out.push_str(&toml::to_string(&doc).expect("a table of strings is TOML"));
        }
        out
    }
}
