//! Erasmus+ — the Beneficiary Module's CSV export of the mobility
//! activities of Normandy CFAs' projects. Synced mode.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use std::time::Duration;

use passerelle_mappings::Catalog;
use passerelle_schema::{Mobility, Partner, PartnerInfo, PartnerMode};

use crate::feed::{FeedConfig, FeedConnector, FeedSpec};
use crate::registry::{Kind, MissingMapping};
use crate::source::Source;

/// The Erasmus+ export of Normandy CFAs' mobilities.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "erasmus",
    api_name: "ERASMUS",
    name: "Erasmus+ — mobilités des apprentis des CFA normands",
    about: "Erasmus+ — mobilities of Normandy CFAs' apprentices.",
    mode: PartnerMode::Synced,
});

/// The Beneficiary Module's export.
pub struct Erasmus;

impl FeedSpec for Erasmus {
    type Entity = Mobility;
    const PARTNER: Partner = PARTNER;
    const URL_KEY: &'static str = "export_url";
    /// Exports are refreshed daily at most.
    const INTERVAL: Duration = Duration::from_secs(24 * 3600);
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[(
        "erasmus/mobility.toml",
        include_str!("../../../mappings/erasmus/mobility.toml"),
    )];
    fn sources(config: &ErasmusConfig, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        Ok(vec![Source::MobilityFeed(config.synced(catalog)?)])
    }
}

/// Where the export is published, and how often to pull it.
pub type ErasmusConfig = FeedConfig<Erasmus>;
/// The synced connector to the export.
pub type ErasmusConnector = FeedConnector<Erasmus>;
/// The Erasmus+ registration.
pub const KIND: Kind<Erasmus> = Kind::new();
