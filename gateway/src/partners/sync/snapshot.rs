//! How a synced feed holds its records in memory: a snapshot, replaced
//! whole after each sync that changed something, with the indexes derived
//! from it.

use std::sync::Arc;

use passerelle_mappings::Entity;

use crate::partners::derived::DerivedSet;
use crate::partners::packed::{PackedOffer, Packer};

/// How a synced feed holds its records in memory.
pub trait InMemory: Entity {
    /// A record as held in memory.
    type Record: Clone + std::fmt::Debug + Send + Sync + 'static;
    /// Where the records of one load or sync are written: the chunks packed
    /// offers share, nothing for records held whole.
    type Arena: Default + Send;
    /// The record as held in memory, written into `arena`.
    fn hold(self, arena: &mut Self::Arena) -> Self::Record;
    /// A held record's identifier at the partner.
    fn record_id(r: &Self::Record) -> &str;
}

/// Records held whole, shared.
macro_rules! held_whole {
    ($($entity:ty),*) => {$(
        impl InMemory for $entity {
            type Record = Arc<$entity>;
            type Arena = ();
            fn hold(self, _: &mut ()) -> Arc<$entity> {
                Arc::new(self)
            }
            fn record_id(r: &Arc<$entity>) -> &str {
                r.partner_id()
            }
        }
    )*};
}
held_whole!(
    passerelle_schema::Formation,
    passerelle_schema::Mobility,
    passerelle_schema::Event,
    passerelle_schema::OrientationSite
);

/// Offers are held packed: a feed may hold a hundred thousand of them.
impl InMemory for passerelle_schema::Offer {
    type Record = PackedOffer;
    type Arena = Packer;
    fn hold(self, packer: &mut Packer) -> PackedOffer {
        PackedOffer::pack(self, packer)
    }
    fn record_id(r: &PackedOffer) -> &str {
        r.partner_id()
    }
}

impl crate::partners::packed::PackedRecords for Snapshot<passerelle_schema::Offer> {
    fn record(&self, i: u32) -> &PackedOffer {
        &self.records[i as usize]
    }
}

/// The records of a feed as served, in identifier order.
#[derive(Debug)]
pub struct Snapshot<E: InMemory> {
    /// Bumped at every change, so derived caches can tell.
    pub version: u64,
    /// The sync whose records these are.
    pub(super) sync_id: Option<i64>,
    /// The records, ordered by their identifier at the partner.
    pub records: Vec<E::Record>,
    /// What is derived from these records (indexes), built at first use
    /// and dropped with them.
    derived: DerivedSet,
}

impl<E: InMemory> Snapshot<E> {
    /// A snapshot of `records`, which must be in identifier order.
    pub(super) fn new(version: u64, sync_id: Option<i64>, records: Vec<E::Record>) -> Self {
        debug_assert!(records
            .windows(2)
            .all(|w| E::record_id(&w[0]) <= E::record_id(&w[1])));
        Self {
            version,
            sync_id,
            records,
            derived: DerivedSet::default(),
        }
    }

    /// The value of type `T` derived from these records: built by `build`
    /// at the first call, the same for every later one while this snapshot
    /// is served (an index of its records, kept as long as they are).
    pub fn derived<T: std::any::Any + Send + Sync>(
        &self,
        build: impl FnOnce(&Self) -> T,
    ) -> Arc<T> {
        self.derived.get(|| build(self))
    }

    /// The record with this identifier at the partner: a binary search,
    /// since the records are in identifier order (no index to keep).
    pub fn get(&self, partner_id: &str) -> Option<&E::Record> {
        self.records
            .binary_search_by(|r| E::record_id(r).cmp(partner_id))
            .ok()
            .map(|i| &self.records[i])
    }
}
