//! The response cache: the answers to queries, kept a short while and
//! served again without parsing, validating or executing anything.
//!
//! An answer is found again by the request as sent (the POST body or the
//! GET query string: document, variables, operation name, extensions), the
//! media type answered, what the caller may see (its scopes and its `opco`
//! and `cfa` claims, never its identity) and the store's epoch, which
//! changes whenever the data served may have changed: a feed loaded, a
//! batch committed. So a campaign figure read after a push is never an old
//! one, and a synced feed's change is seen at once. Live partners' answers
//! are already cached by their connectors; the response cache adds at most
//! its time to live to that.
//!
//! Only complete answers to queries are kept: never a mutation's, never
//! one with an error (a partner failure is seen as soon as it recovers),
//! never a refusal. The caller's token is checked and its rate limited
//! before the cache is looked at. Answers say `x-cache: HIT` when served
//! from the cache, `x-cache: MISS` when just kept.
//!
//! Past its time to live, an answer is computed again by the first request
//! that asks for it, while the others are served the old one (`x-cache:
//! STALE`) rather than wait; at most three times to live after it was
//! kept, it is gone. Concurrent requests with no answer kept wait for a
//! single execution.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::answer::MediaType;
use crate::auth::Caller;
use crate::store::Store;

/// How long past its time to live an answer may be served while it is
/// computed again, in times to live.
const STALE_FACTOR: u32 = 3;

/// Says whether an answer came from the cache.
pub(crate) const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// An answer kept.
struct Entry {
    /// The whole key, compared on a hit: the table is indexed by its hash.
    key: Box<[u8]>,
    media: MediaType,
    body: Bytes,
    /// Until when it is served as it is; after that, while one request
    /// computes the answer again, the others are served this one.
    fresh_until: std::time::Instant,
    /// Set by the request computing it again.
    refreshing: std::sync::atomic::AtomicBool,
}

/// The cache of one process.
#[derive(Clone)]
pub struct ResponseCache {
    entries: moka::future::Cache<u64, Arc<Entry>>,
    ttl: Duration,
    hasher: std::hash::RandomState,
    store: Store,
    /// `passerelle_response_cache_total`, by result: looked up once, not
    /// in the metrics' registry for every request.
    hits: metrics::Counter,
    stale: metrics::Counter,
    misses: metrics::Counter,
}

/// How a request was sent, for its key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sent<'a> {
    /// A POST body.
    Post(&'a [u8]),
    /// A GET query string.
    Get(&'a str),
}

impl ResponseCache {
    /// A cache keeping answers `ttl`, at most `max_bytes` of them; none
    /// when `ttl` is zero.
    pub fn new(ttl: Duration, max_bytes: u64, store: Store) -> Option<Self> {
        if ttl.is_zero() || max_bytes == 0 {
            return None;
        }
        let entries = moka::future::Cache::builder()
            // Kept past its time to live, to be served while one request
            // computes it again.
            .time_to_live(ttl * STALE_FACTOR)
            .max_capacity(max_bytes)
            .weigher(|_, e: &Arc<Entry>| {
                // The cache's own records of an entry take a few hundred
                // bytes: small answers are not weightless.
                u32::try_from(e.key.len() + e.body.len() + 512).unwrap_or(u32::MAX)
            })
            .build();
        Some(Self {
            entries,
            ttl,
            hasher: std::hash::RandomState::new(),
            store,
            hits: metrics::counter!("passerelle_response_cache_total", "result" => "hit"),
            stale: metrics::counter!("passerelle_response_cache_total", "result" => "stale"),
            misses: metrics::counter!("passerelle_response_cache_total", "result" => "miss"),
        })
    }

    /// The key of a request.
    pub(crate) fn key(&self, media: MediaType, caller: &Caller, sent: Sent<'_>) -> Vec<u8> {
        let payload: &[u8] = match sent {
            Sent::Post(body) => body,
            Sent::Get(query) => query.as_bytes(),
        };
        let mut key = Vec::with_capacity(payload.len() + 32);
        key.extend_from_slice(&self.store.epoch().to_le_bytes());
        key.push(match media {
            MediaType::GraphqlResponseJson => b'g',
            MediaType::Json => b'j',
        });
        key.push(match sent {
            Sent::Post(_) => b'P',
            Sent::Get(_) => b'G',
        });
        // What the caller may see. Scopes and claims cannot hold a NUL.
        let mut scopes: Vec<&str> = caller.scopes.iter().map(String::as_str).collect();
        scopes.sort_unstable();
        for part in scopes
            .into_iter()
            .chain(caller.opco.as_deref().map(|_| "\u{1}opco"))
            .chain(caller.opco.as_deref())
            .chain(caller.cfa.as_deref().map(|_| "\u{1}cfa"))
            .chain(caller.cfa.as_deref())
        {
            key.extend_from_slice(part.as_bytes());
            key.push(0);
        }
        key.push(0);
        key.extend_from_slice(payload);
        key
    }

    /// The answer kept for `key`, or the outcome of the execution `run`
    /// makes when there is none. Concurrent requests that miss together
    /// wait for a single execution (an answer expiring under load is
    /// computed once, not once per caller); `keep` says what of its outcome
    /// may be kept. Returns the kept answer, or the execution's outcome and
    /// whether it was kept.
    pub(crate) async fn serve<T, F>(
        &self,
        key: Vec<u8>,
        run: impl FnOnce() -> F,
        keep: impl FnOnce(&T) -> Option<(MediaType, Bytes)>,
    ) -> Result<Response, (T, bool)>
    where
        F: std::future::Future<Output = T>,
    {
        let hash = self.hasher.hash_one(&key);
        // An answer past its time to live is served while one request
        // computes it again: under load, an expiring answer costs no
        // caller a wait.
        let found = self.entries.get(&hash).await.filter(|e| *e.key == *key);
        if let Some(e) = &found {
            use std::sync::atomic::Ordering;
            if std::time::Instant::now() < e.fresh_until {
                return Ok(self.served(e, Kept::Fresh));
            }
            if e.refreshing.swap(true, Ordering::AcqRel) {
                return Ok(self.served(e, Kept::Stale));
            }
        }
        // The execution is a large future, awaited on several paths below:
        // boxed, it is held once, behind a pointer (deep stacks overflowed).
        // Made only here: a request served from the cache makes none.
        let run = Box::pin(run());
        if found.is_some() {
            let outcome = run.await;
            let kept = keep(&outcome).map(|(media, body)| self.entry(&key, media, body));
            let stored = kept.is_some();
            match kept {
                Some(fresh) => self.entries.insert(hash, fresh).await,
                None => self.entries.invalidate(&hash).await,
            }
            self.misses.increment(1);
            return Err((outcome, stored));
        }
        let mut run = Some(run);
        let mut ran: Option<(T, bool)> = None;
        let entry = self
            .entries
            .optionally_get_with(hash, async {
                let outcome = run.take().expect("run once").await;
                let kept = keep(&outcome).map(|(media, body)| self.entry(&key, media, body));
                ran = Some((outcome, kept.is_some()));
                kept
            })
            .await;
        if let Some(outcome) = ran {
            self.misses.increment(1);
            return Err(outcome);
        }
        match entry.filter(|e| *e.key == *key) {
            Some(e) => Ok(self.served(&e, Kept::Fresh)),
            // Another request's answer (a hash shared by two keys), or one
            // that could not be kept: this request runs its own.
            None => {
                let run = run.take().expect("not run yet");
                Err((run.await, false))
            }
        }
    }

    fn entry(&self, key: &[u8], media: MediaType, body: Bytes) -> Arc<Entry> {
        Arc::new(Entry {
            key: key.into(),
            media,
            body,
            fresh_until: std::time::Instant::now() + self.ttl,
            refreshing: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// A kept answer, as sent: `x-cache` says `HIT`, or `STALE` when it is
    /// served while computed again.
    fn served(&self, e: &Entry, how: Kept) -> Response {
        let (header, counter) = match how {
            Kept::Fresh => ("HIT", &self.hits),
            Kept::Stale => ("STALE", &self.stale),
        };
        counter.increment(1);
        (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, e.media.header()),
                (X_CACHE, HeaderValue::from_static(header)),
            ],
            e.body.clone(),
        )
            .into_response()
    }
}

/// How a kept answer is served: fresh, or past its time to live while
/// another request computes it again.
#[derive(Clone, Copy)]
enum Kept {
    Fresh,
    Stale,
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn cache() -> (tempfile::TempDir, ResponseCache) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let cache = ResponseCache::new(Duration::from_secs(60), 1 << 20, store).unwrap();
        (dir, cache)
    }

    fn caller(scopes: &[&str], opco: Option<&str>, cfa: Option<&str>) -> Caller {
        Caller {
            subject: Some("someone".into()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            opco: opco.map(str::to_owned),
            cfa: cfa.map(str::to_owned),
            expires: None,
        }
    }

    #[tokio::test]
    async fn keys_tell_apart_what_callers_may_see_but_not_who_they_are() {
        let (_dir, c) = cache().await;
        let body = Sent::Post(br#"{"query":"{ partners { id } }"}"#);
        let media = MediaType::Json;
        let key = |caller: &Caller| c.key(media, caller, body);
        let bi = caller(&["region:bi", "offers:read"], None, None);
        let mut other_bi = caller(&["offers:read", "region:bi"], None, None);
        other_bi.subject = Some("someone else".into());
        assert_eq!(key(&bi), key(&other_bi), "same visibility, other subject");
        for different in [
            Caller::default(),
            caller(&["region:bi"], None, None),
            caller(&["region:bi", "offers:read"], Some("AKTO"), None),
            caller(&["region:bi", "offers:read"], None, Some("0141687H")),
        ] {
            assert_ne!(key(&bi), key(&different), "{different:?}");
        }
        // A claim cannot pass for a scope.
        assert_ne!(
            key(&caller(&["AKTO"], None, None)),
            key(&caller(&[], Some("AKTO"), None))
        );
        assert_ne!(
            c.key(MediaType::GraphqlResponseJson, &bi, body),
            key(&bi),
            "media types"
        );
        assert_ne!(
            c.key(media, &bi, Sent::Get("query=%7B%7D")),
            c.key(media, &bi, Sent::Post(b"query=%7B%7D")),
        );
    }

    #[tokio::test]
    async fn an_answer_is_served_until_the_data_changes() {
        let (_dir, c) = cache().await;
        let anonymous = Caller::default();
        let sent = Sent::Post(b"{\"query\":\"{ offers { totalCount } }\"}");
        let answer = || async { Bytes::from_static(b"{\"data\":1}") };
        let keep = |b: &Bytes| Some((MediaType::Json, b.clone()));
        let key = c.key(MediaType::Json, &anonymous, sent);
        let first = c.serve(key.clone(), answer, keep).await;
        assert!(matches!(first, Err((_, true))), "run and kept");
        let hit = c
            .serve(
                key.clone(),
                || async { unreachable!("a hit runs nothing") },
                keep,
            )
            .await
            .unwrap_or_else(|_| panic!("kept"));
        assert_eq!(
            hit.headers()[header::CONTENT_TYPE],
            MediaType::Json.header()
        );
        let body = axum::body::to_bytes(hit.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"{\"data\":1}");

        c.store.data_changed();
        let after = c.key(MediaType::Json, &anonymous, sent);
        assert_ne!(after, key);
        assert!(
            c.serve(after, answer, keep).await.is_err(),
            "a new epoch runs"
        );
    }

    #[tokio::test]
    async fn concurrent_misses_run_once_and_unkept_outcomes_run_each() {
        let (_dir, c) = cache().await;
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let key = c.key(MediaType::Json, &Caller::default(), Sent::Get("query=x"));
        let slow = || async {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Bytes::from_static(b"{}")
        };
        let keep = |b: &Bytes| Some((MediaType::Json, b.clone()));
        let all = futures::future::join_all((0..8).map(|_| c.serve(key.clone(), slow, keep))).await;
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(all.iter().filter(|r| r.is_ok()).count(), 7);

        let other = c.key(MediaType::Json, &Caller::default(), Sent::Get("query=y"));
        let never = |_: &Bytes| None;
        for _ in 0..2 {
            assert!(matches!(
                c.serve(other.clone(), slow, never).await,
                Err((_, false))
            ));
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_expired_answer_is_served_while_one_request_computes_it_again() {
        let (_dir, c) = cache().await;
        let c = ResponseCache::new(Duration::from_millis(200), 1 << 20, c.store.clone()).unwrap();
        let key = c.key(MediaType::Json, &Caller::default(), Sent::Get("query=z"));
        let keep = |b: &Bytes| Some((MediaType::Json, b.clone()));
        let answer = |v: &'static [u8]| async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Bytes::from_static(v)
        };
        assert!(c.serve(key.clone(), || answer(b"1"), keep).await.is_err());
        tokio::time::sleep(Duration::from_millis(250)).await;
        // Expired: one request computes it again, the other is served the
        // old answer meanwhile.
        let (refresher, waiter) =
            tokio::join!(c.serve(key.clone(), || answer(b"2"), keep), async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                c.serve(key.clone(), || async { unreachable!("served stale") }, keep)
                    .await
            });
        assert!(matches!(refresher, Err((ref b, true)) if &b[..] == b"2"));
        let stale = waiter.unwrap_or_else(|_| panic!("served"));
        assert_eq!(stale.headers()["x-cache"], "STALE");
        let body = axum::body::to_bytes(stale.into_body(), 64).await.unwrap();
        assert_eq!(&body[..], b"1");
        // The new answer is served fresh.
        let hit = c
            .serve(key, || async { unreachable!("fresh") }, keep)
            .await
            .unwrap_or_else(|_| panic!("kept"));
        assert_eq!(hit.headers()["x-cache"], "HIT");
    }

    #[tokio::test]
    async fn no_cache_without_a_time_to_live() {
        let (_dir, c) = cache().await;
        assert!(ResponseCache::new(Duration::ZERO, 1 << 20, c.store.clone()).is_none());
    }
}
