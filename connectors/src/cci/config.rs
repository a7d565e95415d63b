//! Configuration of the CCI connector.

use std::time::Duration;

use serde::Deserialize;

use crate::http::{ClientCredentials, HttpSettings};

/// How to reach the CCI exchange's API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CciConfig {
    /// The API's base URL; offers are under `api/v1/offres`.
    pub base_url: url::Url,
    /// Passerelle's OAuth2 client credentials at the CCI.
    pub credentials: ClientCredentials,
    /// Timeouts.
    #[serde(default)]
    pub http: HttpSettings,
    /// How long an answer is served from the cache.
    #[serde(default = "default_cache_ttl", with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// The most the cache holds, in bytes of offers.
    #[serde(default = "default_cache_max_bytes")]
    pub cache_max_bytes: u64,
    /// Records asked for per page (the API allows 500 at most).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Retries, circuit breaker and bulkhead.
    #[serde(default)]
    pub resilience: crate::http::ResilienceSettings,
    /// How long after its expiry a cached answer may still be served,
    /// marked stale, when the partner fails.
    #[serde(default = "crate::http::default_stale_for", with = "humantime_serde")]
    pub stale_for: std::time::Duration,
}

fn default_cache_ttl() -> Duration {
    Duration::from_secs(60)
}

fn default_cache_max_bytes() -> u64 {
    8 * 1024 * 1024
}

fn default_page_size() -> u32 {
    500
}

impl CciConfig {
    /// A configuration with default settings for an API at `base_url`.
    pub fn new(base_url: url::Url, credentials: ClientCredentials) -> Self {
        Self {
            base_url,
            credentials,
            http: HttpSettings::default(),
            resilience: crate::http::ResilienceSettings::default(),
            cache_ttl: default_cache_ttl(),
            stale_for: crate::http::default_stale_for(),
            cache_max_bytes: default_cache_max_bytes(),
            page_size: default_page_size(),
        }
    }
}
