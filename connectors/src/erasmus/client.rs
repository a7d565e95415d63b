//! The Erasmus+ connector: a conditional pull of the export.

use std::sync::Arc;
use std::time::Duration;

use passerelle_mappings::Mapping;
use passerelle_schema::{Mobility, Partner};
use serde::Deserialize;

use crate::feed::FeedClient;
use crate::http::CallPolicy;
use crate::http::HttpSettings;
use crate::{ConnectorError, FeedPull, FeedSource};

/// Where the export is published, and how often to pull it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasmusConfig {
    /// The CSV export's URL.
    pub export_url: url::Url,
    /// How often it is pulled (exports are refreshed daily at most).
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
    Duration::from_secs(24 * 3600)
}

impl ErasmusConfig {
    /// A configuration with default settings for an export at `export_url`.
    pub fn new(export_url: url::Url) -> Self {
        Self {
            export_url,
            sync_interval: default_interval(),
            http: HttpSettings::default(),
            resilience: crate::http::ResilienceSettings::default(),
        }
    }
}

/// The synced connector to the export.
pub struct ErasmusConnector {
    feed: FeedClient,
}

impl ErasmusConnector {
    /// A connector using `mapping` for the export's rows.
    pub fn new(config: ErasmusConfig, mapping: Arc<Mapping>) -> Self {
        Self {
            feed: FeedClient::new(
                Partner::Erasmus,
                config.export_url.clone(),
                &config.http,
                mapping,
                Arc::new(CallPolicy::new(Partner::Erasmus, config.resilience.clone())),
            ),
        }
    }
}

impl FeedSource<Mobility> for ErasmusConnector {
    fn partner(&self) -> Partner {
        Partner::Erasmus
    }

    async fn pull(&self, etag: Option<&str>) -> Result<FeedPull<Mobility>, ConnectorError> {
        self.feed.pull(etag).await
    }
}
