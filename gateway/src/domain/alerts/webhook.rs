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
//! Targets are checked when an alert is created and at each delivery,
//! after DNS resolution, and the client's resolver checks the addresses it
//! connects to (a name pointed elsewhere since is refused there): every
//! special-purpose address that is not globally reachable, and cloud
//! metadata, is refused unless configured. A client is told only that the
//! target is not allowed; the log says why. Redirects are not followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use ipnet::IpNet;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

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

/// Which addresses webhooks may reach.
#[derive(Debug, Clone, Default)]
pub struct TargetGuard {
    allowed: Vec<IpNet>,
}

/// Why a target is refused. A client is told only that the target is not
/// allowed, whatever the reason: what an internal name resolves to, or
/// whether it resolves at all, is for the log ([`TargetError::detail`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute http(s) URL.
    #[error("{0}")]
    Url(String),
    /// It resolves to an address webhooks may not reach.
    #[error("{NOT_ALLOWED}")]
    Forbidden {
        /// The host.
        host: String,
        /// The address.
        address: IpAddr,
        /// What kind of address.
        kind: &'static str,
    },
    /// It does not resolve.
    #[error("{NOT_ALLOWED}")]
    Unresolved(String),
}

/// What a client is told of a refused target.
pub const NOT_ALLOWED: &str = "not an allowed target";

impl TargetError {
    /// Why, for the log: the host, and the address it resolves to and its
    /// kind, or that it does not resolve.
    pub fn detail(&self) -> String {
        match self {
            TargetError::Url(why) => why.clone(),
            TargetError::Forbidden {
                host,
                address,
                kind,
            } => format!("{host} resolves to {address}, a {kind} address"),
            TargetError::Unresolved(host) => format!("{host} does not resolve"),
        }
    }
}

/// Whether `ip` lies in `net`/`len`.
fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let (ip, net) = (u32::from(ip), u32::from(Ipv4Addr::from(net)));
    len == 0 || (ip ^ net) >> (32 - len) == 0
}

/// Whether `ip` lies in `net`/`len`.
fn in_v6(ip: Ipv6Addr, net: [u16; 8], len: u32) -> bool {
    let (ip, net) = (u128::from(ip), u128::from(Ipv6Addr::from(net)));
    len == 0 || (ip ^ net) >> (128 - len) == 0
}

/// The IPv4 addresses webhooks may not reach, most specific first: the
/// special-purpose ranges of the IANA registry that are not globally
/// reachable, and cloud metadata services.
const SPECIAL_V4: &[([u8; 4], u32, &str)] = &[
    ([169, 254, 169, 254], 32, "cloud metadata"),
    ([100, 100, 100, 200], 32, "cloud metadata"),
    ([168, 63, 129, 16], 32, "cloud metadata"),
    ([0, 0, 0, 0], 8, "unspecified (this network)"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared (carrier-grade NAT)"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "IETF protocol assignment"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved or broadcast"),
];

/// The IPv6 addresses webhooks may not reach, most specific first, besides
/// those outside global unicast (`2000::/3`).
const SPECIAL_V6: &[([u16; 8], u32, &str)] = &[
    ([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128, "cloud metadata"),
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified"),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback"),
    ([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible"),
    ([0, 0, 0, 0, 0xffff, 0, 0, 0], 96, "IPv4-translated"),
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "NAT64 local-use"),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only"),
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo"),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignment",
    ),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "private (unique local)"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
];

/// The kind of an address webhooks may not reach, `None` for a public one.
/// An IPv6 address carrying an IPv4 one to reach it (IPv4-mapped, NAT64
/// `64:ff9b::/96`) is judged by the IPv4 address; any other IPv6 address
/// outside global unicast (`2000::/3`) is refused.
fn special(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => SPECIAL_V4
            .iter()
            .find(|(net, len, _)| in_v4(v4, *net, *len))
            .map(|(_, _, kind)| *kind),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return special(IpAddr::V4(v4));
            }
            if in_v6(v6, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
                let [.., a, b, c, d] = v6.octets();
                return special(IpAddr::V4(Ipv4Addr::new(a, b, c, d)));
            }
            SPECIAL_V6
                .iter()
                .find(|(net, len, _)| in_v6(v6, *net, *len))
                .map(|(_, _, kind)| *kind)
                .or_else(|| (!in_v6(v6, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3)).then_some("reserved"))
        }
    }
}

impl TargetGuard {
    /// A guard allowing the special addresses of `allowed` networks (CIDR).
    pub fn new(allowed: &[String]) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{n:?} is not a network (CIDR, like 127.0.0.1/32)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// Checks one address of `host`.
    pub fn check_address(&self, host: &str, address: IpAddr) -> Result<(), TargetError> {
        match special(address) {
            Some(kind) if !self.allowed.iter().any(|n| n.contains(&address)) => {
                Err(TargetError::Forbidden {
                    host: host.to_owned(),
                    address,
                    kind,
                })
            }
            _ => Ok(()),
        }
    }

    /// Checks a webhook URL: its form, and every address its host
    /// resolves to.
    pub async fn check(&self, url: &str) -> Result<url::Url, TargetError> {
        let parsed =
            url::Url::parse(url).map_err(|e| TargetError::Url(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(TargetError::Url("the scheme must be http or https".into()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TargetError::Url(
                "credentials in the URL are refused: the signature authenticates".into(),
            ));
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => self.check_address(url, IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_address(url, IpAddr::V6(ip))?,
            Some(url::Host::Domain(d)) => {
                let addresses: Vec<SocketAddr> = tokio::net::lookup_host((d, port))
                    .await
                    .map_err(|_| TargetError::Unresolved(d.to_owned()))?
                    .collect();
                if addresses.is_empty() {
                    return Err(TargetError::Unresolved(d.to_owned()));
                }
                for a in addresses {
                    self.check_address(d, a.ip())?;
                }
            }
            None => return Err(TargetError::Url("the URL has no host".into())),
        }
        Ok(parsed)
    }
}

/// The HTTP client's resolver: names resolve to the addresses the guard
/// allows only, so that a name cannot be pointed at a forbidden address
/// between the check at creation and a delivery.
struct GuardedResolver(TargetGuard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| TargetError::Unresolved(host.clone()))?
                .collect();
            if addresses.is_empty() {
                return Err(TargetError::Unresolved(host).into());
            }
            for a in &addresses {
                guard.check_address(&host, a.ip())?;
            }
            let out: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(out)
        })
    }
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
                    tracing::error!(error = %e, "the outbox is unreadable");
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
            if let Some(n) = near {
                let commune = o
                    .pointer("/commune/code")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|c| passerelle_schema::InseeCommune::parse(c).ok());
                let d = commune.and_then(|c| n.distance_to(&c));
                o["distanceKm"] = d.map(|d| (d * 1000.0).round() / 1000.0).into();
            }
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
            .execute(store.pool())
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

    #[test]
    fn special_addresses_are_refused_unless_allowed() {
        let guard = TargetGuard::default();
        let refused = [
            // IPv4
            ("0.0.0.0", "unspecified (this network)"),
            ("0.1.2.3", "unspecified (this network)"),
            ("10.1.2.3", "private"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("100.127.255.254", "shared (carrier-grade NAT)"),
            ("100.100.100.200", "cloud metadata"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("168.63.129.16", "cloud metadata"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.2.10", "documentation"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved or broadcast"),
            ("255.255.255.255", "reserved or broadcast"),
            // IPv6
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::127.0.0.1", "IPv4-compatible"),
            ("::10.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::ffff:0:10.0.0.1", "IPv4-translated"),
            ("64:ff9b::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("64:ff9b::192.168.0.1", "private"),
            ("64:ff9b:1::1", "NAT64 local-use"),
            ("100::1", "discard-only"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("2001:2::1", "IETF protocol assignment"),
            ("2001:10::1", "IETF protocol assignment"),
            ("2001:db8::1", "documentation"),
            ("2002::1", "6to4"),
            ("2002:7f00:1::1", "6to4"),
            ("2002:a00:1::1", "6to4"),
            ("3fff::1", "documentation"),
            ("fc00::1", "private (unique local)"),
            ("fd00::1", "private (unique local)"),
            ("fd00:ec2::254", "cloud metadata"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("feff::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
            ("4000::1", "reserved"),
            ("5f00::1", "reserved"),
            ("1::1", "reserved"),
        ];
        for (ip, kind) in refused {
            let address: IpAddr = ip.parse().unwrap();
            let refusal = guard.check_address("h", address).unwrap_err();
            assert_eq!(
                refusal,
                TargetError::Forbidden {
                    host: "h".into(),
                    address,
                    kind
                },
                "{ip}"
            );
            // The client is told nothing of the address or its kind.
            assert_eq!(refusal.to_string(), NOT_ALLOWED, "{ip}");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.31.196.1",
            "192.88.98.255",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "2a00:1450:4007:80e::200e",
            "2001:200::1",
            "2003::1",
        ];
        for ip in allowed {
            assert!(
                guard.check_address("h", ip.parse().unwrap()).is_ok(),
                "{ip}"
            );
        }
        let loopback = TargetGuard::new(&["127.0.0.1/32".into()]).unwrap();
        assert!(loopback
            .check_address("h", "127.0.0.1".parse().unwrap())
            .is_ok());
        assert!(loopback
            .check_address("h", "127.0.0.2".parse().unwrap())
            .is_err());
        assert!(TargetGuard::new(&["nonsense".into()]).is_err());
    }

    #[tokio::test]
    async fn refusals_tell_clients_nothing_of_what_names_resolve_to() {
        let guard = TargetGuard::default();
        for url in [
            "http://localhost:9/hook",
            "http://does-not-exist.invalid/hook",
            "http://[::127.0.0.1]/hook",
            "http://[::10.0.0.1]/hook",
            "http://192.88.99.1/hook",
        ] {
            let e = guard.check(url).await.unwrap_err();
            assert_eq!(e.to_string(), NOT_ALLOWED, "{url}");
            assert_ne!(e.detail(), NOT_ALLOWED, "{url}");
        }
        let e = guard.check("http://localhost:9/hook").await.unwrap_err();
        assert!(e.detail().contains("loopback"), "{}", e.detail());
        // The client's resolver refuses as the check does, and its refusal
        // reaches clients in the same words.
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(guard)))
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
