//! The cache of live partners' answers.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use moka::future::Cache;
use passerelle_mappings::RecordError;
use passerelle_schema::Partner;
use tokio::time::Instant;
use tracing::Instrument;

use super::resilience::{current_deadline, within_deadline, ResilienceSettings};
use crate::ConnectorError;

/// An answer from the cache, and whether it is stale: served after the
/// partner failed, from the last good answer.
#[derive(Debug)]
pub struct Cached<V> {
    /// The answer.
    pub value: Arc<V>,
    /// The failure that made the cache serve a stale answer, if it did.
    pub stale_because: Option<ConnectorError>,
    /// When some of the answer's records were rejected: a `PARTIAL_DATA`
    /// notice with their count and the first reasons.
    pub partial: Option<ConnectorError>,
}

impl<V> std::ops::Deref for Cached<V> {
    type Target = V;
    fn deref(&self) -> &V {
        &self.value
    }
}

/// A live partner's answer, as the cache judges it: the records it holds,
/// and those the partner sent that were rejected. An answer whose records
/// were all rejected is a failure (`MAPPING_FAILED`), never cached.
pub trait LiveAnswer {
    /// How many records the answer holds.
    fn records(&self) -> usize;
    /// The records the partner sent that were rejected, with reasons.
    fn rejected(&self) -> &[RecordError] {
        &[]
    }
}

/// What a load gives: an answer read from what the partner sent, or the
/// last good answer again when the partner sent the very bytes it was read
/// from (see [`super::PagesRead`]): the partner is called as often, its
/// unchanged pages are not read again, and what was built from the answer
/// (a merge with the feeds, an index) stays valid, the answer being the
/// same value.
#[derive(Debug)]
pub enum Loaded<V> {
    /// An answer read from the partner's bytes.
    New(V),
    /// The last good answer: the partner's bytes have not changed.
    Unchanged(Arc<V>),
}

/// What an entry costs besides its answer: its key and the cache's own
/// records of it. Without it, thousands of small answers (searches that
/// found nothing) would hold far more than the bound.
const ENTRY_BYTES: u32 = 512;

/// A load under way, shared by every request waiting for it, and when it
/// started.
type Load<V> = (
    Shared<BoxFuture<'static, Result<Arc<V>, ConnectorError>>>,
    Instant,
);

/// A bounded cache of a live partner's answers: entries are fresh for `ttl`,
/// the cache holds at most `max_bytes` of answers (as weighed by the
/// caller), and concurrent loads of the same key make one upstream call.
/// Failures are never cached; when a load fails, the last good answer of
/// the key is served for `stale_for` more, marked stale.
///
/// A load runs as a task of its own: requests wait for it until the
/// partner's latency budget has passed since it started (and never past
/// their operation's deadline), then are answered from the last good
/// answer, or fail with `PARTNER_TIMEOUT`, while the load goes on to fill
/// the cache, within the partner's `load_timeout`. So a request that joins
/// a load already late answers at once. There is one load under way per
/// key, and at most twice the partner's bulkhead in all.
pub struct LiveCache<K, V> {
    partner: Partner,
    fresh: Cache<K, Arc<V>>,
    stale: Cache<K, Arc<V>>,
    loads: Arc<Mutex<HashMap<K, Load<V>>>>,
    budget: Duration,
    load_timeout: Duration,
    max_loads: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    stales: AtomicU64,
}

impl<K, V> LiveCache<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: LiveAnswer + Send + Sync + 'static,
{
    /// A cache of `partner`'s answers, weighed by `weigh` (bytes, roughly),
    /// loaded within the latency budget and load timeout of `resilience`.
    pub fn new(
        partner: Partner,
        ttl: Duration,
        stale_for: Duration,
        max_bytes: u64,
        weigh: fn(&V) -> u32,
        resilience: &ResilienceSettings,
    ) -> Self {
        // The fresh answers and the last good ones share the bound: an
        // answer is in both, or only in the second once expired.
        let build = |live: Duration| {
            Cache::builder()
                .time_to_live(live)
                .max_capacity(max_bytes / 2)
                .weigher(move |_k: &K, v: &Arc<V>| weigh(v).saturating_add(ENTRY_BYTES))
                .build()
        };
        Self {
            partner,
            fresh: build(ttl),
            stale: build(ttl + stale_for),
            loads: Arc::new(Mutex::new(HashMap::new())),
            budget: resilience.latency_budget,
            load_timeout: resilience.load_timeout,
            max_loads: resilience.max_concurrency.max(1) * 2,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stales: AtomicU64::new(0),
        }
    }

    /// The cached answer for `key`, or the one `load` gives (shared with any
    /// caller asking for the same key meanwhile) within the latency budget,
    /// or the last good one when `load` fails or is late.
    pub async fn get_or_load<F>(&self, key: K, load: F) -> Result<Cached<V>, ConnectorError>
    where
        F: Future<Output = Result<V, ConnectorError>> + Send + 'static,
    {
        self.get_or_reload(key, |_| async move { load.await.map(Loaded::New) })
            .await
    }

    /// [`get_or_load`](Self::get_or_load), where `load` is handed the last
    /// good answer of `key` (while the cache keeps it) and may give it
    /// again as [`Loaded::Unchanged`].
    pub async fn get_or_reload<F, Fut>(&self, key: K, load: F) -> Result<Cached<V>, ConnectorError>
    where
        F: FnOnce(Option<Arc<V>>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, ConnectorError>> + Send + 'static,
    {
        let span = tracing::info_span!(
            "cache.lookup",
            partner = self.partner.id(),
            result = tracing::field::Empty
        );
        async {
            if let Some(value) = self.fresh.get(&key).await {
                self.count(&self.hits, "hit");
                return Ok(self.answer(value, None));
            }
            let ((pending, since), started) = match self.join_or_start(&key, load) {
                Ok(l) => l,
                Err(e) => return self.or_stale(&key, e).await,
            };
            let budget = since + self.budget;
            let until = current_deadline().map_or(budget, |d| d.min(budget));
            let result = match tokio::time::timeout_at(until, pending).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::info!(partner = %self.partner, budget_ms = self.budget.as_millis() as u64, "answer late, loading on in the background");
                    Err(ConnectorError::Timeout {
                        partner: self.partner,
                    })
                }
            };
            match result {
                Ok(value) => {
                    // The request that started the load missed; those that
                    // joined it share its answer, as a hit.
                    if started {
                        self.count(&self.misses, "miss");
                    } else {
                        self.count(&self.hits, "hit");
                    }
                    Ok(self.answer(value, None))
                }
                Err(e) => self.or_stale(&key, e).await,
            }
        }
        .instrument(span)
        .await
    }

    /// The load of `key` under way, or a new one started with `load`; and
    /// whether it was started here.
    fn join_or_start<F, Fut>(&self, key: &K, load: F) -> Result<(Load<V>, bool), ConnectorError>
    where
        F: FnOnce(Option<Arc<V>>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, ConnectorError>> + Send + 'static,
    {
        let mut loads = self.loads.lock().expect("loads lock");
        if let Some(load) = loads.get(key) {
            return Ok((load.clone(), false));
        }
        let partner = self.partner;
        if loads.len() >= self.max_loads {
            return Err(ConnectorError::unavailable(
                partner,
                "too many calls under way",
            ));
        }
        let (fresh, stale, registry, k) = (
            self.fresh.clone(),
            self.stale.clone(),
            self.loads.clone(),
            key.clone(),
        );
        let deadline = Instant::now() + self.load_timeout;
        let span = tracing::info_span!("cache.load", partner = partner.id());
        let task = tokio::spawn(
            async move {
                // The load's own deadline, which its calls and retries
                // respect: the request's may pass before it is done.
                let load = load(stale.get(&k).await);
                let loaded = within_deadline(deadline, tokio::time::timeout_at(deadline, load))
                    .await
                    .unwrap_or(Err(ConnectorError::Timeout { partner }));
                let result = loaded.and_then(|v| match v {
                    Loaded::Unchanged(last) => {
                        metrics::counter!("passerelle_live_answers_unchanged_total", "partner" => partner.id()).increment(1);
                        Ok(last)
                    }
                    Loaded::New(v) => match ConnectorError::of_rejections(
                        partner,
                        v.records(),
                        v.rejected(),
                    ) {
                        Some(e @ ConnectorError::AllRejected { .. }) => {
                            tracing::warn!(partner = %partner, rejected = v.rejected().len(), "every record of the answer was rejected");
                            Err(e)
                        }
                        _ => Ok(Arc::new(v)),
                    },
                });
                if let Ok(value) = &result {
                    fresh.insert(k.clone(), value.clone()).await;
                    // Kept as the last good answer, for longer.
                    stale.insert(k.clone(), value.clone()).await;
                    metrics::gauge!("passerelle_cache_bytes", "partner" => partner.id())
                        .set(fresh.weighted_size() as f64);
                }
                // Removed once the answer is in the cache, so that no
                // request finds neither.
                registry.lock().expect("loads lock").remove(&k);
                result
            }
            .instrument(span),
        );
        let pending = async move {
            task.await
                .unwrap_or_else(|_| Err(ConnectorError::unavailable(partner, "the load failed")))
        }
        .boxed()
        .shared();
        let load = (pending, Instant::now());
        loads.insert(key.clone(), load.clone());
        Ok((load, true))
    }

    /// The last good answer of `key`, marked stale because of `e`, or `e`.
    async fn or_stale(&self, key: &K, e: ConnectorError) -> Result<Cached<V>, ConnectorError> {
        match self.stale.get(key).await {
            Some(value) => {
                self.count(&self.stales, "stale");
                Ok(self.answer(value, Some(e)))
            }
            None => Err(e),
        }
    }

    fn count(&self, counter: &AtomicU64, label: &'static str) {
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::Span::current().record("result", label);
        metrics::counter!("passerelle_cache_requests_total", "partner" => self.partner.id(), "result" => label).increment(1);
    }

    fn answer(&self, value: Arc<V>, stale_because: Option<ConnectorError>) -> Cached<V> {
        let partial =
            ConnectorError::of_rejections(self.partner, value.records(), value.rejected());
        Cached {
            value,
            stale_because,
            partial,
        }
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Stale answers served so far.
    pub fn stale_served(&self) -> u64 {
        self.stales.load(Ordering::Relaxed)
    }

    /// Loads under way.
    pub fn loads_under_way(&self) -> usize {
        self.loads.lock().expect("loads lock").len()
    }

    /// Drops every fresh entry; stale ones stay for their window.
    pub fn clear(&self) {
        self.fresh.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// An answer of `records` records, `rejected` of the partner's
    /// rejected besides.
    #[derive(Debug, PartialEq)]
    struct Answer {
        text: &'static str,
        records: usize,
        rejected: Vec<RecordError>,
    }

    impl LiveAnswer for Answer {
        fn records(&self) -> usize {
            self.records
        }
        fn rejected(&self) -> &[RecordError] {
            &self.rejected
        }
    }

    fn good(text: &'static str) -> Answer {
        Answer {
            text,
            records: 1,
            rejected: Vec::new(),
        }
    }

    fn rejections(n: usize) -> Vec<RecordError> {
        (0..n)
            .map(|index| RecordError {
                index,
                partner_id: None,
                field: if index % 2 == 0 {
                    "employer.siret"
                } else {
                    "published_at"
                }
                .into(),
                reason: "not valid".into(),
            })
            .collect()
    }

    fn cache_with(budget: Duration) -> LiveCache<u32, Answer> {
        LiveCache::new(
            crate::cci::PARTNER,
            Duration::from_secs(60),
            Duration::from_secs(600),
            1 << 20,
            |v| v.text.len() as u32,
            &ResilienceSettings {
                latency_budget: budget,
                ..ResilienceSettings::default()
            },
        )
    }

    fn cache() -> LiveCache<u32, Answer> {
        cache_with(Duration::from_secs(5))
    }

    fn timeout() -> ConnectorError {
        ConnectorError::Timeout {
            partner: crate::cci::PARTNER,
        }
    }

    #[tokio::test]
    async fn concurrent_identical_loads_make_one_call() {
        let cache = cache();
        let calls = Arc::new(AtomicUsize::new(0));
        let load = |calls: Arc<AtomicUsize>| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, ConnectorError>(good("answer"))
        };
        let results =
            futures::future::join_all((0..20).map(|_| cache.get_or_load(1, load(calls.clone()))))
                .await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|c| c.value.text == "answer")));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats(), (19, 1));
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = cache();
        let failed = cache.get_or_load(1, async { Err(timeout()) }).await;
        assert!(failed.is_err());
        let ok = cache.get_or_load(1, async { Ok(good("x")) }).await.unwrap();
        assert_eq!(ok.value.text, "x");
        assert!(ok.stale_because.is_none());
    }

    #[tokio::test]
    async fn the_last_good_answer_is_served_stale_when_the_partner_fails() {
        let cache = cache();
        cache
            .get_or_load(1, async { Ok(good("good")) })
            .await
            .unwrap();
        cache.clear();
        let served = cache
            .get_or_load(1, async { Err(timeout()) })
            .await
            .unwrap();
        assert_eq!(served.value.text, "good");
        assert_eq!(served.stale_because.unwrap().code(), "PARTNER_TIMEOUT");
        assert_eq!(cache.stale_served(), 1);
    }

    #[tokio::test]
    async fn an_answer_whose_records_were_all_rejected_is_an_error_never_cached() {
        let cache = cache();
        let all_rejected = || async {
            Ok(Answer {
                text: "",
                records: 0,
                rejected: rejections(40),
            })
        };
        let e = cache.get_or_load(1, all_rejected()).await.unwrap_err();
        assert_eq!(e.code(), "MAPPING_FAILED");
        assert_eq!(e.rejected(), Some(40));
        let message = e.to_string();
        assert!(
            message.contains("cci")
                && message.contains("40")
                && message.contains("employer.siret: not valid"),
            "{message}"
        );
        // Not cached: the next request loads again, and gets the good one.
        let ok = cache
            .get_or_load(1, async { Ok(good("good")) })
            .await
            .unwrap();
        assert_eq!(ok.value.text, "good");
        // Once there is a good answer, it is served stale instead.
        cache.clear();
        let served = cache.get_or_load(1, all_rejected()).await.unwrap();
        assert_eq!(served.value.text, "good");
        assert_eq!(served.stale_because.unwrap().code(), "MAPPING_FAILED");
    }

    #[tokio::test]
    async fn an_answer_with_some_records_rejected_is_served_with_their_count() {
        let cache = cache();
        let load = || async {
            Ok(Answer {
                text: "some",
                records: 10,
                rejected: rejections(3),
            })
        };
        for _ in 0..2 {
            let served = cache.get_or_load(1, load()).await.unwrap();
            assert_eq!(served.value.text, "some");
            let partial = served.partial.expect("a notice of the rejected records");
            assert_eq!(partial.code(), "PARTIAL_DATA");
            assert_eq!(partial.rejected(), Some(3));
        }
        assert!(cache
            .get_or_load(2, async { Ok(good("clean")) })
            .await
            .unwrap()
            .partial
            .is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_load_is_answered_stale_at_the_budget_and_fills_the_cache_in_the_background() {
        let cache = cache_with(Duration::from_millis(100));
        cache
            .get_or_load(1, async { Ok(good("old")) })
            .await
            .unwrap();
        cache.clear();
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = |calls: Arc<AtomicUsize>| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(3)).await;
            Ok(good("new"))
        };
        let started = Instant::now();
        let served = cache.get_or_load(1, slow(calls.clone())).await.unwrap();
        assert_eq!(served.value.text, "old");
        assert_eq!(served.stale_because.unwrap().code(), "PARTNER_TIMEOUT");
        assert!(started.elapsed() < Duration::from_millis(150));
        // A request meanwhile joins the load under way, late already: it
        // is answered at once.
        let joined = Instant::now();
        let served = cache.get_or_load(1, slow(calls.clone())).await.unwrap();
        assert_eq!(served.value.text, "old");
        assert_eq!(joined.elapsed(), Duration::ZERO);
        assert_eq!(cache.loads_under_way(), 1);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let fresh = cache.get_or_load(1, slow(calls.clone())).await.unwrap();
        assert_eq!(fresh.value.text, "new");
        assert!(fresh.stale_because.is_none());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.loads_under_way(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_last_good_answer_a_late_load_is_a_timeout_within_the_deadline() {
        let cache = cache_with(Duration::from_secs(1));
        let started = Instant::now();
        let deadline = started + Duration::from_millis(200);
        let e = within_deadline(
            deadline,
            cache.get_or_load(1, async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                Ok(good("late"))
            }),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "PARTNER_TIMEOUT");
        // The operation's deadline, shorter than the budget, holds.
        assert!(started.elapsed() < Duration::from_millis(250));
        tokio::time::sleep(Duration::from_secs(3)).await;
        let later = cache
            .get_or_load(1, async { Err(timeout()) })
            .await
            .unwrap();
        assert_eq!(later.value.text, "late");
    }

    #[tokio::test(start_paused = true)]
    async fn a_background_load_gives_up_at_its_load_timeout() {
        let cache: LiveCache<u32, Answer> = LiveCache::new(
            crate::cci::PARTNER,
            Duration::from_secs(60),
            Duration::from_secs(600),
            1 << 20,
            |v| v.text.len() as u32,
            &ResilienceSettings {
                latency_budget: Duration::from_millis(100),
                load_timeout: Duration::from_secs(2),
                ..ResilienceSettings::default()
            },
        );
        let never = || async {
            std::future::pending::<()>().await;
            Ok(good("never"))
        };
        assert!(cache.get_or_load(1, never()).await.is_err());
        assert_eq!(cache.loads_under_way(), 1);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(cache.loads_under_way(), 0);
    }
}
