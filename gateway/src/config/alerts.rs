//! `[alerts]` and `[subscriptions]`: how new offers are detected and
//! alerts delivered, and the bounds of live subscribers.

/// How new offers are detected and alerts delivered: `[alerts]`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// Whether this replica takes its turn detecting new offers (its
    /// subscribers still hear of the others' batches). Off, the live
    /// exchanges see no traffic of its own.
    #[serde(default = "default_detect")]
    pub detect: bool,
    /// How often the live exchanges are asked for new offers (a synced
    /// feed's new snapshot is read at once).
    #[serde(with = "humantime_serde", default = "default_poll")]
    pub poll_interval: std::time::Duration,
    /// How many entries a live subscriber's buffer holds (the results of a detection,
    /// ready together, take one); one that lets it fill is cut off.
    #[serde(default = "default_buffer")]
    pub subscriber_buffer: usize,
    /// The hour (UTC) daily digests are sent at, for the day before.
    #[serde(default = "default_digest_hour")]
    pub digest_hour_utc: u32,
    /// The first wait before a failed delivery is tried again; each wait
    /// doubles, with jitter.
    #[serde(with = "humantime_serde", default = "default_retry_base")]
    pub retry_base: std::time::Duration,
    /// The longest wait between two attempts.
    #[serde(with = "humantime_serde", default = "default_retry_max")]
    pub retry_max: std::time::Duration,
    /// How long a delivery is tried before it is dead-lettered.
    #[serde(with = "humantime_serde", default = "default_retry_for")]
    pub retry_for: std::time::Duration,
    /// How long a receiver has to answer.
    #[serde(with = "humantime_serde", default = "default_delivery_timeout")]
    pub delivery_timeout: std::time::Duration,
    /// Deliveries made at once by a replica.
    #[serde(default = "default_concurrency")]
    pub delivery_concurrency: usize,
    /// Networks webhooks may target although private, loopback or
    /// link-local (CIDR, `127.0.0.1/32`). Unset: none, except in the
    /// sandbox, which allows loopback for its own receiver.
    #[serde(default)]
    pub allow_private_targets: Option<Vec<String>>,
    /// The most saved alerts one client (token subject) keeps; a further
    /// `createOfferAlert` is refused with `TOO_MANY_ALERTS`.
    #[serde(default = "default_max_per_client")]
    pub max_per_client: usize,
}

fn default_detect() -> bool {
    true
}
fn default_poll() -> std::time::Duration {
    std::time::Duration::from_secs(300)
}
fn default_buffer() -> usize {
    64
}
fn default_digest_hour() -> u32 {
    7
}
fn default_retry_base() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_retry_max() -> std::time::Duration {
    std::time::Duration::from_secs(3600)
}
fn default_retry_for() -> std::time::Duration {
    std::time::Duration::from_secs(24 * 3600)
}
fn default_delivery_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_concurrency() -> usize {
    32
}
fn default_max_per_client() -> usize {
    100
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            detect: default_detect(),
            poll_interval: default_poll(),
            subscriber_buffer: default_buffer(),
            digest_hour_utc: default_digest_hour(),
            retry_base: default_retry_base(),
            retry_max: default_retry_max(),
            retry_for: default_retry_for(),
            delivery_timeout: default_delivery_timeout(),
            delivery_concurrency: default_concurrency(),
            allow_private_targets: None,
            max_per_client: default_max_per_client(),
        }
    }
}

/// Bounds on subscriptions: `[subscriptions]`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionLimits {
    /// How long a graphql-ws client has to send `connection_init`.
    #[serde(with = "humantime_serde", default = "default_init_timeout")]
    pub init_timeout: std::time::Duration,
    /// Subscriptions at once on one connection.
    #[serde(default = "default_per_connection")]
    pub per_connection: usize,
    /// Connections at once (graphql-ws and graphql-sse) from one address.
    #[serde(default = "default_per_address")]
    pub connections_per_address: usize,
    /// Interval of keep-alive pings (graphql-ws) and comments (SSE).
    #[serde(with = "humantime_serde", default = "default_keep_alive")]
    pub keep_alive: std::time::Duration,
    /// The most bytes of results a subscriber that does not read may have
    /// waiting; past them (or `[alerts] subscriber_buffer` entries) it is
    /// cut off and what it held is let go.
    #[serde(default = "default_buffer_bytes")]
    pub buffer_bytes: usize,
}

fn default_buffer_bytes() -> usize {
    1024 * 1024
}

fn default_init_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_per_connection() -> usize {
    20
}
fn default_per_address() -> usize {
    200
}
fn default_keep_alive() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}

impl Default for SubscriptionLimits {
    fn default() -> Self {
        Self {
            init_timeout: default_init_timeout(),
            per_connection: default_per_connection(),
            connections_per_address: default_per_address(),
            keep_alive: default_keep_alive(),
            buffer_bytes: default_buffer_bytes(),
        }
    }
}
