//! Région Normandie — Pass Monde: mobility grants, a REST/JSON API behind an
//! API key, with page-number pagination. Live mode: filters pushed down,
//! answers cached.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use secrecy::{ExposeSecret, SecretString};

pub use client::{PassMondeAnswer, PassMondeConfig, PassMondeConnector, PassMondeQuery};

use crate::registry::{mapping, read, toml_table, Configured, MissingMapping, PartnerKind, Table};
use crate::sandbox::{Faults, SandboxData, SandboxSettings};
use crate::source::Source;

/// The Région's Pass Monde grants.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "passmonde",
    api_name: "PASS_MONDE",
    name: "Région Normandie — Pass Monde",
    about: "Région Normandie — Pass Monde grants.",
    mode: PartnerMode::Live,
});

/// Pass Monde's registration.
pub struct Kind;

/// Pass Monde's registration.
pub const KIND: Kind = Kind;

impl PartnerKind for Kind {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn mappings(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "passmonde/mobility.toml",
            include_str!("../../../mappings/passmonde/mobility.toml"),
        )]
    }

    fn configure(&self, table: Table) -> Result<Arc<dyn Configured>, serde_json::Error> {
        Ok(Arc::new(read::<PassMondeConfig>(table)?))
    }

    fn simulator(&self, data: &SandboxData, faults: Faults) -> axum::Router {
        simulator::router(&data.cfas, &data.grants, faults)
    }

    fn sandboxed(&self, base: &url::Url, settings: &SandboxSettings) -> Arc<dyn Configured> {
        let mut config = PassMondeConfig::new(base.clone(), SecretString::from(simulator::API_KEY));
        config.resilience = settings.resilience.clone();
        Arc::new(config)
    }
}

impl Configured for PassMondeConfig {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn table(&self) -> toml::Table {
        toml_table([
            ("base_url", self.base_url.as_str().into()),
            ("api_key", self.api_key.expose_secret().into()),
        ])
    }

    fn sources(&self, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        let mapping = mapping(catalog, PARTNER, EntityKind::Mobility)?;
        let connector = Arc::new(PassMondeConnector::new(self.clone(), mapping));
        Ok(vec![Source::LiveMobility(connector)])
    }
}
