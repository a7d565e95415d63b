//! The cache of live partners' answers.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::ConnectorError;

/// A bounded cache of a live partner's answers: entries live `ttl`, the
/// cache holds at most `max_bytes` of answers (as weighed by the caller),
/// and concurrent loads of the same key make one upstream call. Failures are
/// never cached.
pub struct LiveCache<K, V> {
    cache: Cache<K, Arc<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> LiveCache<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Send + Sync + 'static,
{
    /// A cache of answers weighed by `weigh` (bytes, roughly).
    pub fn new(ttl: Duration, max_bytes: u64, weigh: fn(&V) -> u32) -> Self {
        Self {
            cache: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(max_bytes)
                .weigher(move |_k: &K, v: &Arc<V>| weigh(v))
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached answer for `key`, or the one `load` gives (shared with any
    /// caller asking for the same key meanwhile).
    pub async fn get_or_load<F>(&self, key: K, load: F) -> Result<Arc<V>, ConnectorError>
    where
        F: std::future::Future<Output = Result<V, ConnectorError>>,
    {
        let entry = self
            .cache
            .entry(key)
            .or_try_insert_with(async { load.await.map(Arc::new) })
            .await
            .map_err(|e: Arc<ConnectorError>| (*e).clone())?;
        let counter = if entry.is_fresh() {
            &self.misses
        } else {
            &self.hits
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(entry.into_value())
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_schema::Partner;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn concurrent_identical_loads_make_one_call() {
        let cache: LiveCache<u32, String> =
            LiveCache::new(Duration::from_secs(60), 1 << 20, |v| v.len() as u32);
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
            .all(|r| r.as_deref().map(String::as_str) == Ok("answer")));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats(), (19, 1));
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache: LiveCache<u32, String> =
            LiveCache::new(Duration::from_secs(60), 1 << 20, |v| v.len() as u32);
        let failed = cache
            .get_or_load(1, async {
                Err(ConnectorError::Timeout {
                    partner: Partner::Cci,
                })
            })
            .await;
        assert!(failed.is_err());
        let ok = cache.get_or_load(1, async { Ok("x".to_owned()) }).await;
        assert_eq!(ok.unwrap().as_str(), "x");
    }
}
