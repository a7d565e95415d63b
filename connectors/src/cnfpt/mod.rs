//! CNFPT — public-sector apprenticeship: a SOAP 1.1 web service behind HTTP
//! basic auth, with faults for errors. Live mode: answers cached.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use secrecy::{ExposeSecret, SecretString};

pub use crate::source::PublicCounts;
pub use client::{CnfptConfig, CnfptConnector, CnfptOffers};

use crate::registry::{mapping, read, toml_table, Configured, MissingMapping, PartnerKind, Table};
use crate::sandbox::{Faults, SandboxData, SandboxSettings};
use crate::source::Source;

/// The CNFPT's public-sector apprenticeship service.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cnfpt",
    api_name: "CNFPT",
    name: "CNFPT — apprentissage dans la fonction publique",
    about: "The CNFPT — public-sector apprenticeship.",
    mode: PartnerMode::Live,
});

/// The CNFPT's registration.
pub struct Kind;

/// The CNFPT's registration.
pub const KIND: Kind = Kind;

impl PartnerKind for Kind {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn mappings(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "cnfpt/offer.toml",
            include_str!("../../../mappings/cnfpt/offer.toml"),
        )]
    }

    fn configure(&self, table: Table) -> Result<Arc<dyn Configured>, serde_json::Error> {
        Ok(Arc::new(read::<CnfptConfig>(table)?))
    }

    fn simulator(&self, data: &SandboxData, faults: Faults) -> axum::Router {
        simulator::router(&data.settings.data, faults)
    }

    fn sandboxed(&self, base: &url::Url, settings: &SandboxSettings) -> Arc<dyn Configured> {
        let mut config = CnfptConfig::new(
            base.join(simulator::PATH).expect("a relative path"),
            simulator::USERNAME.into(),
            SecretString::from(simulator::PASSWORD),
        );
        config.resilience = settings.resilience.clone();
        Arc::new(config)
    }
}

impl Configured for CnfptConfig {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn table(&self) -> toml::Table {
        toml_table([
            ("endpoint", self.endpoint.as_str().into()),
            ("username", self.username.as_str().into()),
            ("password", self.password.expose_secret().into()),
        ])
    }

    /// Its offers, and the counts of the public sector's apprentices.
    fn sources(&self, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        let mapping = mapping(catalog, PARTNER, EntityKind::Offer)?;
        let connector = Arc::new(CnfptConnector::new(self.clone(), mapping));
        Ok(vec![
            Source::LiveOffers(connector.clone()),
            Source::PublicCounts(connector),
        ])
    }
}
