//! What stands between Passerelle and a partner that misbehaves: a bulkhead,
//! a circuit breaker, and retries of transient failures with exponential
//! backoff, full jitter and a retry budget.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use passerelle_schema::Partner;
use rand::Rng;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::ConnectorError;

tokio::task_local! {
    /// When the GraphQL operation being answered must be done: partner calls
    /// made for it give up then, and are not retried past it.
    static DEADLINE: Instant;
}

/// Runs `f` with a deadline that the partner calls it makes respect.
pub async fn within_deadline<F: Future>(deadline: Instant, f: F) -> F::Output {
    DEADLINE.scope(deadline, f).await
}

/// The deadline of the operation being answered, if any: work spawned for
/// it (batch loads) carries it on with [`within_deadline`].
pub fn current_deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

fn deadline() -> Option<Instant> {
    current_deadline()
}

/// How one partner's calls are protected. Every setting has a default that
/// suits a partner answering in well under a second.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceSettings {
    /// Retries of transient failures (timeouts, 429, 5xx, connection errors).
    #[serde(default)]
    pub retry: RetrySettings,
    /// The circuit breaker.
    #[serde(default)]
    pub breaker: BreakerSettings,
    /// Calls to the partner under way at once, at most (the bulkhead): a
    /// slow partner holds these and no more of the gateway's workers.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// How long a call may wait for a free place in the bulkhead.
    #[serde(default = "default_queue_timeout", with = "humantime_serde")]
    pub queue_timeout: Duration,
    /// How long a request waits for a live partner's answer that is not
    /// cached (never past the operation's deadline). Past it, the request
    /// is answered with the partner's last good answer (`STALE_DATA`) or
    /// without it (`PARTNER_TIMEOUT`), and the answer is loaded on in the
    /// background to fill the cache.
    #[serde(default = "default_latency_budget", with = "humantime_serde")]
    pub latency_budget: Duration,
    /// How long a load of a live partner's answer may take in all, in the
    /// background after the request that started it stopped waiting.
    #[serde(default = "default_load_timeout", with = "humantime_serde")]
    pub load_timeout: Duration,
}

/// Retries of transient failures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    /// Attempts in all, the first included (1 disables retries).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// The first backoff's ceiling; it doubles at each retry.
    #[serde(default = "default_base_delay", with = "humantime_serde")]
    pub base_delay: Duration,
    /// The longest wait before a retry; a `Retry-After` longer than this
    /// is not waited for.
    #[serde(default = "default_max_delay", with = "humantime_serde")]
    pub max_delay: Duration,
    /// Retries allowed per call made, on average (0.2: one retry for five
    /// calls), so that retries cannot multiply the load on a partner that
    /// is struggling.
    #[serde(default = "default_budget")]
    pub budget: f64,
}

/// The circuit breaker: after `failure_threshold` failures in a row, calls
/// fail at once for `open_for`; then one probe call decides whether it
/// closes again.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    /// Failures in a row that open it.
    #[serde(default = "default_threshold")]
    pub failure_threshold: u32,
    /// How long it stays open before a probe.
    #[serde(default = "default_open_for", with = "humantime_serde")]
    pub open_for: Duration,
}

fn default_concurrency() -> usize {
    32
}
fn default_queue_timeout() -> Duration {
    Duration::from_secs(2)
}
fn default_latency_budget() -> Duration {
    Duration::from_millis(1500)
}
fn default_load_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_attempts() -> u32 {
    3
}
fn default_base_delay() -> Duration {
    Duration::from_millis(100)
}
fn default_max_delay() -> Duration {
    Duration::from_secs(2)
}
fn default_budget() -> f64 {
    0.2
}
fn default_threshold() -> u32 {
    5
}
fn default_open_for() -> Duration {
    Duration::from_secs(10)
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: default_attempts(),
            base_delay: default_base_delay(),
            max_delay: default_max_delay(),
            budget: default_budget(),
        }
    }
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failure_threshold: default_threshold(),
            open_for: default_open_for(),
        }
    }
}

impl Default for ResilienceSettings {
    fn default() -> Self {
        Self {
            retry: RetrySettings::default(),
            breaker: BreakerSettings::default(),
            max_concurrency: default_concurrency(),
            queue_timeout: default_queue_timeout(),
            latency_budget: default_latency_budget(),
            load_timeout: default_load_timeout(),
        }
    }
}

/// The state of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail at once.
    Open,
    /// One probe call goes through; the others fail at once.
    HalfOpen,
}

impl BreakerState {
    /// The state as a number, for a gauge: 0 closed, 1 half-open, 2 open.
    pub fn as_gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

#[derive(Debug)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// Retry tokens: each call adds `budget`, each retry takes one.
#[derive(Debug)]
struct Budget {
    tokens: f64,
}

/// The most retry tokens saved up.
const MAX_TOKENS: f64 = 10.0;

/// A partner's call policy: the bulkhead, circuit breaker, retries and
/// retry budget every call to the partner goes through.
#[derive(Debug)]
pub struct CallPolicy {
    partner: Partner,
    settings: ResilienceSettings,
    breaker: Mutex<Breaker>,
    budget: Mutex<Budget>,
    permits: Semaphore,
}

impl CallPolicy {
    /// A call policy with these settings.
    pub fn new(partner: Partner, settings: ResilienceSettings) -> Self {
        Self {
            partner,
            permits: Semaphore::new(settings.max_concurrency.max(1)),
            settings,
            breaker: Mutex::new(Breaker {
                failures: 0,
                open_until: None,
                probing: false,
            }),
            budget: Mutex::new(Budget { tokens: MAX_TOKENS }),
        }
    }

    /// The breaker's state now.
    pub fn state(&self) -> BreakerState {
        let b = self.breaker.lock().expect("breaker lock");
        match b.open_until {
            None => BreakerState::Closed,
            Some(until) if Instant::now() < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// Whether a call may go out now; in half-open state, only the probe.
    fn admit(&self) -> bool {
        let mut b = self.breaker.lock().expect("breaker lock");
        match b.open_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) if b.probing => false,
            Some(_) => {
                b.probing = true;
                true
            }
        }
    }

    fn record(&self, ok: bool) {
        let mut b = self.breaker.lock().expect("breaker lock");
        b.probing = false;
        if ok {
            if b.open_until.is_some() {
                tracing::info!(partner = %self.partner, "circuit closed");
            }
            b.failures = 0;
            b.open_until = None;
        } else {
            b.failures += 1;
            let reopen = b.open_until.is_some();
            if reopen || b.failures >= self.settings.breaker.failure_threshold {
                if !reopen {
                    tracing::warn!(partner = %self.partner, failures = b.failures, "circuit opened");
                }
                b.open_until = Some(Instant::now() + self.settings.breaker.open_for);
            }
        }
        metrics::gauge!("passerelle_breaker_state", "partner" => self.partner.id()).set(
            match b.open_until {
                None => 0.0,
                Some(_) => 2.0,
            },
        );
    }

    fn may_retry(&self) -> bool {
        let mut b = self.budget.lock().expect("budget lock");
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn deposit(&self) {
        let mut b = self.budget.lock().expect("budget lock");
        b.tokens = (b.tokens + self.settings.retry.budget).min(MAX_TOKENS);
    }

    /// The wait before retry `attempt` (1 for the first retry): a random
    /// time up to the exponential ceiling ("full jitter"), or the partner's
    /// `Retry-After` when it gave one.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let r = &self.settings.retry;
        if let Some(after) = retry_after {
            return (after <= r.max_delay).then_some(after);
        }
        let ceiling = r
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(r.max_delay);
        Some(ceiling.mul_f64(rand::thread_rng().gen_range(0.0..=1.0)))
    }

    /// Makes a call through the bulkhead and the breaker, retrying
    /// transient failures within the budget. `call` is run once per
    /// attempt.
    pub async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        mut call: F,
    ) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let partner = self.partner;
        let started = Instant::now();
        let span = tracing::info_span!(
            "partner.call",
            otel.name = format!("{partner} {operation}"),
            otel.kind = "client",
            partner = partner.id(),
            operation,
            retries = tracing::field::Empty,
            outcome = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
        );
        let retries = std::sync::atomic::AtomicU32::new(0);
        let outcome = async {
            if !self.admit() {
                return Err(ConnectorError::CircuitOpen { partner });
            }
            let _permit = match tokio::time::timeout(self.settings.queue_timeout, self.permits.acquire()).await {
                Ok(Ok(p)) => p,
                _ => {
                    // The probe, if this was it, did not happen: let another try.
                    self.breaker.lock().expect("breaker lock").probing = false;
                    return Err(ConnectorError::Unavailable {
                        partner,
                        reason: "too many calls under way".into(),
                        retry_after: None,
                    });
                }
            };
            self.deposit();
            let deadline = deadline();
            let mut attempt = 1;
            loop {
                let result = match deadline {
                    Some(d) => match tokio::time::timeout_at(d, call()).await {
                        Ok(r) => r,
                        Err(_) => Err(ConnectorError::Timeout { partner }),
                    },
                    None => call().await,
                };
                match result {
                    Ok(v) => {
                        self.record(true);
                        return Ok(v);
                    }
                    Err(e) if e.is_transient() && attempt < self.settings.retry.max_attempts => {
                        let wait = self
                            .backoff(attempt, e.retry_after())
                            .filter(|w| deadline.is_none_or(|d| Instant::now() + *w < d));
                        match wait.filter(|_| self.may_retry()) {
                            Some(wait) => {
                                tracing::debug!(partner = %partner, attempt, wait_ms = wait.as_millis() as u64, error = %e, "retrying");
                                metrics::counter!("passerelle_partner_retries_total", "partner" => partner.id()).increment(1);
                                tokio::time::sleep(wait).await;
                                attempt += 1;
                                retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            None => {
                                self.record(false);
                                return Err(e);
                            }
                        }
                    }
                    Err(e) => {
                        // A refusal or a bad answer says nothing of the
                        // partner's health; only transient failures count.
                        self.record(!e.is_transient());
                        return Err(e);
                    }
                }
            }
        }
        .instrument(span.clone())
        .await;
        let label = match &outcome {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        span.record(
            "retries",
            retries.load(std::sync::atomic::Ordering::Relaxed),
        );
        span.record("outcome", label);
        metrics::counter!("passerelle_partner_calls_total", "partner" => partner.id(), "outcome" => label).increment(1);
        metrics::histogram!("passerelle_partner_call_duration_seconds", "partner" => partner.id())
            .record(started.elapsed().as_secs_f64());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn settings(attempts: u32, threshold: u32) -> ResilienceSettings {
        ResilienceSettings {
            retry: RetrySettings {
                max_attempts: attempts,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                budget: 0.2,
            },
            breaker: BreakerSettings {
                failure_threshold: threshold,
                open_for: Duration::from_millis(50),
            },
            ..ResilienceSettings::default()
        }
    }

    fn down() -> ConnectorError {
        ConnectorError::Unavailable {
            partner: crate::cci::PARTNER,
            reason: "HTTP 503".into(),
            retry_after: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_and_refusals_are_not() {
        let policy = CallPolicy::new(crate::cci::PARTNER, settings(3, 100));
        let calls = AtomicU32::new(0);
        let r = policy
            .call("test", || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(down())
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let r: Result<(), _> = policy
            .call("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ConnectorError::Auth {
                    partner: crate::cci::PARTNER,
                    reason: "HTTP 401".into(),
                })
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_budget_caps_retries() {
        let policy = CallPolicy::new(crate::cci::PARTNER, settings(3, 1000));
        let calls = AtomicU32::new(0);
        for _ in 0..50 {
            let _: Result<(), _> = policy
                .call("test", || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(down())
                })
                .await;
        }
        // 50 calls; retries at most the 10 saved tokens plus 0.2 per call.
        let n = calls.load(Ordering::SeqCst);
        assert!(n <= 50 + 10 + 10, "{n} attempts");
        assert!(n > 50, "no retry at all");
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_opens_fails_fast_then_closes_after_a_good_probe() {
        let policy = CallPolicy::new(crate::cci::PARTNER, settings(1, 3));
        for _ in 0..3 {
            let _: Result<(), _> = policy.call("test", || async { Err(down()) }).await;
        }
        assert_eq!(policy.state(), BreakerState::Open);
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = policy
            .call("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert_eq!(r.unwrap_err().code(), "CIRCUIT_OPEN");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        tokio::time::advance(Duration::from_millis(60)).await;
        assert_eq!(policy.state(), BreakerState::HalfOpen);
        policy.call("test", || async { Ok(()) }).await.unwrap();
        assert_eq!(policy.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_gives_up_at_the_operations_deadline_and_is_not_retried_past_it() {
        let policy = CallPolicy::new(crate::cci::PARTNER, settings(3, 100));
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_millis(500);
        let r: Result<(), _> = within_deadline(
            deadline,
            policy.call("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            }),
        )
        .await;
        assert_eq!(r.unwrap_err().code(), "PARTNER_TIMEOUT");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(Instant::now() <= deadline + Duration::from_millis(1));
    }

    #[test]
    fn backoff_is_jittered_under_a_doubling_ceiling_and_honours_retry_after() {
        let policy = CallPolicy::new(crate::cci::PARTNER, ResilienceSettings::default());
        for attempt in 1..5 {
            let ceiling = Duration::from_millis(100) * (1 << attempt);
            let wait = policy.backoff(attempt, None).unwrap();
            assert!(wait <= ceiling.min(Duration::from_secs(2)));
        }
        assert_eq!(
            policy.backoff(1, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(policy.backoff(1, Some(Duration::from_secs(30))), None);
    }
}
