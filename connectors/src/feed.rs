//! What synced partners have in common: a feed pulled conditionally.

use std::future::Future;

use passerelle_mappings::{Entity, MappedBatch};
use passerelle_schema::Partner;

use crate::ConnectorError;

/// What a pull of a feed gave.
#[derive(Debug)]
pub enum FeedPull<E> {
    /// The feed has not changed since the `ETag` given.
    NotModified,
    /// A new version of the feed.
    Fetched {
        /// Its `ETag`, for the next conditional pull.
        etag: Option<String>,
        /// Its records, mapped; the rejected ones with reasons.
        batch: MappedBatch<E>,
        /// Its size in bytes.
        bytes: usize,
    },
}

/// A partner's feed of entities `E`, which the gateway pulls on a schedule.
pub trait FeedSource<E: Entity>: Send + Sync + 'static {
    /// The partner.
    fn partner(&self) -> Partner;
    /// Pulls the feed, conditionally on `etag` when one is given.
    fn pull(
        &self,
        etag: Option<&str>,
    ) -> impl Future<Output = Result<FeedPull<E>, ConnectorError>> + Send;
}
