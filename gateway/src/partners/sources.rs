//! Every configured partner's sources, by partner and entity: what the
//! services are built from, and what readiness, `partners`, the sandbox's
//! routes and the sizes loop over.

use std::sync::Arc;

use anyhow::Context as _;
use passerelle_connectors::source::{Employers, LiveMobility, LiveOffers, LivePublicCounts};
use passerelle_connectors::{Source, Synced};
use passerelle_mappings::EntityKind;
use passerelle_schema::{Event, Formation, Mobility, Offer, OrientationSite, Partner};

use crate::partners::health::Health;
use crate::partners::sync::{AnyFeed, InMemory, SyncedFeed};
use crate::store::Store;

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

/// What starting a synced feed needs: the store, the partners' health,
/// and where its sync task is kept.
pub struct Starter<'a> {
    /// The store.
    pub store: &'a Store,
    /// The partners' health.
    pub health: &'a Arc<Health>,
    /// The sync tasks.
    pub tasks: &'a mut Vec<tokio::task::JoinHandle<()>>,
}

impl Sources {
    /// Adds one of a partner's sources. A synced one is loaded from the
    /// store (pulled once when the store has none, so that the gateway
    /// opens with data) and its syncs are scheduled.
    pub async fn add(&mut self, source: Source, start: &mut Starter<'_>) -> anyhow::Result<()> {
        match source {
            Source::OfferFeed(feed, employers) => {
                let feed = self.start(feed, start).await?;
                self.offer_feeds.push((feed, employers));
            }
            Source::Formations(feed) => {
                let feed = self.start(feed, start).await?;
                self.formations.push(feed);
            }
            Source::MobilityFeed(feed) => {
                let feed = self.start(feed, start).await?;
                self.mobility_feeds.push(feed);
            }
            Source::Sites(feed) => {
                let feed = self.start(feed, start).await?;
                self.sites.push(feed);
            }
            Source::Events(feed) => {
                let feed = self.start(feed, start).await?;
                self.events.push(feed);
            }
            Source::LiveOffers(live) => {
                self.live.push((live.partner(), EntityKind::Offer));
                self.live_offers.push(live);
            }
            Source::LiveMobility(live) => {
                self.live.push((live.partner(), EntityKind::Mobility));
                self.live_mobility.push(live);
            }
            Source::PublicCounts(live) => {
                self.live.push((live.partner(), EntityKind::Offer));
                self.public_counts.push(live);
            }
        }
        Ok(())
    }

    /// Starts a synced feed and lists it among the synced feeds.
    async fn start<E: InMemory>(
        &mut self,
        synced: Synced<E>,
        start: &mut Starter<'_>,
    ) -> anyhow::Result<Arc<SyncedFeed<E>>> {
        let feed = Arc::new(SyncedFeed::of(
            synced.feed,
            start.store.clone(),
            start.health.clone(),
        ));
        let partner = feed.partner();
        let interval = synced.interval;
        let stored = feed
            .load()
            .await
            .with_context(|| format!("the {partner} feed could not be loaded from the store"))?;
        if stored == 0 {
            // Another replica may be pulling it: this one then waits for that
            // sync and loads its result.
            feed.sync_if_due(crate::partners::sync::fresh_for(interval))
                .await
                .with_context(|| format!("the first {partner} sync could not be stored"))?;
        } else {
            tracing::info!(partner = %partner, records = stored, "feed loaded from the store");
        }
        start.tasks.push(feed.clone().spawn(interval, stored == 0));
        self.synced
            .push((feed.clone() as Arc<dyn AnyFeed>, synced.directory));
        Ok(feed)
    }

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
