//! The CMA connector: a conditional pull of the feed, mapped record by record.

use std::sync::Arc;

use passerelle_mappings::Mapping;
use passerelle_schema::{Offer, Partner};

use super::config::CmaConfig;
use crate::feed::FeedClient;
use crate::http::CallPolicy;
use crate::{ConnectorError, FeedPull, FeedSource};

/// The synced connector to the CMA feed.
pub struct CmaConnector {
    config: CmaConfig,
    feed: FeedClient,
}

impl CmaConnector {
    /// A connector using `mapping` for the feed's offers.
    pub fn new(config: CmaConfig, mapping: Arc<Mapping>) -> Self {
        Self {
            feed: FeedClient::new(
                Partner::Cma,
                config.feed_url.clone(),
                &config.http,
                mapping,
                Arc::new(CallPolicy::new(Partner::Cma, config.resilience.clone())),
            ),
            config,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &CmaConfig {
        &self.config
    }

    /// Pulls the feed, conditionally on `etag` when one is given; its
    /// offers are mapped as it is downloaded.
    pub async fn pull(&self, etag: Option<&str>) -> Result<FeedPull<Offer>, ConnectorError> {
        self.feed.pull_streamed(etag).await
    }
}

impl FeedSource<Offer> for CmaConnector {
    fn partner(&self) -> Partner {
        Partner::Cma
    }

    async fn pull(&self, etag: Option<&str>) -> Result<FeedPull<Offer>, ConnectorError> {
        CmaConnector::pull(self, etag).await
    }
}
