//! CNFPT — public-sector apprenticeship: a SOAP 1.1 web service behind HTTP
//! basic auth, with faults for errors. Live mode: answers cached.

mod client;
#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use secrecy::ExposeSecret;

pub use crate::source::PublicCounts;
pub use client::{CnfptConfig, CnfptConnector, CnfptOffers};

use crate::registry::{mapping, toml_table, Configured, Kind, MissingMapping, PartnerSpec};
use crate::source::Source;

/// The CNFPT's public-sector apprenticeship service.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cnfpt",
    api_name: "CNFPT",
    name: "CNFPT — apprentissage dans la fonction publique",
    about: "The CNFPT — public-sector apprenticeship.",
    mode: PartnerMode::Live,
});

/// The CNFPT's partner.
pub struct Cnfpt;

impl PartnerSpec for Cnfpt {
    type Config = CnfptConfig;
    const PARTNER: Partner = PARTNER;
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[(
        "cnfpt/offer.toml",
        include_str!("../../../mappings/cnfpt/offer.toml"),
    )];
}

/// The CNFPT's registration.
pub const KIND: Kind<Cnfpt> = Kind::new();

impl Configured for CnfptConfig {
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
