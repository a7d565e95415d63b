//! The sandbox running: the data its simulators serve, generated once, and
//! every simulator on its port.

use std::net::SocketAddr;
use std::sync::Arc;

use passerelle_schema::Partner;

use super::faults::Faults;
use super::server::SimServer;
use super::settings::SandboxSettings;
use super::{cfas, generate, mobility};
use crate::registry::{Configured, ConfiguredPartner, Registry};

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
            // A partner declared in configuration has no simulator.
            let Some(router) = kind.simulator(&data, faults.clone()) else {
                continue;
            };
            let server = SimServer::start(port(offset as u16), router).await?;
            tracing::info!(partner = %partner, addr = %server.addr(), "simulator started");
            let configured = kind
                .sandboxed(&server.base_url(), settings)
                .expect("a simulated partner has its settings against its simulator");
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
