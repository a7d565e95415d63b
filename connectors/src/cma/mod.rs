//! CMA Normandie — offers of the craft sector: one full XML feed in
//! ISO-8859-1, with a namespace and `ETag`/`If-None-Match`. Synced mode: the
//! gateway pulls it on a schedule into its store and serves it from there.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use std::time::Duration;

use passerelle_mappings::Catalog;
use passerelle_schema::{Offer, Partner, PartnerInfo, PartnerMode};

use crate::feed::{FeedConfig, FeedConnector, FeedSpec};
use crate::registry::{Kind, MissingMapping};
use crate::source::{Employers, Source};

/// CMA Normandie's exchange of offers.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cma",
    api_name: "CMA",
    name: "CMA Normandie — offres de l'artisanat",
    about: "CMA Normandie — offers of the craft sector.",
    mode: PartnerMode::Synced,
});

/// The CMA's feed of offers.
pub struct Cma;

impl FeedSpec for Cma {
    type Entity = Offer;
    const PARTNER: Partner = PARTNER;
    const URL_KEY: &'static str = "feed_url";
    /// The CMA refreshes it a few times a day.
    const INTERVAL: Duration = Duration::from_secs(3600);
    /// It is a few megabytes…
    const TIMEOUT: Duration = Duration::from_secs(60);
    /// …and up to a hundred thousand offers.
    const STREAMED: bool = true;
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[(
        "cma/offer.toml",
        include_str!("../../../mappings/cma/offer.toml"),
    )];
    fn sources(config: &CmaConfig, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        Ok(vec![Source::OfferFeed(
            config.synced(catalog)?,
            Employers::Private,
        )])
    }
}

/// How to reach the CMA feed, and how often to pull it.
pub type CmaConfig = FeedConfig<Cma>;
/// The synced connector to the CMA feed.
pub type CmaConnector = FeedConnector<Cma>;
/// The CMA's registration.
pub const KIND: Kind<Cma> = Kind::new();
