//! CCI Normandie — bourse de l'apprentissage: a REST/JSON API behind OAuth2
//! client credentials, with cursor pagination and filters. Live mode: the
//! gateway's filters are pushed down and answers are cached.

mod client;
mod config;
#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;
pub mod wire;

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use secrecy::ExposeSecret;

pub use client::{CciAnswer, CciConnector, CciQuery};
pub use config::CciConfig;

use crate::registry::{mapping, toml_table, Configured, Kind, MissingMapping, PartnerSpec};
use crate::source::Source;

/// CCI Normandie's exchange of offers.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cci",
    api_name: "CCI",
    name: "CCI Normandie — bourse de l'apprentissage",
    about: "CCI Normandie — bourse de l'apprentissage.",
    mode: PartnerMode::Live,
});

/// The CCI's partner.
pub struct Cci;

impl PartnerSpec for Cci {
    type Config = CciConfig;
    const PARTNER: Partner = PARTNER;
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[(
        "cci/offer.toml",
        include_str!("../../../mappings/cci/offer.toml"),
    )];
}

/// The CCI's registration.
pub const KIND: Kind<Cci> = Kind::new();

impl Configured for CciConfig {
    fn table(&self) -> toml::Table {
        let c = &self.credentials;
        let credentials = toml_table([
            ("token_url", c.token_url.as_str().into()),
            ("client_id", c.client_id.as_str().into()),
            ("client_secret", c.client_secret.expose_secret().into()),
            ("scopes", c.scopes.clone().into()),
        ]);
        toml_table([
            ("base_url", self.base_url.as_str().into()),
            ("credentials", credentials.into()),
        ])
    }

    fn sources(&self, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        let mapping = mapping(catalog, PARTNER, EntityKind::Offer)?;
        let connector = Arc::new(CciConnector::new(self.clone(), mapping));
        Ok(vec![Source::LiveOffers(connector)])
    }
}
