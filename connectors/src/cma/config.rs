//! Configuration of the CMA connector.

use std::time::Duration;

use serde::Deserialize;

use crate::http::HttpSettings;

/// How to reach the CMA feed, and how often to pull it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmaConfig {
    /// The feed's URL.
    pub feed_url: url::Url,
    /// How often the feed is pulled (the CMA refreshes it a few times a day).
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub sync_interval: Duration,
    /// Timeouts; the feed is a few megabytes.
    #[serde(default = "default_http")]
    pub http: HttpSettings,
    /// Retries, circuit breaker and bulkhead.
    #[serde(default)]
    pub resilience: crate::http::ResilienceSettings,
}

fn default_interval() -> Duration {
    Duration::from_secs(3600)
}

fn default_http() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(60),
        ..HttpSettings::default()
    }
}

impl CmaConfig {
    /// A configuration with default settings for a feed at `feed_url`.
    pub fn new(feed_url: url::Url) -> Self {
        Self {
            feed_url,
            sync_interval: default_interval(),
            http: default_http(),
            resilience: crate::http::ResilienceSettings::default(),
        }
    }
}
