//! Carif-Oref Normandie — the catalogue of apprenticeship programmes, one
//! LHÉO XML document with `ETag`. Synced mode.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use std::time::Duration;

use passerelle_mappings::Catalog;
use passerelle_schema::{Formation, Partner, PartnerInfo, PartnerMode};

use crate::feed::{FeedConfig, FeedConnector, FeedSpec};
use crate::registry::{Kind, MissingMapping};
use crate::source::Source;

/// The Carif-Oref's catalogue.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "carif",
    api_name: "CARIF",
    name: "Carif-Oref Normandie — catalogue des formations en apprentissage",
    about: "Carif-Oref Normandie — the training catalogue.",
    mode: PartnerMode::Synced,
});

/// The LHÉO catalogue.
pub struct Carif;

impl FeedSpec for Carif {
    type Entity = Formation;
    const PARTNER: Partner = PARTNER;
    const URL_KEY: &'static str = "feed_url";
    /// The catalogue changes daily at most.
    const INTERVAL: Duration = Duration::from_secs(6 * 3600);
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[(
        "carif/formation.toml",
        include_str!("../../../mappings/carif/formation.toml"),
    )];
    fn sources(config: &CarifConfig, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        Ok(vec![Source::Formations(config.synced(catalog)?)])
    }
}

/// How to reach the catalogue, and how often to pull it.
pub type CarifConfig = FeedConfig<Carif>;
/// The synced connector to the catalogue.
pub type CarifConnector = FeedConnector<Carif>;
/// The Carif-Oref's registration.
pub const KIND: Kind<Carif> = Kind::new();
