//! The identity provider's published keys (its JWKS): fetched on the
//! schedule its `Cache-Control` sets, within bounds, and when a token names
//! a key not in the set, at most once per cooldown and one fetch at a time.
//! Each fetch replaces the set, so a key the provider withdraws is no
//! longer trusted after the next one.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, AGE, CACHE_CONTROL};
use tokio::sync::{watch, Mutex};
use tokio::time::Instant;

use super::keys::{parse_set, Key};

pub use crate::config::JwksRefresh;

impl JwksRefresh {
    /// How long to keep keys the provider says are fresh for `freshness`
    /// (none: it does not say).
    pub(super) fn keep_for(&self, freshness: Option<Duration>) -> Duration {
        freshness
            .unwrap_or(self.default)
            .max(self.min)
            .min(self.max)
    }
}

/// How long a response may be used, as its `Cache-Control` says: `max-age`
/// less its `Age`; zero for `no-cache` or `no-store`; none when it does not
/// say.
pub(super) fn freshness(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    for directive in headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            max_age = value.trim().trim_matches('"').parse::<u64>().ok();
        }
    }
    let age = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    max_age.map(|m| Duration::from_secs(m.saturating_sub(age)))
}

/// What the fetches of the published keys did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyFetches {
    /// How many were made, successful or not.
    pub count: u64,
    /// Whether the last one failed (the keys last published are kept).
    pub failed: bool,
    /// How long after the last one the next is due.
    pub next_after: Duration,
}

/// Why a fetch failed; logged, never shown to callers.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("the answer is not a JWKS: {0}")]
    Body(#[from] serde_json::Error),
}

/// The fetches' bookkeeping, held while one is under way.
struct State {
    /// When the last fetch started.
    last: Option<Instant>,
    /// When the keys are to be fetched again.
    due: Instant,
}

/// The keys published at a JWKS URL.
pub(super) struct Jwks {
    url: url::Url,
    http: reqwest::Client,
    pub(super) refresh: JwksRefresh,
    keys: RwLock<Arc<[Key]>>,
    /// Locked while a fetch is under way: callers wait for it rather than
    /// start their own.
    state: Mutex<State>,
    /// The fetches done.
    fetches: watch::Sender<KeyFetches>,
}

impl Jwks {
    /// The keys at `url`, none fetched yet: the first fetch is due now.
    pub fn new(url: url::Url, refresh: JwksRefresh) -> Self {
        Self {
            url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("the TLS backend initialises"),
            refresh,
            keys: RwLock::new(Arc::from(Vec::new())),
            state: Mutex::new(State {
                last: None,
                due: Instant::now(),
            }),
            fetches: watch::channel(KeyFetches::default()).0,
        }
    }

    /// The keys of the last successful fetch, and the count of fetches
    /// done when they were read.
    pub fn keys(&self) -> (Arc<[Key]>, u64) {
        let done = self.fetches.borrow().count;
        (self.keys.read().expect("keys lock").clone(), done)
    }

    /// The fetches done, to watch.
    pub fn fetches(&self) -> watch::Receiver<KeyFetches> {
        self.fetches.subscribe()
    }

    /// Fetches again for a token whose key is not among those read after
    /// `seen` fetches: unless a fetch ended since (the caller waits for
    /// one under way) or the last one started less than the cooldown ago.
    /// Whether the keys are now as the provider last published them
    /// (false: the last fetch failed).
    pub async fn refresh_for_unknown(&self, seen: u64) -> bool {
        let mut state = self.state.lock().await;
        let cooling = state
            .last
            .is_some_and(|at| at.elapsed() < self.refresh.cooldown);
        if self.fetches.borrow().count == seen && !cooling {
            self.fetch(&mut state).await;
        }
        !self.fetches.borrow().failed
    }

    /// Fetches the keys when they are due; when they are to be fetched
    /// next.
    pub async fn refresh_when_due(&self) -> Instant {
        let mut state = self.state.lock().await;
        if state.due <= Instant::now() {
            self.fetch(&mut state).await;
        }
        state.due
    }

    /// When the keys are to be fetched next.
    pub async fn due(&self) -> Instant {
        self.state.lock().await.due
    }

    async fn fetch(&self, state: &mut State) {
        state.last = Some(Instant::now());
        let (failed, next_after) = match self.get().await {
            Ok((keys, freshness)) => {
                let keep = self.refresh.keep_for(freshness);
                self.install(keys);
                tracing::debug!(next_in = ?keep, "the identity provider's keys were fetched");
                (false, keep)
            }
            Err(e) => {
                // The keys last published are kept meanwhile.
                tracing::warn!(error = %e, url = %self.url, "the identity provider's keys could not be fetched");
                (true, self.refresh.min)
            }
        };
        state.due = Instant::now() + next_after;
        let outcome = if failed { "error" } else { "ok" };
        metrics::counter!("passerelle_jwks_fetches_total", "outcome" => outcome).increment(1);
        self.fetches.send_modify(|f| {
            f.count += 1;
            f.failed = failed;
            f.next_after = next_after;
        });
    }

    async fn get(&self) -> Result<(Vec<Key>, Option<Duration>), FetchError> {
        let response = self
            .http
            .get(self.url.clone())
            .send()
            .await?
            .error_for_status()?;
        let freshness = freshness(response.headers());
        let body = response.bytes().await?;
        let (keys, left_out) = parse_set(&body)?;
        if left_out > 0 {
            tracing::debug!(
                left_out,
                "keys of the identity provider's set this gateway cannot use were left out"
            );
        }
        Ok((keys, freshness))
    }

    /// Replaces the keys, saying which came and went.
    fn install(&self, keys: Vec<Key>) {
        let kids = |keys: &[Key]| {
            let mut kids: Vec<String> = keys.iter().filter_map(|k| k.kid.clone()).collect();
            kids.sort();
            kids
        };
        let mut current = self.keys.write().expect("keys lock");
        let (before, after) = (kids(&current), kids(&keys));
        if !current.is_empty() && before != after {
            let gone: Vec<&String> = before.iter().filter(|k| !after.contains(k)).collect();
            let new: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
            tracing::info!(?gone, ?new, "the identity provider's keys changed");
        }
        *current = Arc::from(keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn cache_control_says_how_long_keys_stay_fresh() {
        let secs = |n| Some(Duration::from_secs(n));
        assert_eq!(freshness(&headers(&[])), None);
        assert_eq!(
            freshness(&headers(&[("cache-control", "public, max-age=600")])),
            secs(600)
        );
        assert_eq!(
            freshness(&headers(&[
                ("cache-control", "public"),
                ("cache-control", "Max-Age=\"120\", must-revalidate")
            ])),
            secs(120)
        );
        assert_eq!(
            freshness(&headers(&[
                ("cache-control", "max-age=600"),
                ("age", "100")
            ])),
            secs(500)
        );
        assert_eq!(
            freshness(&headers(&[("cache-control", "no-store, max-age=600")])),
            secs(0)
        );
        assert_eq!(
            freshness(&headers(&[("cache-control", "max-age=soon")])),
            None
        );
    }

    #[test]
    fn the_provider_says_how_long_within_bounds() {
        let refresh = JwksRefresh::default();
        let secs = Duration::from_secs;
        assert_eq!(refresh.keep_for(Some(secs(900))), secs(900));
        assert_eq!(refresh.keep_for(Some(secs(0))), refresh.min);
        assert_eq!(refresh.keep_for(Some(secs(1))), secs(60));
        assert_eq!(refresh.keep_for(Some(secs(86_400))), secs(3600));
        assert_eq!(refresh.keep_for(None), refresh.default);
    }
}
