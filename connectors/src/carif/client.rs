//! The Carif-Oref connector: a conditional pull of the LHÉO catalogue.

use std::sync::Arc;
use std::time::Duration;

use passerelle_mappings::Mapping;
use passerelle_schema::{Formation, Partner};
use serde::Deserialize;

use crate::feed::FeedClient;
use crate::http::CallPolicy;
use crate::http::HttpSettings;
use crate::{ConnectorError, FeedPull, FeedSource};

/// How to reach the catalogue, and how often to pull it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarifConfig {
    /// The LHÉO document's URL.
    pub feed_url: url::Url,
    /// How often it is pulled (the catalogue changes daily at most).
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub sync_interval: Duration,
    /// Timeouts.
    #[serde(default)]
    pub http: HttpSettings,
    /// Retries, circuit breaker and bulkhead.
    #[serde(default)]
    pub resilience: crate::http::ResilienceSettings,
}

fn default_interval() -> Duration {
    Duration::from_secs(6 * 3600)
}

impl CarifConfig {
    /// A configuration with default settings for a catalogue at `feed_url`.
    pub fn new(feed_url: url::Url) -> Self {
        Self {
            feed_url,
            sync_interval: default_interval(),
            http: HttpSettings::default(),
            resilience: crate::http::ResilienceSettings::default(),
        }
    }
}

/// The synced connector to the catalogue.
pub struct CarifConnector {
    config: CarifConfig,
    feed: FeedClient,
}

impl CarifConnector {
    /// A connector using `mapping` for the catalogue's programmes.
    pub fn new(config: CarifConfig, mapping: Arc<Mapping>) -> Self {
        Self {
            feed: FeedClient::new(
                Partner::Carif,
                config.feed_url.clone(),
                &config.http,
                mapping,
                Arc::new(CallPolicy::new(Partner::Carif, config.resilience.clone())),
            ),
            config,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &CarifConfig {
        &self.config
    }
}

impl FeedSource<Formation> for CarifConnector {
    fn partner(&self) -> Partner {
        Partner::Carif
    }

    async fn pull(&self, etag: Option<&str>) -> Result<FeedPull<Formation>, ConnectorError> {
        self.feed.pull(etag).await
    }
}
