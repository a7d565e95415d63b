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
use std::time::Duration;

use passerelle_schema::Partner;
use secrecy::SecretString;
use serde::Deserialize;

pub use faults::{FaultReport, FaultUpdate, Faults};
pub use generate::DatasetSettings;
pub use server::SimServer;

use crate::carif::{self, CarifConfig};
use crate::cci::{self, CciConfig};
use crate::cma::{self, CmaConfig};
use crate::cnfpt::{self, CnfptConfig};
use crate::erasmus::{self, ErasmusConfig};
use crate::http::ClientCredentials;
use crate::passmonde::{self, PassMondeConfig};
use crate::spro::{self, SproConfig};

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

/// One running simulator and its fault knobs.
#[derive(Debug)]
pub struct Simulator {
    /// The partner it plays.
    pub partner: Partner,
    /// Its server.
    pub server: SimServer,
    /// Its faults.
    pub faults: Faults,
}

/// Every simulator, running. Dropping it stops them.
#[derive(Debug)]
pub struct Sandbox {
    simulators: Vec<Simulator>,
    resilience: crate::http::ResilienceSettings,
}

impl Sandbox {
    /// Generates the data and starts every simulator.
    pub async fn start(settings: &SandboxSettings) -> std::io::Result<Self> {
        let data = generate::dataset(&settings.data);
        let cfas = cfas::cfas(&settings.data);
        let programmes = cfas::programmes(&settings.data, &cfas);
        let erasmus_activities = mobility::erasmus(&settings.data, &cfas);
        let grants = mobility::pass_monde(&settings.data, &cfas);
        let port = |offset: u16| {
            let p = if settings.base_port == 0 {
                0
            } else {
                settings.base_port + offset
            };
            SocketAddr::new(settings.host, p)
        };
        let mut simulators = Vec::new();
        for (offset, partner) in Partner::ALL.into_iter().enumerate() {
            let faults = Faults::default();
            let router = match partner {
                Partner::Cci => {
                    cci::simulator::router(&data.cci, settings.cci_token_ttl, faults.clone())
                }
                Partner::Cma => cma::simulator::router(&data.cma, faults.clone()),
                Partner::Carif => carif::simulator::router(&cfas, &programmes, faults.clone()),
                Partner::Erasmus => {
                    erasmus::simulator::router(&cfas, &erasmus_activities, faults.clone())
                }
                Partner::PassMonde => passmonde::simulator::router(&cfas, &grants, faults.clone()),
                Partner::Spro => spro::simulator::router(&cfas, &settings.data, faults.clone()),
                Partner::Cnfpt => cnfpt::simulator::router(&settings.data, faults.clone()),
            };
            let server = SimServer::start(port(offset as u16), router).await?;
            tracing::info!(partner = %partner, addr = %server.addr(), "simulator started");
            simulators.push(Simulator {
                partner,
                server,
                faults,
            });
        }
        Ok(Self {
            simulators,
            resilience: settings.resilience.clone(),
        })
    }

    /// The simulator of a partner.
    pub fn simulator(&self, partner: Partner) -> Option<&Simulator> {
        self.simulators.iter().find(|s| s.partner == partner)
    }

    /// Every simulator.
    pub fn simulators(&self) -> &[Simulator] {
        &self.simulators
    }

    /// The CCI connector's configuration for this sandbox.
    pub fn cci_config(&self) -> Option<CciConfig> {
        let base = self.simulator(Partner::Cci)?.server.base_url();
        let credentials = ClientCredentials {
            token_url: base.join("oauth/token").ok()?,
            client_id: cci::simulator::CLIENT_ID.into(),
            client_secret: SecretString::from(cci::simulator::CLIENT_SECRET),
            scopes: vec!["offres:lecture".into()],
        };
        let mut config = CciConfig::new(base, credentials);
        config.resilience = self.resilience.clone();
        Some(config)
    }

    /// The Carif-Oref connector's configuration for this sandbox.
    pub fn carif_config(&self) -> Option<CarifConfig> {
        let base = self.simulator(Partner::Carif)?.server.base_url();
        let mut config = CarifConfig::new(base.join(carif::simulator::FEED_PATH).ok()?);
        config.resilience = self.resilience.clone();
        Some(config)
    }

    /// The Erasmus+ connector's configuration for this sandbox.
    pub fn erasmus_config(&self) -> Option<ErasmusConfig> {
        let base = self.simulator(Partner::Erasmus)?.server.base_url();
        let mut config = ErasmusConfig::new(base.join(erasmus::simulator::EXPORT_PATH).ok()?);
        config.resilience = self.resilience.clone();
        Some(config)
    }

    /// The Pass Monde connector's configuration for this sandbox.
    pub fn pass_monde_config(&self) -> Option<PassMondeConfig> {
        let base = self.simulator(Partner::PassMonde)?.server.base_url();
        {
            let mut config =
                PassMondeConfig::new(base, SecretString::from(passmonde::simulator::API_KEY));
            config.resilience = self.resilience.clone();
            Some(config)
        }
    }

    /// The SPRO connectors' configuration for this sandbox.
    pub fn spro_config(&self) -> Option<SproConfig> {
        let base = self.simulator(Partner::Spro)?.server.base_url();
        let mut config = SproConfig::new(base.join(spro::simulator::DIRECTORY_PATH).ok()?);
        config.resilience = self.resilience.clone();
        Some(config)
    }

    /// The CNFPT connector's configuration for this sandbox.
    pub fn cnfpt_config(&self) -> Option<CnfptConfig> {
        let base = self.simulator(Partner::Cnfpt)?.server.base_url();
        let mut config = CnfptConfig::new(
            base.join(cnfpt::simulator::PATH).ok()?,
            cnfpt::simulator::USERNAME.into(),
            SecretString::from(cnfpt::simulator::PASSWORD),
        );
        config.resilience = self.resilience.clone();
        Some(config)
    }

    /// The CMA connector's configuration for this sandbox.
    pub fn cma_config(&self) -> Option<CmaConfig> {
        let base = self.simulator(Partner::Cma)?.server.base_url();
        let mut config = CmaConfig::new(base.join(cma::simulator::FEED_PATH).ok()?);
        config.resilience = self.resilience.clone();
        Some(config)
    }
}
