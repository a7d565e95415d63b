//! The records of the synced feeds indexed for searches: by a hash of their
//! identity (to merge copies of one position) and by feed and position.

use std::sync::Arc;

use passerelle_connectors::source::Employers;
use passerelle_schema::Offer;

use super::filter::OfferFilter;
use super::service::OfferFeed;
use crate::partners::packed::{DatedPosition, PackedOffer, PackedRecords};
use crate::partners::sync::Snapshot;

/// The identity of the inputs of a merge, so that a merge is done once per
/// set of inputs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct MergeKey {
    pub(super) filter: OfferFilter,
    /// The version of each feed's snapshot read, 0 for a feed not read.
    pub(super) feed_versions: Vec<u64>,
    /// The address of each live exchange's answer used (answers are shared
    /// and immutable while cached), 0 for none.
    pub(super) answers: Vec<usize>,
}

/// Where a packed record's position keeps the rank of its feed among the
/// feeds a search read: a feed holds fewer than 2²⁷ records.
pub(super) const FEED_SHIFT: u32 = 27;
pub(super) const POSITION_MASK: u32 = (1 << FEED_SHIFT) - 1;

/// The records of several feeds, named by position and feed rank.
#[derive(Debug)]
pub(super) struct SeveralFeeds(pub(super) Vec<Arc<Snapshot<Offer>>>);

impl PackedRecords for SeveralFeeds {
    fn record(&self, at: u32) -> &PackedOffer {
        &self.0[(at >> FEED_SHIFT) as usize].records[(at & POSITION_MASK) as usize]
    }
}

/// A feed of offers, and its records indexed for searches.
pub(super) struct IndexedFeed {
    pub(super) feed: Arc<OfferFeed>,
    pub(super) employers: Employers,
    /// The index, for the snapshot version it was built from.
    pub(super) index: std::sync::Mutex<Option<(u64, Arc<FeedIndex>)>>,
}

/// A synced feed's offers indexed for searches, so that a search reads
/// the records it may return rather than the whole feed. Records are named
/// by their position in the snapshot.
#[derive(Default)]
pub(super) struct FeedIndex {
    /// By département code, each list ordered by diploma level (0 for
    /// none), then newest first as results are answered. Each record with
    /// its publication date, so that merges order it without reading it.
    pub(super) places: std::collections::HashMap<String, Vec<(u8, DatedPosition)>>,
    /// By [`Offer::dedup_hash`]: the copies of a live exchange's offer.
    pub(super) keys: ByHash,
}

/// Records by a 64-bit hash, grouped in buckets of about one record each,
/// so that a lookup reads a bucket rather than searching the whole list
/// (a binary search over a large feed misses the processor's caches at
/// nearly every step).
#[derive(Default)]
pub(super) struct ByHash {
    /// Ordered by bucket, then hash.
    entries: Vec<(u64, u32)>,
    /// Where each bucket starts in `entries`, and where the last ends.
    starts: Vec<u32>,
    /// The bits of a bucket number.
    bits: u32,
}

impl ByHash {
    pub(super) fn new(mut entries: Vec<(u64, u32)>) -> Self {
        let bits = entries
            .len()
            .next_power_of_two()
            .trailing_zeros()
            .clamp(4, 24);
        let bucket = |hash: u64| Self::bucket(bits, hash);
        entries.sort_unstable_by_key(|(hash, i)| (bucket(*hash), *hash, *i));
        entries.shrink_to_fit();
        let mut starts = vec![0u32; (1 << bits) + 1];
        for (hash, _) in &entries {
            starts[bucket(*hash) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        Self {
            entries,
            starts,
            bits,
        }
    }

    /// The bucket of a hash: its bits mixed (the hash's own high bits may
    /// be poorly spread), the high ones kept.
    fn bucket(bits: u32, hash: u64) -> usize {
        (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    /// The records of a hash.
    pub(super) fn get(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let bucket = match self.starts.len() {
            0 => &[][..],
            _ => {
                let b = Self::bucket(self.bits, hash);
                &self.entries[self.starts[b] as usize..self.starts[b + 1] as usize]
            }
        };
        bucket
            .iter()
            .filter(move |(h, _)| *h == hash)
            .map(|(_, i)| *i)
    }
}

/// The part of a list ordered by its first member that equals `k`.
pub(super) fn equal_range<K: Ord + Copy, V>(list: &[(K, V)], k: K) -> &[(K, V)] {
    let start = list.partition_point(|(x, _)| *x < k);
    let end = list.partition_point(|(x, _)| *x <= k);
    &list[start..end]
}
