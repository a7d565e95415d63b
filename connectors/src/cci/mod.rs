//! CCI Normandie — bourse de l'apprentissage: a REST/JSON API behind OAuth2
//! client credentials, with cursor pagination and filters. Live mode: the
//! gateway's filters are pushed down and answers are cached.

mod client;
mod config;
pub mod simulator;
#[cfg(test)]
mod tests;
pub mod wire;

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use secrecy::{ExposeSecret, SecretString};

pub use client::{CciAnswer, CciConnector, CciQuery};
pub use config::CciConfig;

use crate::http::ClientCredentials;
use crate::registry::{mapping, read, toml_table, Configured, MissingMapping, PartnerKind, Table};
use crate::sandbox::{Faults, SandboxData, SandboxSettings};
use crate::source::Source;

/// CCI Normandie's exchange of offers.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cci",
    api_name: "CCI",
    name: "CCI Normandie — bourse de l'apprentissage",
    about: "CCI Normandie — bourse de l'apprentissage.",
    mode: PartnerMode::Live,
});

/// The CCI's registration.
pub struct Kind;

/// The CCI's registration.
pub const KIND: Kind = Kind;

impl PartnerKind for Kind {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn mappings(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "cci/offer.toml",
            include_str!("../../../mappings/cci/offer.toml"),
        )]
    }

    fn configure(&self, table: Table) -> Result<Arc<dyn Configured>, serde_json::Error> {
        Ok(Arc::new(read::<CciConfig>(table)?))
    }

    fn simulator(&self, data: &SandboxData, faults: Faults) -> axum::Router {
        simulator::router(&data.offers.cci, data.settings.cci_token_ttl, faults)
    }

    fn sandboxed(&self, base: &url::Url, settings: &SandboxSettings) -> Arc<dyn Configured> {
        let credentials = ClientCredentials {
            token_url: base.join("oauth/token").expect("a relative path"),
            client_id: simulator::CLIENT_ID.into(),
            client_secret: SecretString::from(simulator::CLIENT_SECRET),
            scopes: vec!["offres:lecture".into()],
        };
        let mut config = CciConfig::new(base.clone(), credentials);
        config.resilience = settings.resilience.clone();
        Arc::new(config)
    }
}

impl Configured for CciConfig {
    fn partner(&self) -> Partner {
        PARTNER
    }

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
