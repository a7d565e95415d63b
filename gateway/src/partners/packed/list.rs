//! A list of offers, whole or packed, in the order they are answered:
//! selected, merged, picked and unpacked on demand.

use super::offer::PackedOffer;
use super::summary::{OfferSummary, OrderKey};
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use passerelle_schema::{Offer, Partner};

/// About what an offer held whole takes in memory.
const WHOLE_OFFER_BYTES: usize = 1024;

/// A packed record's position, with its publication date: what a search
/// index keeps of a record to order it without reading it.
pub type DatedPosition = (DateTime<Utc>, u32);

/// An offer of a list or of a search's results: one held whole, or the
/// position of a packed record.
#[derive(Debug, Clone)]
pub enum OfferRef {
    /// An offer held whole.
    Whole(Arc<Offer>),
    /// The record at this position of the packed records.
    Packed(u32),
}

/// Offers in answer order, some whole and some packed, read by position.
#[derive(Debug, Clone, Default)]
pub struct OfferList {
    hits: Vec<OfferRef>,
    /// The packed records `OfferRef::Packed` points into.
    packed: Option<Arc<dyn PackedRecords>>,
}

/// Packed records, by position.
pub trait PackedRecords: std::fmt::Debug + Send + Sync {
    /// The record at `i`.
    fn record(&self, i: u32) -> &PackedOffer;
}

impl PackedRecords for Vec<PackedOffer> {
    fn record(&self, i: u32) -> &PackedOffer {
        &self[i as usize]
    }
}

impl OfferList {
    /// A list of `hits`; `packed` holds the records they point into.
    pub fn new(hits: Vec<OfferRef>, packed: Option<Arc<dyn PackedRecords>>) -> Self {
        debug_assert!(
            packed.is_some() || hits.iter().all(|h| matches!(h, OfferRef::Whole(_))),
            "packed hits come with their records"
        );
        Self { hits, packed }
    }

    /// `hits` in answer order (see [`OfferSummary::order_key`]).
    pub fn ordered(hits: Vec<OfferRef>, packed: Option<Arc<dyn PackedRecords>>) -> Self {
        let mut list = Self::new(Vec::new(), packed);
        let mut hits = hits;
        hits.sort_by(|a, b| list.order_key_of(a).cmp(&list.order_key_of(b)));
        list.hits = hits;
        list
    }

    /// Two lists in answer order merged: `few` hits, and `many` packed
    /// records named by position with their publication date. The place of
    /// each of the few in `many` is searched on those dates, records read
    /// only on a tie, and the runs of `many` between are copied whole.
    pub fn merge_ordered(
        few: Vec<OfferRef>,
        many: &[DatedPosition],
        packed: Option<Arc<dyn PackedRecords>>,
    ) -> Self {
        let mut list = Self::new(Vec::new(), packed);
        let mut hits = Vec::with_capacity(few.len() + many.len());
        let mut rest = many;
        for hit in few {
            let key = list.order_key_of(&hit);
            let run = rest.partition_point(|(published, i)| {
                match std::cmp::Reverse(*published).cmp(&key.0) {
                    std::cmp::Ordering::Equal => list.packed_record(*i).order_key() < key,
                    order => order.is_lt(),
                }
            });
            hits.extend(rest[..run].iter().map(|(_, i)| OfferRef::Packed(*i)));
            rest = &rest[run..];
            hits.push(hit);
        }
        hits.extend(rest.iter().map(|(_, i)| OfferRef::Packed(*i)));
        list.hits = hits;
        list
    }

    /// The list's offers, in order.
    pub fn refs(&self) -> &[OfferRef] {
        &self.hits
    }

    /// The offer that holds the record `partner_id` of `partner`, whole.
    pub fn find_source(&self, partner: Partner, partner_id: &str) -> Option<Arc<Offer>> {
        self.find_sources(&[(partner, partner_id)]).pop().flatten()
    }

    /// The offers holding each of these records (`partner`, its
    /// identifier there), in one pass over the list.
    pub fn find_sources(&self, wanted: &[(Partner, &str)]) -> Vec<Option<Arc<Offer>>> {
        let mut at: HashMap<(Partner, &str), Vec<usize>> = HashMap::new();
        for (i, key) in wanted.iter().enumerate() {
            at.entry(*key).or_default().push(i);
        }
        let mut found = vec![None; wanted.len()];
        let mut left = at.len();
        for (position, hit) in self.hits.iter().enumerate() {
            if left == 0 {
                break;
            }
            let holds: Vec<&Vec<usize>> = match hit {
                OfferRef::Whole(o) => o
                    .sources
                    .iter()
                    .filter_map(|s| at.get(&(s.partner, s.partner_id.as_str())))
                    .collect(),
                OfferRef::Packed(i) => {
                    let h = self.packed_record(*i).summary();
                    at.get(&(h.sources.primary(), h.partner_id))
                        .into_iter()
                        .collect()
                }
            };
            for indices in holds {
                if found[indices[0]].is_none() {
                    left -= 1;
                    let offer = self.get(position);
                    for &i in indices {
                        found[i] = Some(offer.clone());
                    }
                }
            }
        }
        found
    }

    /// A list of whole offers.
    pub fn whole(offers: impl IntoIterator<Item = Arc<Offer>>) -> Self {
        Self::new(offers.into_iter().map(OfferRef::Whole).collect(), None)
    }

    /// How many offers.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    fn summary_of<'a>(&'a self, hit: &'a OfferRef) -> OfferSummary<'a> {
        match hit {
            OfferRef::Whole(o) => OfferSummary::of(o),
            OfferRef::Packed(i) => self.packed_record(*i).summary(),
        }
    }

    fn order_key_of<'a>(&'a self, hit: &'a OfferRef) -> OrderKey<'a> {
        match hit {
            OfferRef::Whole(o) => {
                let s = o.primary_source();
                (std::cmp::Reverse(o.published_at), s.partner, &s.partner_id)
            }
            OfferRef::Packed(i) => self.packed_record(*i).order_key(),
        }
    }

    fn packed_record(&self, i: u32) -> &PackedOffer {
        self.packed
            .as_ref()
            .expect("packed hits come with their records")
            .record(i)
    }

    /// What searches read of the offer at `i`.
    pub fn summary(&self, i: usize) -> OfferSummary<'_> {
        self.summary_of(&self.hits[i])
    }

    /// The summaries of every offer, in order.
    pub fn summaries(&self) -> impl Iterator<Item = OfferSummary<'_>> + '_ {
        self.hits.iter().map(|h| self.summary_of(h))
    }

    /// The offer at `i`, whole.
    pub fn get(&self, i: usize) -> Arc<Offer> {
        match &self.hits[i] {
            OfferRef::Whole(o) => o.clone(),
            OfferRef::Packed(p) => Arc::new(self.packed_record(*p).unpack()),
        }
    }

    /// The offers from `start` to `end`, whole.
    pub fn range(&self, start: usize, end: usize) -> Vec<Arc<Offer>> {
        (start..end).map(|i| self.get(i)).collect()
    }

    /// The first offers whose summary passes `keep`, at most `n`, whole.
    pub fn first_where(&self, n: usize, keep: impl Fn(&OfferSummary) -> bool) -> Vec<Arc<Offer>> {
        (0..self.len())
            .filter(|&i| keep(&self.summary(i)))
            .take(n)
            .map(|i| self.get(i))
            .collect()
    }

    /// The offers at `positions` of this list, in that order.
    pub fn picked(&self, positions: impl IntoIterator<Item = u32>) -> OfferList {
        OfferList {
            hits: positions
                .into_iter()
                .map(|at| self.hits[at as usize].clone())
                .collect(),
            packed: self.packed.clone(),
        }
    }

    /// The list with its first `n` offers held whole: for a list kept
    /// while its first page is read again and again.
    pub fn with_head_unpacked(mut self, n: usize) -> OfferList {
        for at in 0..n.min(self.hits.len()) {
            if let OfferRef::Packed(_) = self.hits[at] {
                self.hits[at] = OfferRef::Whole(self.get(at));
            }
        }
        self
    }

    /// The offers whose summary passes `keep`, in order.
    pub fn select(&self, keep: impl Fn(&OfferSummary) -> bool) -> OfferList {
        OfferList {
            hits: self
                .hits
                .iter()
                .filter(|h| keep(&self.summary_of(h)))
                .cloned()
                .collect(),
            packed: self.packed.clone(),
        }
    }

    /// The offers of `n` selections at once, each in order, from one pass
    /// over the list: `each` names, through its callback, the selections an
    /// offer's summary belongs to. An offer named twice by one selection is
    /// in it once.
    pub fn select_each(
        &self,
        n: usize,
        mut each: impl FnMut(&OfferSummary, &mut dyn FnMut(usize)),
    ) -> Vec<OfferList> {
        let mut hits: Vec<Vec<OfferRef>> = vec![Vec::new(); n];
        // The position of the offer each selection took last.
        let mut last = vec![usize::MAX; n];
        for (at, hit) in self.hits.iter().enumerate() {
            each(&self.summary_of(hit), &mut |i| {
                if last[i] != at {
                    last[i] = at;
                    hits[i].push(hit.clone());
                }
            });
        }
        hits.into_iter()
            .map(|hits| OfferList {
                hits,
                packed: self.packed.clone(),
            })
            .collect()
    }

    /// The first position whose summary does not pass `before`, the list being
    /// partitioned by it.
    pub fn partition_point(&self, before: impl Fn(&OfferSummary) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(&self.summary(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// How much memory the list holds, roughly, in bytes: its hits, and
    /// the whole offers it keeps alive (a live exchange's answer may leave
    /// its cache before the list does).
    pub fn weight(&self) -> usize {
        let whole = self
            .hits
            .iter()
            .filter(|h| matches!(h, OfferRef::Whole(_)))
            .count();
        self.hits.len() * std::mem::size_of::<OfferRef>() + whole * WHOLE_OFFER_BYTES
    }
}
