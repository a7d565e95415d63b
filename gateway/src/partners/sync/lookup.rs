//! Every synced feed whatever its entity, and records looked up across
//! the feeds of one entity.

use std::sync::Arc;

use passerelle_schema::Partner;

use super::feed::SyncedFeed;
use super::snapshot::InMemory;
use crate::store::{StoreError, SyncRun};

/// A synced feed, whatever its entity: what the loops over every feed
/// (readiness, `partners`, the sandbox's sync route) read of it.
pub trait AnyFeed: Send + Sync {
    /// The partner.
    fn partner(&self) -> Partner;
    /// The entity its records are.
    fn entity(&self) -> passerelle_mappings::EntityKind;
    /// How many records it serves.
    fn records(&self) -> usize;
    /// Syncs it now.
    fn sync_once(&self) -> futures::future::BoxFuture<'_, Result<SyncRun, StoreError>>;
}

impl<E: InMemory> AnyFeed for SyncedFeed<E> {
    fn partner(&self) -> Partner {
        SyncedFeed::partner(self)
    }

    fn entity(&self) -> passerelle_mappings::EntityKind {
        E::KIND
    }

    fn records(&self) -> usize {
        self.snapshot().records.len()
    }

    fn sync_once(&self) -> futures::future::BoxFuture<'_, Result<SyncRun, StoreError>> {
        Box::pin(SyncedFeed::sync_once(self))
    }
}

/// The record with this identifier, from the first of `feeds` that has one.
pub fn record_of<E: InMemory>(feeds: &[Arc<SyncedFeed<E>>], partner_id: &str) -> Option<E::Record> {
    feeds
        .iter()
        .find_map(|feed| feed.snapshot().get(partner_id).cloned())
}

/// The record `partner_id` of `partner`'s feed among `feeds`.
pub fn record_at<E: InMemory>(
    feeds: &[Arc<SyncedFeed<E>>],
    partner: Partner,
    partner_id: &str,
) -> Option<E::Record> {
    feeds
        .iter()
        .filter(|feed| feed.partner() == partner)
        .find_map(|feed| feed.snapshot().get(partner_id).cloned())
}

/// The records of every feed of `feeds` that `keep` keeps, feed after feed.
pub fn records_of<E: InMemory>(
    feeds: &[Arc<SyncedFeed<E>>],
    keep: impl Fn(&E::Record) -> bool,
) -> Vec<E::Record> {
    let mut out = Vec::new();
    for feed in feeds {
        let snapshot = feed.snapshot();
        out.extend(snapshot.records.iter().filter(|r| keep(r)).cloned());
    }
    out
}
