//! What synced partners have in common: a feed pulled conditionally.

use std::future::Future;
use std::sync::Arc;

use passerelle_mappings::{Entity, MappedBatch, Mapping};
use passerelle_schema::Partner;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

use crate::http::{http_client, HttpSettings};
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

/// Pulls a whole-document feed over HTTP with `If-None-Match`, and maps it
/// record by record off the request-serving threads.
pub struct FeedClient {
    partner: Partner,
    url: url::Url,
    http: reqwest::Client,
    mapping: Arc<Mapping>,
}

impl FeedClient {
    /// A client of the feed at `url`, mapped by `mapping`.
    pub fn new(
        partner: Partner,
        url: url::Url,
        settings: &HttpSettings,
        mapping: Arc<Mapping>,
    ) -> Self {
        Self {
            partner,
            url,
            http: http_client(settings),
            mapping,
        }
    }

    /// Pulls the feed, conditionally on `etag` when one is given.
    pub async fn pull<E: Entity>(&self, etag: Option<&str>) -> Result<FeedPull<E>, ConnectorError> {
        let partner = self.partner;
        let mut request = self.http.get(self.url.clone());
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ConnectorError::from_reqwest(partner, &e))?;
        match response.status() {
            StatusCode::NOT_MODIFIED => return Ok(FeedPull::NotModified),
            s if !s.is_success() => return Err(ConnectorError::from_status(partner, s)),
            _ => {}
        }
        let new_etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|e| ConnectorError::from_reqwest(partner, &e))?;
        let mapping = self.mapping.clone();
        let bytes = body.len();
        // Decoding and mapping thousands of records is CPU work: keep it off
        // the request-serving threads.
        let batch = tokio::task::spawn_blocking(move || mapping.map_payload::<E>(&body))
            .await
            .map_err(|_| ConnectorError::BadResponse {
                partner,
                reason: "mapping the feed failed".into(),
            })?;
        if batch.records.is_empty() {
            if let Some(e) = &batch.truncated {
                return Err(ConnectorError::BadResponse {
                    partner,
                    reason: e.to_string(),
                });
            }
        }
        for e in &batch.rejected {
            tracing::warn!(
                partner = %partner,
                index = e.index,
                partner_id = e.partner_id.as_deref().unwrap_or(""),
                field = %e.field,
                reason = %e.reason,
                "partner record rejected"
            );
        }
        Ok(FeedPull::Fetched {
            etag: new_etag,
            batch,
            bytes,
        })
    }
}
