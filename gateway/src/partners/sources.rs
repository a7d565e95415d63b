//! Every configured partner's sources, by partner and entity: what the
//! services are built from, and what readiness, `partners`, the sandbox's
//! routes and the sizes loop over.

use std::sync::Arc;

use passerelle_connectors::source::{Employers, LiveMobility, LiveOffers, LivePublicCounts};
use passerelle_mappings::EntityKind;
use passerelle_schema::{Event, Formation, Mobility, Offer, OrientationSite, Partner};

use crate::partners::sync::{AnyFeed, SyncedFeed};

/// Every configured partner's sources.
#[derive(Default)]
pub struct Sources {
    /// The configured partners, in the registry's order.
    pub partners: Vec<Partner>,
    /// Every synced feed, and whether it is its partner's directory.
    pub synced: Vec<(Arc<dyn AnyFeed>, bool)>,
    /// Every source asked live, by partner and entity.
    pub live: Vec<(Partner, EntityKind)>,
    /// The feeds of offers, and whose offers each publishes.
    pub offer_feeds: Vec<(Arc<SyncedFeed<Offer>>, Employers)>,
    /// The exchanges of offers asked live.
    pub live_offers: Vec<Arc<dyn LiveOffers>>,
    /// The training catalogues.
    pub formations: Vec<Arc<SyncedFeed<Formation>>>,
    /// The feeds of mobilities.
    pub mobility_feeds: Vec<Arc<SyncedFeed<Mobility>>>,
    /// The mobility systems asked live.
    pub live_mobility: Vec<Arc<dyn LiveMobility>>,
    /// The directories of orientation sites.
    pub sites: Vec<Arc<SyncedFeed<OrientationSite>>>,
    /// The feeds of events.
    pub events: Vec<Arc<SyncedFeed<Event>>>,
    /// The counts of the public sector's apprentices.
    pub public_counts: Vec<Arc<dyn LivePublicCounts>>,
}

/// A synced feed, for health and readiness: its partner, entity and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedSize {
    /// The partner.
    pub partner: Partner,
    /// The entity its records are.
    pub entity: EntityKind,
    /// Records served.
    pub records: usize,
}

impl Sources {
    /// The size of every feed that serves its partner's records (not the
    /// directories they refer to).
    pub fn sizes(&self) -> Vec<FeedSize> {
        self.synced
            .iter()
            .filter(|(_, directory)| !directory)
            .map(|(f, _)| FeedSize {
                partner: f.partner(),
                entity: f.entity(),
                records: f.records(),
            })
            .collect()
    }

    /// Whether `partner` is asked live for something.
    pub fn is_live(&self, partner: Partner) -> bool {
        self.live.iter().any(|(p, _)| *p == partner)
    }

    /// The synced feeds of `partner`, directories included.
    pub fn feeds_of(&self, partner: Partner) -> impl Iterator<Item = &Arc<dyn AnyFeed>> {
        self.synced
            .iter()
            .filter(move |(f, _)| f.partner() == partner)
            .map(|(f, _)| f)
    }
}
