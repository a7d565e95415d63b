//! The connector to a feed that is one document at one URL: a conditional
//! pull, mapped record by record, as a whole or as it is downloaded.

use std::sync::Arc;

use futures::future::BoxFuture;
use passerelle_mappings::{Entity, Mapping};
use passerelle_schema::Partner;

use super::{FeedClient, FeedPull};
use crate::http::{CallPolicy, HttpSettings, ResilienceSettings};
use crate::{ConnectorError, FeedSource};

/// The connector to a feed that is one document.
pub struct FeedConnector {
    partner: Partner,
    streamed: bool,
    feed: FeedClient,
}

impl FeedConnector {
    /// A connector to `partner`'s feed at `url`, its records mapped by
    /// `mapping` (as they are downloaded when `streamed`), its calls
    /// through a policy of `resilience`.
    pub fn new(
        partner: Partner,
        url: url::Url,
        http: &HttpSettings,
        resilience: ResilienceSettings,
        streamed: bool,
        mapping: Arc<Mapping>,
    ) -> Self {
        let policy = Arc::new(CallPolicy::new(partner, resilience));
        Self {
            partner,
            streamed,
            feed: FeedClient::new(partner, url, http, mapping, policy),
        }
    }

    /// The feed's URL.
    pub fn url(&self) -> &url::Url {
        self.feed.url()
    }

    /// Pulls the feed, conditionally on `etag` when one is given.
    pub async fn pull<E: Entity>(&self, etag: Option<&str>) -> Result<FeedPull<E>, ConnectorError> {
        if self.streamed {
            self.feed.pull_streamed(etag).await
        } else {
            self.feed.pull(etag).await
        }
    }
}

impl<E: Entity> FeedSource<E> for FeedConnector {
    fn partner(&self) -> Partner {
        self.partner
    }

    fn pull<'a>(
        &'a self,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FeedPull<E>, ConnectorError>> {
        Box::pin(FeedConnector::pull(self, etag))
    }
}
