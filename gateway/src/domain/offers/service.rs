//! The search of offers across the exchanges: the live ones asked, the
//! synced ones read from their snapshots, copies merged, newest first; and
//! every offer merged once per state of its inputs.

use std::sync::Arc;
use std::time::Duration;

use passerelle_connectors::source::{Employers, LiveOffers, OfferAnswer};
use passerelle_connectors::ConnectorError;
use passerelle_schema::{merge_duplicates, DiplomaLevel, Offer, Partner};

use super::filter::{said, OfferFilter};
use super::index::{
    equal_range, ByHash, FeedIndex, IndexedFeed, MergeKey, SeveralFeeds, FEED_SHIFT, POSITION_MASK,
};
use crate::domain::words::{Scored, Words, WordsIndex, WordsStatistics};
use crate::partners::derived::{Derived, DerivedSet, Same};
use crate::partners::health::Health;
use crate::partners::packed::{DatedPosition, OfferList, OfferRef, OfferSummary, PackedRecords};
use crate::partners::sync::{Snapshot, SyncedFeed};

/// A feed of offers.
pub type OfferFeed = SyncedFeed<Offer>;

/// The merged offers of a search, newest first, and the partners that
/// failed.
#[derive(Debug, Clone)]
pub struct OfferResults {
    /// The offers.
    pub offers: Arc<OfferList>,
    /// For a search by words: each offer's score, by its position in
    /// `offers` (the higher, the more relevant).
    pub scores: Option<Arc<[f32]>>,
    /// The failures of partners whose offers are missing.
    pub errors: Vec<ConnectorError>,
}

/// The most memory the merged searches kept may use.
const MERGED_BYTES: u64 = 8 << 20;

/// Searches offers across the exchanges.
pub struct OfferService {
    live: Vec<Arc<dyn LiveOffers>>,
    feeds: Vec<IndexedFeed>,
    health: Arc<Health>,
    merged: moka::sync::Cache<MergeKey, Searched>,
    /// Every offer merged, by the versions of the feeds' snapshots and the
    /// live exchanges' answers it was merged from.
    every: Derived<EveryInputs, EveryOffer>,
}

/// What every offer is merged from: the versions of the feeds' snapshots,
/// the live exchanges' answers.
type EveryInputs = (Vec<u64>, Vec<Option<Same<OfferAnswer>>>);

/// A search's merge.
enum Merged {
    /// Of every offer.
    Every(Arc<EveryOffer>),
    /// Of the offers of a filter.
    Filtered(Searched),
}

/// The offers of a filter, newest first, and their scores for a search by
/// words.
#[derive(Clone)]
struct Searched {
    offers: Arc<OfferList>,
    scores: Option<Arc<[f32]>>,
}

/// Every offer of every exchange, merged, and what is derived from it (the
/// indexes of the joins that read every offer), dropped with it.
pub struct EveryOffer {
    offers: Arc<OfferList>,
    derived: DerivedSet,
}

impl EveryOffer {
    /// The offers, newest first.
    pub fn offers(&self) -> &Arc<OfferList> {
        &self.offers
    }

    /// The value of type `T` derived from these offers: built by `build` at
    /// the first call, the same for every later one.
    pub fn derived<T: std::any::Any + Send + Sync>(
        &self,
        build: impl FnOnce(&Arc<OfferList>) -> T,
    ) -> Arc<T> {
        self.derived.get(|| build(&self.offers))
    }
}

impl OfferService {
    /// A service over the configured exchanges: those asked live, and the
    /// feeds, each with whose offers it publishes.
    pub fn new(
        live: Vec<Arc<dyn LiveOffers>>,
        feeds: Vec<(Arc<OfferFeed>, Employers)>,
        health: Arc<Health>,
    ) -> Self {
        Self {
            live,
            feeds: feeds
                .into_iter()
                .map(|(feed, employers)| IndexedFeed {
                    feed,
                    employers,
                    index: std::sync::Mutex::new(None),
                })
                .collect(),
            health,
            // Weighed by the offers listed, so that a few broad searches
            // cannot hold much memory.
            merged: moka::sync::Cache::builder()
                .max_capacity(MERGED_BYTES)
                .weigher(|_, v: &Searched| {
                    // The key (a filter) and the cache's records of the
                    // entry.
                    let scores = v.scores.as_ref().map_or(0, |s| s.len() * 4);
                    u32::try_from(v.offers.weight() + scores + 1024).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(300))
                .build(),
            every: Derived::default(),
        }
    }

    /// A feed snapshot's index, built once per version.
    fn index(&self, feed: &IndexedFeed, snapshot: &Snapshot<Offer>) -> Arc<FeedIndex> {
        let mut slot = feed.index.lock().expect("index lock");
        if let Some((version, index)) = slot.as_ref() {
            if *version == snapshot.version {
                return index.clone();
            }
        }
        // Merges of the records replaced would keep them in memory.
        self.merged.invalidate_all();
        self.every.clear();
        let mut index = FeedIndex::default();
        let mut keys = Vec::with_capacity(snapshot.records.len());
        for (i, o) in (0u32..).zip(&snapshot.records) {
            let o = o.summary();
            let level = o.level.map_or(0, DiplomaLevel::get);
            index
                .places
                .entry(o.commune.departement_code().to_owned())
                .or_default()
                .push((level, (o.published_at, i)));
            keys.push((o.dedup_hash(), i));
        }
        let key = |i: u32| snapshot.records[i as usize].order_key();
        for list in index.places.values_mut() {
            // By level, then in the order results are answered.
            list.sort_by(|(la, (_, a)), (lb, (_, b))| {
                la.cmp(lb).then_with(|| key(*a).cmp(&key(*b)))
            });
            list.shrink_to_fit();
        }
        index.keys = ByHash::new(keys);
        let index = Arc::new(index);
        *slot = Some((snapshot.version, index.clone()));
        index
    }

    /// The partners of the feeds a search with `filter` reads.
    pub fn feeds_read(&self, filter: &OfferFilter) -> Vec<Partner> {
        self.feeds
            .iter()
            .filter(|f| filter.wants(f.employers))
            .map(|f| f.feed.partner())
            .filter(|p| filter.source.is_none_or(|s| s == *p))
            .collect()
    }

    /// Every offer matching `filter`, merged across exchanges.
    #[tracing::instrument(name = "offers.search", skip_all)]
    pub async fn search(&self, filter: &OfferFilter) -> OfferResults {
        let (answers, errors) = self.ask_live(filter).await;
        let (offers, scores) = match self.merged_search(filter, answers) {
            Merged::Every(every) => (every.offers.clone(), None),
            Merged::Filtered(searched) => (searched.offers, searched.scores),
        };
        OfferResults {
            offers,
            scores,
            errors,
        }
    }

    /// Every offer of every exchange merged, with the indexes derived from
    /// it, and the errors of the live exchanges that failed: what the joins
    /// of CFAs read.
    #[tracing::instrument(name = "offers.every", skip_all)]
    pub async fn every_offer(&self) -> (Arc<EveryOffer>, Vec<ConnectorError>) {
        let filter = OfferFilter::default();
        let (answers, errors) = self.ask_live(&filter).await;
        match self.merged_search(&filter, answers) {
            Merged::Every(every) => (every, errors),
            Merged::Filtered(_) => unreachable!("a search without filter merges every offer"),
        }
    }

    /// Asks the live exchanges `filter` wants, at once: their answers (as
    /// their health noted them) and the errors to report.
    async fn ask_live(
        &self,
        filter: &OfferFilter,
    ) -> (Vec<Option<Arc<OfferAnswer>>>, Vec<ConnectorError>) {
        let mut errors = Vec::new();
        // The live exchanges are asked at once: the search takes as long
        // as the slowest, not the sum. Boxed: they are large futures,
        // polled deep in a request.
        let query = filter.query();
        let asked = self.live.iter().map(|live| {
            let wanted = filter.wants(live.employers());
            let search = wanted.then(|| live.clone().search(query.clone()));
            async move {
                match search {
                    Some(s) => Some(s.await),
                    None => None,
                }
            }
        });
        let answered = futures::future::join_all(asked).await;
        let answers: Vec<Option<Arc<OfferAnswer>>> = self
            .live
            .iter()
            .zip(answered)
            .map(|(live, answer)| {
                self.health
                    .observe_cached(live.partner(), answer?, OfferAnswer::held, &mut errors)
            })
            .collect();
        (answers, errors)
    }

    /// The positions in `snapshot` (of `feed`) of the copies of `candidates`
    /// that `filter` places, sorted, each once.
    fn copies_in(
        &self,
        feed: &IndexedFeed,
        snapshot: &Snapshot<Offer>,
        candidates: &[Arc<Offer>],
        filter: &OfferFilter,
    ) -> Vec<u32> {
        let index = self.index(feed, snapshot);
        let mut copied: Vec<u32> = candidates
            .iter()
            .flat_map(|o| index.keys.get(o.dedup_hash()))
            .filter(|i| filter.place_matches(&snapshot.records[*i as usize].summary()))
            .collect();
        // A record copied on two live exchanges is one candidate.
        copied.sort_unstable();
        copied.dedup();
        copied
    }

    /// Hands `each` every offer of every exchange once, merged across
    /// exchanges, as its summary and a way to take it whole, in no order;
    /// returns the live exchanges' errors. For a caller that reads every
    /// offer once (the detection of new offers): neither the catalogue's
    /// ordered list nor its unpacked offers are built.
    #[tracing::instrument(name = "offers.each", skip_all)]
    pub async fn each_offer(
        &self,
        mut each: impl FnMut(OfferSummary<'_>, &dyn Fn() -> Arc<Offer>),
    ) -> Vec<ConnectorError> {
        let filter = OfferFilter::default();
        let (answers, errors) = self.ask_live(&filter).await;
        let mut candidates: Vec<Arc<Offer>> = answers
            .iter()
            .flatten()
            .flat_map(|a| a.offers.iter().cloned())
            .collect();
        let mut copies = Vec::new();
        for feed in &self.feeds {
            let snapshot = feed.feed.snapshot();
            let copied = self.copies_in(feed, &snapshot, &candidates, &filter);
            for (i, record) in (0u32..).zip(&snapshot.records) {
                if copied.binary_search(&i).is_err() {
                    each(record.summary(), &|| Arc::new(record.unpack()));
                }
            }
            copies.extend(
                copied
                    .iter()
                    .map(|i| Arc::new(snapshot.records[*i as usize].unpack())),
            );
        }
        candidates.extend(copies);
        for offer in merge_duplicates(candidates) {
            each(OfferSummary::of(&offer), &|| offer.clone());
        }
        errors
    }

    /// The search's merge of `answers` with the feeds, kept for the next
    /// search with the same filter and data.
    fn merged_search(
        &self,
        filter: &OfferFilter,
        answers: Vec<Option<Arc<OfferAnswer>>>,
    ) -> Merged {
        let snapshots: Vec<Option<Arc<Snapshot<Offer>>>> = self
            .feeds
            .iter()
            .map(|f| filter.wants(f.employers).then(|| f.feed.snapshot()))
            .collect();
        let key = MergeKey {
            filter: filter.clone(),
            feed_versions: snapshots
                .iter()
                .map(|s| s.as_ref().map_or(0, |s| s.version))
                .collect(),
            answers: answers
                .iter()
                .map(|a| a.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize))
                .collect(),
        };
        let build = || {
            let mut candidates: Vec<Arc<Offer>> = Vec::new();
            let place = |o: &Arc<Offer>| filter.place_matches(&OfferSummary::of(o));
            for a in answers.iter().flatten() {
                candidates.extend(a.offers.iter().filter(|o| place(o)).cloned());
            }
            // Records of a feed never merge with each other, only with a
            // live exchange's copy. So only the live offers and their
            // copies in the feeds are merged; the other records that match
            // alone join the result as they are, packed. The search reads
            // the records of its département and level (or those its words
            // find), not whole feeds. A record is named by its position,
            // the feed's rank among those read in the high bits.
            let read: Vec<(&IndexedFeed, &Arc<Snapshot<Offer>>)> = self
                .feeds
                .iter()
                .zip(&snapshots)
                .filter_map(|(f, s)| Some((f, s.as_ref()?)))
                .collect();
            let record = |at: u32| {
                let (_, s) = read[(at >> FEED_SHIFT) as usize];
                &s.records[(at & POSITION_MASK) as usize]
            };
            let copied: Vec<Vec<u32>> = read
                .iter()
                .map(|(feed, s)| self.copies_in(feed, s, &candidates, filter))
                .collect();
            for ((_, s), copied) in read.iter().zip(&copied) {
                let own = |i: &u32| Arc::new(s.records[*i as usize].unpack());
                candidates.extend(copied.iter().map(own));
            }
            let mut merged = merge_duplicates(candidates);
            merged.retain(|o| filter.matches_summary(&OfferSummary::of(o)));
            let found = filter
                .words()
                .map(|words| Found::search(&words, read.iter().map(|(_, s)| *s), &mut merged));
            let mut alone: Vec<DatedPosition> = Vec::new();
            let mut runs = 0;
            for (rank, ((feed, s), copied)) in (0u32..).zip(read.iter().zip(&copied)) {
                let tag = rank << FEED_SHIFT;
                let own = |i: u32| &s.records[i as usize];
                let alone_at = |i: u32| copied.binary_search(&i).is_err();
                if let Some(found) = &found {
                    // The records the words find, in the place asked.
                    let hits = &found.in_feeds[rank as usize];
                    alone.extend(
                        hits.iter()
                            .map(|(i, _)| *i)
                            .filter(|i| alone_at(*i) && filter.matches_summary(&own(*i).summary()))
                            .map(|i| (own(i).summary().published_at, i | tag)),
                    );
                    runs += 2;
                    continue;
                }
                let index = self.index(feed, s);
                let lists: Vec<&Vec<(u8, DatedPosition)>> = match filter.departement() {
                    Some(d) => index.places.get(d.as_str()).into_iter().collect(),
                    None => index.places.values().collect(),
                };
                runs += lists.len();
                // Records of a département's list at the level asked match
                // a filter of place and level without being read.
                let read_records = !filter.by_place_and_level_only();
                for list in &lists {
                    let slice = match filter.level {
                        Some(l) => equal_range(list, l.get()),
                        None => &list[..],
                    };
                    alone.reserve(slice.len());
                    alone.extend(
                        slice
                            .iter()
                            .map(|(_, placed)| *placed)
                            .filter(|(_, i)| {
                                alone_at(*i)
                                    && (!read_records || filter.matches_summary(&own(*i).summary()))
                            })
                            .map(|(published, i)| (published, i | tag)),
                    );
                }
            }
            // One list of one level is in answer order already; others are
            // runs in answer order, put in order by their dates (a stable
            // sort merges runs), records read only on a tie.
            if runs > 1 || filter.level.is_none() {
                alone.sort_by(|(da, a), (db, b)| {
                    db.cmp(da)
                        .then_with(|| record(*a).order_key().cmp(&record(*b).order_key()))
                });
            }
            merged.sort_by(|a, b| newest_first(a, b));
            let packed: Option<Arc<dyn PackedRecords>> = match read.as_slice() {
                [] => None,
                [(_, s)] => Some(Arc::clone(s) as Arc<dyn PackedRecords>),
                several => Some(Arc::new(SeveralFeeds(
                    several.iter().map(|(_, s)| Arc::clone(s)).collect(),
                ))),
            };
            let merged = merged.into_iter().map(OfferRef::Whole).collect();
            // Two lists in answer order: merged in one pass.
            let offers = OfferList::merge_ordered(merged, &alone, packed);
            let scores = found.map(|found| found.scores_of(&offers));
            Searched {
                offers: Arc::new(offers),
                scores,
            }
        };
        // Every offer (what the joins of CFAs and employers read) is kept
        // apart, as long as its inputs are served: it may weigh more than
        // the cache of merges holds, and each of its changes rebuilds the
        // joins' indexes.
        if *filter == OfferFilter::default() {
            let inputs = (
                key.feed_versions.clone(),
                answers.iter().map(|a| a.clone().map(Same)).collect(),
            );
            Merged::Every(self.every.get(inputs, || EveryOffer {
                offers: build().offers,
                derived: DerivedSet::default(),
            }))
        } else {
            Merged::Filtered(self.merged.get_with(key, build))
        }
    }

    /// The merged offer that holds the record `partner_id` of `partner`.
    #[tracing::instrument(name = "offers.by_source", skip_all, fields(partner = partner.id()))]
    pub async fn by_source(&self, partner: Partner, partner_id: &str) -> OfferLookup {
        // Copies of a position share their commune: find the record, then
        // the merged offer among the offers of its commune.
        let feed = self.feeds.iter().find(|f| f.feed.partner() == partner);
        let live = self.live.iter().find(|l| l.partner() == partner);
        let commune = match (feed, live) {
            (Some(f), _) => f
                .feed
                .snapshot()
                .get(partner_id)
                .map(|o| o.summary().commune.clone()),
            (None, Some(live)) => match live.clone().offer(partner_id.to_owned()).await {
                Ok(o) => o.map(|o| o.location.commune.clone()),
                Err(e) => {
                    self.health.failure(&e);
                    return OfferLookup {
                        offer: None,
                        errors: vec![e],
                    };
                }
            },
            // Not an exchange of offers.
            (None, None) => None,
        };
        let Some(commune) = commune else {
            return OfferLookup {
                offer: None,
                errors: Vec::new(),
            };
        };
        let results = self
            .search(&OfferFilter {
                commune: Some(commune),
                ..OfferFilter::default()
            })
            .await;
        let offer = results.offers.find_source(partner, partner_id);
        OfferLookup {
            offer,
            errors: results.errors,
        }
    }
}

/// One offer looked up, and the failures met on the way.
#[derive(Debug, Clone)]
pub struct OfferLookup {
    /// The merged offer, when found.
    pub offer: Option<Arc<Offer>>,
    /// Partners that failed.
    pub errors: Vec<ConnectorError>,
}

/// What a search's words found: in each feed read, and among the offers
/// merged from a live exchange's.
struct Found {
    /// By feed, in position order.
    in_feeds: Vec<Vec<Scored>>,
    /// The merged offers found, by address.
    whole: std::collections::HashMap<*const Offer, f32>,
}

impl Found {
    /// Searches `words` in the feeds' snapshots and among `merged`, whose
    /// offers not found are dropped. Scores compare across them: they are
    /// ranked against the statistics of every record searched.
    fn search<'a>(
        words: &Words,
        feeds: impl Iterator<Item = &'a Arc<Snapshot<Offer>>>,
        merged: &mut Vec<Arc<Offer>>,
    ) -> Found {
        let indexes: Vec<Arc<WordsIndex>> = feeds.map(|s| words_index(s)).collect();
        let whole = WordsIndex::of(merged, |o, add| add(&said(o)));
        let statistics = WordsStatistics(indexes.iter().map(|i| &**i).chain([&whole]).collect());
        let in_feeds = indexes
            .iter()
            .map(|i| i.search(words, &statistics))
            .collect();
        let found = whole.search(words, &statistics);
        let mut kept = Vec::with_capacity(found.len());
        let mut scores = std::collections::HashMap::with_capacity(found.len());
        for (at, score) in found {
            let o = merged[at as usize].clone();
            scores.insert(Arc::as_ptr(&o), score);
            kept.push(o);
        }
        *merged = kept;
        Found {
            in_feeds,
            whole: scores,
        }
    }

    /// The score of each offer of `offers`, by position.
    fn scores_of(&self, offers: &OfferList) -> Arc<[f32]> {
        offers
            .refs()
            .iter()
            .map(|r| match r {
                OfferRef::Whole(o) => self.whole.get(&Arc::as_ptr(o)).copied().unwrap_or(0.0),
                OfferRef::Packed(at) => {
                    let hits = &self.in_feeds[(at >> FEED_SHIFT) as usize];
                    let i = at & POSITION_MASK;
                    hits.binary_search_by_key(&i, |(p, _)| *p)
                        .map_or(0.0, |k| hits[k].1)
                }
            })
            .collect()
    }
}

/// The words index of a feed's snapshot, built at its first search and
/// kept with it; records are unpacked one at a time.
pub fn words_index(snapshot: &Snapshot<Offer>) -> Arc<WordsIndex> {
    snapshot.derived(|s| {
        let started = std::time::Instant::now();
        let index = WordsIndex::of(&s.records, |r, add| add(&said(&r.unpack())));
        tracing::info!(
            records = s.records.len(),
            bytes = index.bytes(),
            ms = started.elapsed().as_millis() as u64,
            "offers' words index built"
        );
        index
    })
}

/// The order offers are answered in: newest first, then by primary source.
fn newest_first(a: &Offer, b: &Offer) -> std::cmp::Ordering {
    OfferSummary::of(a)
        .order_key()
        .cmp(&OfferSummary::of(b).order_key())
}
