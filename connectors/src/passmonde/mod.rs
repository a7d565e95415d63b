//! Région Normandie — Pass Monde: mobility grants, a REST/JSON API behind an
//! API key, with page-number pagination. Live mode: filters pushed down,
//! answers cached.

mod client;
#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use secrecy::ExposeSecret;

pub use client::{PassMondeAnswer, PassMondeConfig, PassMondeConnector, PassMondeQuery};

use crate::registry::{mapping, toml_table, Configured, Kind, MissingMapping, PartnerSpec};
use crate::source::Source;

/// The Région's Pass Monde grants.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "passmonde",
    api_name: "PASS_MONDE",
    name: "Région Normandie — Pass Monde",
    about: "Région Normandie — Pass Monde grants.",
    mode: PartnerMode::Live,
});

/// Pass Monde's partner.
pub struct PassMonde;

impl PartnerSpec for PassMonde {
    type Config = PassMondeConfig;
    const PARTNER: Partner = PARTNER;
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[(
        "passmonde/mobility.toml",
        include_str!("../../../mappings/passmonde/mobility.toml"),
    )];
}

/// Pass Monde's registration.
pub const KIND: Kind<PassMonde> = Kind::new();

impl Configured for PassMondeConfig {
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
