//! Delivering saved alerts' webhooks from the outbox, as the Standard
//! Webhooks specification has it: each delivery is a POST of its body,
//! rendered from the batches it points into (which never change, so every
//! attempt sends the same bytes), with `webhook-id` (stable across
//! retries, so that a receiver deduplicates), `webhook-timestamp` and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
//! `id.timestamp.body` under the alert's secret). A 2xx delivers; 410 disables the alert; anything else
//! is tried again with exponential backoff and jitter until `retry_for`
//! has passed, then dead-lettered.
//!
//! Targets are checked at each delivery, and by the client's resolver
//! ([`super::target`]). Redirects are not followed.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::target::{GuardedResolver, TargetError, TargetGuard, NOT_ALLOWED};
use super::{now_us, AlertSettings};
use crate::store::alerts::{AlertRow, Attempted, DeliveryRow};
use crate::store::Store;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A new signing secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system's random source");
    format!("whsec_{}", B64.encode(bytes))
}

/// The `webhook-signature` of a delivery.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|k| B64.decode(k).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let tag = ring::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", B64.encode(tag.as_ref()))
}

/// What a client is told of a request that got no answer: the resolver's
/// refusal (the name now resolves to a forbidden address) as any refused
/// target, or the kind of failure; never the transport's own words, which
/// would tell what lies behind the name.
fn sent_error(e: &reqwest::Error) -> &'static str {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<TargetError>().is_some() {
            return NOT_ALLOWED;
        }
        source = s.source();
    }
    if e.is_timeout() {
        "the receiver did not answer in time"
    } else if e.is_connect() {
        "the receiver could not be reached"
    } else {
        "the request to the receiver failed"
    }
}

/// An error and its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A batch's offers as webhooks show them.
struct RenderedBatch {
    detected_at: String,
    offers: Vec<serde_json::Value>,
    /// The sets of places in `offers` deliveries carry.
    sets: Vec<Vec<u32>>,
}

/// Delivers the outbox's webhooks.
pub struct Deliverer {
    store: Store,
    /// Batches read, for the deliveries that point into them.
    batches: moka::future::Cache<i64, Arc<RenderedBatch>>,
    client: reqwest::Client,
    guard: TargetGuard,
    settings: AlertSettings,
    /// Woken when deliveries are written.
    wake: Arc<Notify>,
}

impl Deliverer {
    /// A deliverer over `store`'s outbox.
    pub fn new(
        store: Store,
        guard: TargetGuard,
        settings: AlertSettings,
        wake: Arc<Notify>,
    ) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .timeout(settings.delivery_timeout)
            .connect_timeout(settings.delivery_timeout)
            .pool_max_idle_per_host(settings.delivery_concurrency)
            .user_agent("Passerelle-Webhooks/1")
            .build()
            .expect("the webhook client builds");
        Self {
            store,
            batches: moka::future::Cache::builder()
                .max_capacity(64 << 20)
                .weigher(|_, b: &Arc<RenderedBatch>| {
                    u32::try_from(b.offers.len() * 512 + 64).unwrap_or(u32::MAX)
                })
                .time_to_idle(Duration::from_secs(600))
                .build(),
            client,
            guard,
            settings,
            wake,
        }
    }

    /// Delivers until `stop` is cancelled.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let replica = crate::store::lease::replica();
        let mut pruned_at = std::time::Instant::now();
        loop {
            if pruned_at.elapsed() > Duration::from_secs(3600) {
                pruned_at = std::time::Instant::now();
                // Past any retry of any delivery, digests included.
                let keep = self.settings.retry_for + Duration::from_secs(3 * 86_400);
                if let Err(e) = self
                    .store
                    .prune_alerts(now_us() - keep.as_micros() as i64)
                    .await
                {
                    tracing::warn!(error = %e, "old batches and deliveries could not be pruned");
                }
            }
            let now = now_us();
            // A claim outlives the longest attempt, so that a replica that
            // dies mid-delivery leaves it to another.
            let hold = (self.settings.delivery_timeout * 3).as_micros() as i64;
            let claimed = self
                .store
                .claim_deliveries(
                    now,
                    now + hold,
                    replica,
                    self.settings.delivery_concurrency as i64 * 4,
                )
                .await;
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "deliveries could not be claimed from the outbox");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            // Outcomes are recorded as attempts end, a few per transaction.
            let mut ended = futures::stream::iter(claimed)
                .map(|(d, a)| {
                    let this = self.clone();
                    async move {
                        let outcome = this.attempt(&d, &a).await;
                        (d.id, d.alert_id, outcome)
                    }
                })
                .buffer_unordered(self.settings.delivery_concurrency.max(1))
                .ready_chunks(64);
            while let Some(outcomes) = ended.next().await {
                self.record(&outcomes, replica).await;
            }
            if stop.is_cancelled() {
                return;
            }
        }
    }

    async fn record(&self, outcomes: &[(String, String, Attempted)], replica: &str) {
        for (_, _, outcome) in outcomes {
            let label = match outcome {
                Attempted::Delivered { .. } => "delivered",
                Attempted::Retry { .. } => "retry",
                Attempted::Dead { .. } => "dead",
                Attempted::Gone => "gone",
            };
            metrics::counter!("passerelle_webhook_attempts_total", "outcome" => label).increment(1);
        }
        if let Err(e) = self.store.attempted(outcomes, replica, now_us()).await {
            // The claims lapse, and the deliveries are made again under the
            // same identifiers: at least once.
            tracing::error!(error = %e, "the outcomes of deliveries could not be recorded");
        }
    }

    async fn attempt(&self, d: &DeliveryRow, alert: &AlertRow) -> Attempted {
        let failed = |status: Option<i64>, error: String| self.failed(d, status, error);
        if !alert.active {
            return Attempted::Dead {
                status: None,
                error: "the alert is disabled".into(),
            };
        }
        let url = match self.guard.check(&alert.webhook_url).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(alert = %alert.id, detail = %e.detail(), "a webhook target was refused");
                return failed(None, e.to_string());
            }
        };
        let body = match self.body(d, alert).await {
            Ok(b) => b,
            Err(e) => {
                return Attempted::Dead {
                    status: None,
                    error: e,
                }
            }
        };
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&alert.secret, &d.id, timestamp, &body);
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Attempted::Delivered {
                status: i64::from(r.status().as_u16()),
            },
            Ok(r) if r.status() == reqwest::StatusCode::GONE => Attempted::Gone,
            Ok(r) if r.status().is_redirection() => failed(
                Some(i64::from(r.status().as_u16())),
                "the receiver answered a redirect, which is not followed".into(),
            ),
            Ok(r) => failed(
                Some(i64::from(r.status().as_u16())),
                format!("the receiver answered {}", r.status()),
            ),
            Err(e) => {
                let why = sent_error(&e);
                tracing::warn!(alert = %alert.id, error = %error_chain(&e), "a webhook delivery failed");
                failed(None, why.to_owned())
            }
        }
    }

    /// A batch's rendered offers, read once.
    async fn batch(&self, id: i64) -> Result<Arc<RenderedBatch>, String> {
        let store = self.store.clone();
        self.batches
            .try_get_with(id, async move {
                let row = store
                    .batch_rendered(id)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("batch {id} is no longer kept"))?;
                Ok::<_, String>(Arc::new(RenderedBatch {
                    detected_at: row.detected_at,
                    offers: serde_json::from_str(&row.rendered).map_err(|e| e.to_string())?,
                    sets: serde_json::from_str(&row.sets).map_err(|e| e.to_string())?,
                }))
            })
            .await
            .map_err(|e| (*e).clone())
    }

    /// The body of a delivery: the same bytes at every attempt, since the
    /// batches it points into never change (and a digest's offers are fixed
    /// from its first attempt).
    async fn body(&self, d: &DeliveryRow, alert: &AlertRow) -> Result<String, String> {
        let near = serde_json::from_str::<crate::domain::offers::OfferFilter>(&alert.filter)
            .ok()
            .and_then(|f| f.near);
        // The places it carries, batch by batch: a set of each batch, or
        // (written before sets were) each place.
        let mut places: Vec<(Arc<RenderedBatch>, i64, u32)> = Vec::new();
        for (batch, i) in &d.refs {
            places.push((self.batch(*batch).await?, *batch, *i));
        }
        for (batch, set) in &d.sets {
            let b = self.batch(*batch).await?;
            let set = b
                .sets
                .get(*set as usize)
                .ok_or_else(|| format!("batch {batch} has no set {set}"))?
                .clone();
            places.extend(set.into_iter().map(|i| (b.clone(), *batch, i)));
        }
        let mut offers = Vec::with_capacity(places.len());
        let mut timestamp = String::new();
        for (b, batch, i) in places {
            if b.detected_at > timestamp {
                timestamp.clone_from(&b.detected_at);
            }
            let mut o = b
                .offers
                .get(i as usize)
                .cloned()
                .ok_or_else(|| format!("batch {batch} has no offer {i}"))?;
            // From the alert's `near`: null without one, as in the API.
            let distance = near.and_then(|n| {
                let commune = o
                    .pointer("/commune/code")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|c| passerelle_schema::InseeCommune::parse(c).ok())?;
                n.distance_to(&commune)
            });
            o["distanceKm"] = distance.map(|d| (d * 1000.0).round() / 1000.0).into();
            offers.push(o);
        }
        Ok(serde_json::json!({
            "type": "offer_alert.matched",
            "timestamp": timestamp,
            "data": {
                "alertId": alert.id,
                "candidateRef": alert.candidate_ref,
                "digest": alert.digest,
                "offers": offers,
            }
        })
        .to_string())
    }

    /// A failed attempt: tried again after a backoff, or dead once
    /// `retry_for` has passed since the delivery was written.
    fn failed(&self, d: &DeliveryRow, status: Option<i64>, error: String) -> Attempted {
        let now = now_us();
        let wait = backoff(&self.settings, d.attempts as u32);
        let deadline = d.first_due_us + self.settings.retry_for.as_micros() as i64;
        let due = now + wait.as_micros() as i64;
        if due > deadline {
            Attempted::Dead { status, error }
        } else {
            Attempted::Retry {
                status,
                error,
                due_us: due,
            }
        }
    }
}

/// The wait before attempt `attempts + 1`: `retry_base` doubled per
/// attempt made, at most `retry_max`, with full jitter over its upper half
/// (so that receivers that failed together are not retried together).
pub fn backoff(settings: &AlertSettings, attempts: u32) -> Duration {
    let exp = settings
        .retry_base
        .saturating_mul(1u32 << attempts.min(20))
        .min(settings.retry_max);
    let mut b = [0u8; 4];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let share = f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX);
    exp.mul_f64(0.5 + share / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::alerts::{DigestAddition, NewBatch, NewDelivery};

    fn offer_ids(body: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["data"]["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn a_delivery_carries_the_offers_of_its_sets_and_older_ones_their_places() {
        let dir = tempfile::tempdir().unwrap();
        for (backend, url) in crate::store::testing::backends(dir.path()).await {
            let store = Store::open(&url).await.unwrap();
            let alert = AlertRow {
                id: "alrt_1".into(),
                client_id: "front".into(),
                candidate_ref: "cand".into(),
                filter: "{}".into(),
                webhook_url: "http://127.0.0.1:9/hook".into(),
                secret: new_secret(),
                digest: "DAILY".into(),
                active: true,
                disabled_why: None,
                created_us: 1,
            };
            store.create_alert(&alert).await.unwrap();
            let rendered = |ids: &[&str]| {
                serde_json::to_string(
                    &ids.iter()
                        .map(|id| serde_json::json!({ "id": id }))
                        .collect::<Vec<_>>(),
                )
                .unwrap()
            };
            let digest = |batch: i64, set: u32, offers: u32| DigestAddition {
                id: "msg_digest_alrt_1".into(),
                alert_id: "alrt_1".into(),
                sets: vec![(batch, set)],
                offers,
                due_us: 1_000,
            };
            store
                .record_batch(&NewBatch {
                    id: 100,
                    detected_at: "2026-12-01T10:00:00Z".into(),
                    replica: "r".into(),
                    offers: "[]".into(),
                    rendered: rendered(&["a", "b", "c"]),
                    sources: vec!["cma:a".into(), "cma:b".into(), "cma:c".into()],
                    sets: vec![vec![0, 2], vec![1]],
                    deliveries: vec![NewDelivery {
                        id: "msg_100_alrt_1".into(),
                        alert_id: "alrt_1".into(),
                        sets: vec![(100, 0)],
                        offers: 2,
                        due_us: 100,
                    }],
                    digests: vec![digest(100, 1, 1)],
                })
                .await
                .unwrap();
            // A second batch adds to the day's digest.
            store
                .record_batch(&NewBatch {
                    id: 200,
                    detected_at: "2026-12-01T11:00:00Z".into(),
                    replica: "r".into(),
                    offers: "[]".into(),
                    rendered: rendered(&["d"]),
                    sources: vec!["cma:d".into()],
                    sets: vec![vec![0]],
                    deliveries: Vec::new(),
                    digests: vec![digest(200, 0, 1)],
                })
                .await
                .unwrap();
            // A delivery written before sets were names each place.
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, alert_id, refs, offers, state, attempts, created_us, due_us, first_due_us, claimed_us) \
                 VALUES ('msg_old_alrt_1', 'alrt_1', '[[100,2],[200,0]]', 2, 'pending', 0, 50, 50, 50, 0)",
            )
            .execute(store.pool().unwrap())
            .await
            .unwrap();
            let deliverer = Deliverer::new(
                store.clone(),
                TargetGuard::default(),
                AlertSettings::default(),
                Arc::new(Notify::new()),
            );
            let rows = store.deliveries_of("alrt_1", 10).await.unwrap();
            let by_id = |id: &str| rows.iter().find(|d| d.id == id).unwrap();
            let mut bodies = Vec::new();
            for (id, offers) in [
                ("msg_100_alrt_1", 2),
                ("msg_digest_alrt_1", 2),
                ("msg_old_alrt_1", 2),
            ] {
                let d = by_id(id);
                assert_eq!(d.offers, offers, "{backend} {id}");
                let body = deliverer.body(d, &alert).await.unwrap();
                // The same bytes at every attempt.
                assert_eq!(deliverer.body(d, &alert).await.unwrap(), body);
                bodies.push(offer_ids(&body));
            }
            assert_eq!(
                bodies,
                [vec!["a", "c"], vec!["b", "d"], vec!["c", "d"]],
                "{backend}"
            );
        }
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The specification's example: secret, id, timestamp and body.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(new_secret().starts_with("whsec_"));
    }

    #[tokio::test]
    async fn the_clients_resolver_refuses_as_the_check_does_in_the_same_words() {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(TargetGuard::default())))
            .build()
            .unwrap();
        for url in ["http://localhost:9/", "http://does-not-exist.invalid/"] {
            let e = client.get(url).send().await.unwrap_err();
            assert_eq!(sent_error(&e), NOT_ALLOWED, "{url}: {}", error_chain(&e));
        }
    }

    #[tokio::test]
    async fn a_delivery_to_a_refused_target_records_the_generic_error() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let deliverer = Deliverer::new(
            store,
            TargetGuard::default(),
            AlertSettings::default(),
            Arc::new(Notify::new()),
        );
        for target in ["http://localhost:9/hook", "http://[::10.0.0.1]/hook"] {
            let alert = AlertRow {
                id: "alrt_1".into(),
                client_id: "front".into(),
                candidate_ref: "cand".into(),
                filter: "{}".into(),
                webhook_url: target.into(),
                secret: new_secret(),
                digest: "IMMEDIATE".into(),
                active: true,
                disabled_why: None,
                created_us: 1,
            };
            let delivery = DeliveryRow {
                id: "msg_1".into(),
                alert_id: "alrt_1".into(),
                refs: Vec::new(),
                sets: Vec::new(),
                offers: 0,
                state: "pending".into(),
                attempts: 0,
                created_us: now_us(),
                due_us: now_us(),
                first_due_us: now_us(),
                last_status: None,
                last_error: None,
                delivered_us: None,
                delivered_by: None,
            };
            match deliverer.attempt(&delivery, &alert).await {
                Attempted::Retry { error, status, .. } => {
                    assert_eq!((error.as_str(), status), (NOT_ALLOWED, None), "{target}")
                }
                other => panic!("{target}: {other:?}"),
            }
        }
    }

    #[test]
    fn waits_double_with_jitter_up_to_the_maximum() {
        let s = AlertSettings {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            ..AlertSettings::default()
        };
        for attempts in 0..30 {
            let full = Duration::from_secs(10)
                .saturating_mul(1 << attempts.min(20))
                .min(Duration::from_secs(3600));
            let w = backoff(&s, attempts);
            assert!(w >= full / 2 && w <= full, "{attempts}: {w:?}");
        }
    }
}
