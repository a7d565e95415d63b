//! The cache of live partners' answers.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use passerelle_schema::Partner;
use tracing::Instrument;

use crate::ConnectorError;

/// An answer from the cache, and whether it is stale: served after the
/// partner failed, from the last good answer.
#[derive(Debug)]
pub struct Cached<V> {
    /// The answer.
    pub value: Arc<V>,
    /// The failure that made the cache serve a stale answer, if it did.
    pub stale_because: Option<ConnectorError>,
}

impl<V> std::ops::Deref for Cached<V> {
    type Target = V;
    fn deref(&self) -> &V {
        &self.value
    }
}

/// What an entry costs besides its answer: its key and the cache's own
/// records of it. Without it, thousands of small answers (searches that
/// found nothing) would hold far more than the bound.
const ENTRY_BYTES: u32 = 512;

/// A bounded cache of a live partner's answers: entries are fresh for `ttl`,
/// the cache holds at most `max_bytes` of answers (as weighed by the
/// caller), and concurrent loads of the same key make one upstream call.
/// Failures are never cached; when a load fails, the last good answer of
/// the key is served for `stale_for` more, marked stale.
pub struct LiveCache<K, V> {
    partner: Partner,
    fresh: Cache<K, Arc<V>>,
    stale: Cache<K, Arc<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
    stales: AtomicU64,
}

impl<K, V> LiveCache<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Send + Sync + 'static,
{
    /// A cache of `partner`'s answers, weighed by `weigh` (bytes, roughly).
    pub fn new(
        partner: Partner,
        ttl: Duration,
        stale_for: Duration,
        max_bytes: u64,
        weigh: fn(&V) -> u32,
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
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stales: AtomicU64::new(0),
        }
    }

    /// The cached answer for `key`, or the one `load` gives (shared with any
    /// caller asking for the same key meanwhile), or the last good one when
    /// `load` fails.
    pub async fn get_or_load<F>(&self, key: K, load: F) -> Result<Cached<V>, ConnectorError>
    where
        F: std::future::Future<Output = Result<V, ConnectorError>>,
    {
        let span = tracing::info_span!(
            "cache.lookup",
            partner = self.partner.id(),
            result = tracing::field::Empty
        );
        let entry = self
            .fresh
            .entry(key.clone())
            .or_try_insert_with(async { load.await.map(Arc::new) })
            .instrument(span.clone())
            .await;
        let partner = self.partner.id();
        match entry {
            Ok(entry) => {
                let (counter, label) = if entry.is_fresh() {
                    (&self.misses, "miss")
                } else {
                    (&self.hits, "hit")
                };
                counter.fetch_add(1, Ordering::Relaxed);
                span.record("result", label);
                metrics::counter!("passerelle_cache_requests_total", "partner" => partner, "result" => label).increment(1);
                let fresh = entry.is_fresh();
                let value = entry.into_value();
                // Kept as the last good answer when loaded; a hit's is
                // there already, for longer than the fresh one.
                if fresh {
                    self.stale.insert(key, value.clone()).await;
                }
                metrics::gauge!("passerelle_cache_bytes", "partner" => partner)
                    .set(self.fresh.weighted_size() as f64);
                Ok(Cached {
                    value,
                    stale_because: None,
                })
            }
            Err(e) => match self.stale.get(&key).await {
                Some(value) => {
                    self.stales.fetch_add(1, Ordering::Relaxed);
                    span.record("result", "stale");
                    metrics::counter!("passerelle_cache_requests_total", "partner" => partner, "result" => "stale").increment(1);
                    Ok(Cached {
                        value,
                        stale_because: Some((*e).clone()),
                    })
                }
                None => Err((*e).clone()),
            },
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

    /// Drops every fresh entry; stale ones stay for their window.
    pub fn clear(&self) {
        self.fresh.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn cache() -> LiveCache<u32, String> {
        LiveCache::new(
            Partner::Cci,
            Duration::from_secs(60),
            Duration::from_secs(600),
            1 << 20,
            |v| v.len() as u32,
        )
    }

    #[tokio::test]
    async fn concurrent_identical_loads_make_one_call() {
        let cache = cache();
        let calls = Arc::new(AtomicUsize::new(0));
        let load = |calls: Arc<AtomicUsize>| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, ConnectorError>("answer".to_owned())
        };
        let results =
            futures::future::join_all((0..20).map(|_| cache.get_or_load(1, load(calls.clone()))))
                .await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|c| c.value.as_str() == "answer")));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats(), (19, 1));
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = cache();
        let failed = cache
            .get_or_load(1, async {
                Err(ConnectorError::Timeout {
                    partner: Partner::Cci,
                })
            })
            .await;
        assert!(failed.is_err());
        let ok = cache
            .get_or_load(1, async { Ok("x".to_owned()) })
            .await
            .unwrap();
        assert_eq!(ok.value.as_str(), "x");
        assert!(ok.stale_because.is_none());
    }

    #[tokio::test]
    async fn the_last_good_answer_is_served_stale_when_the_partner_fails() {
        let cache = cache();
        cache
            .get_or_load(1, async { Ok("good".to_owned()) })
            .await
            .unwrap();
        cache.clear();
        let served = cache
            .get_or_load(1, async {
                Err(ConnectorError::Timeout {
                    partner: Partner::Cci,
                })
            })
            .await
            .unwrap();
        assert_eq!(served.value.as_str(), "good");
        assert_eq!(served.stale_because.unwrap().code(), "PARTNER_TIMEOUT");
        assert_eq!(cache.stale_served(), 1);
    }
}
