//! What synced partners have in common: a feed pulled conditionally.

use std::sync::Arc;

use passerelle_mappings::{Entity, MappedBatch, Mapping};
use passerelle_schema::Partner;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

use crate::http::{http_client, CallPolicy, HttpSettings};
use crate::ConnectorError;

mod connector;
mod document;
mod stream;
pub use connector::FeedConnector;
pub use document::{FeedConfig, FeedSpec};
pub use stream::{FeedChunk, FeedEnd, FeedPiece, FeedRecords};

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
    /// A new version of the feed, mapped as it is downloaded.
    Streamed {
        /// Its `ETag`, for the next conditional pull.
        etag: Option<String>,
        /// Its records, as they come.
        records: FeedRecords<E>,
    },
}

/// Pulls a whole-document feed over HTTP with `If-None-Match`, and maps it
/// record by record off the request-serving threads.
pub struct FeedClient {
    partner: Partner,
    url: url::Url,
    http: reqwest::Client,
    mapping: Arc<Mapping>,
    policy: Arc<CallPolicy>,
}

impl FeedClient {
    /// A client of the feed at `url`, mapped by `mapping`, its calls
    /// through `policy`.
    pub fn new(
        partner: Partner,
        url: url::Url,
        settings: &HttpSettings,
        mapping: Arc<Mapping>,
        policy: Arc<CallPolicy>,
    ) -> Self {
        Self {
            partner,
            url,
            http: http_client(settings),
            mapping,
            policy,
        }
    }

    /// The feed's URL.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// GETs `url`, conditionally on `etag`: `None` when not modified,
    /// else the body and its `ETag`. Transient failures are retried.
    pub async fn get(
        &self,
        url: &url::Url,
        etag: Option<&str>,
    ) -> Result<Option<(axum::body::Bytes, Option<String>)>, ConnectorError> {
        self.policy
            .call("GET feed", || self.get_once(url, etag))
            .await
    }

    async fn get_once(
        &self,
        url: &url::Url,
        etag: Option<&str>,
    ) -> Result<Option<(axum::body::Bytes, Option<String>)>, ConnectorError> {
        let Some((response, tag)) = self.open_once(url, etag).await? else {
            return Ok(None);
        };
        let body = response
            .bytes()
            .await
            .map_err(|e| ConnectorError::from_reqwest(self.partner, &e))?;
        Ok(Some((body, tag)))
    }

    /// Sends the GET of `url`, conditionally on `etag`: `None` when not
    /// modified, else the response, its body unread, and its `ETag`.
    async fn open_once(
        &self,
        url: &url::Url,
        etag: Option<&str>,
    ) -> Result<Option<(reqwest::Response, Option<String>)>, ConnectorError> {
        let partner = self.partner;
        let mut request = crate::http::traced(self.http.get(url.clone()));
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ConnectorError::from_reqwest(partner, &e))?;
        crate::http::record_status(response.status());
        match response.status() {
            StatusCode::NOT_MODIFIED => return Ok(None),
            s if !s.is_success() => return Err(ConnectorError::from_response(partner, &response)),
            _ => {}
        }
        let tag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Some((response, tag)))
    }

    /// Maps a payload off the request-serving threads, with `context`
    /// added to every record, and logs the rejected records.
    pub async fn map<E: Entity>(
        &self,
        body: axum::body::Bytes,
        context: Vec<(String, String)>,
    ) -> Result<MappedBatch<E>, ConnectorError> {
        let partner = self.partner;
        let mapping = self.mapping.clone();
        // Decoding and mapping thousands of records is CPU work: keep it off
        // the request-serving threads.
        let batch = tokio::task::spawn_blocking(move || {
            // The body is handed over: a feed is not held twice, as bytes
            // and as text, while it is mapped.
            mapping.map_payload_owned::<E>(Vec::from(body), &context)
        })
        .await
        .map_err(|_| ConnectorError::MappingFailed {
            partner,
            reason: "mapping the feed failed".into(),
        })?;
        for e in &batch.rejected {
            log_rejected(partner, e);
        }
        Ok(batch)
    }

    /// Pulls the feed, conditionally on `etag` when one is given.
    pub async fn pull<E: Entity>(&self, etag: Option<&str>) -> Result<FeedPull<E>, ConnectorError> {
        let Some((body, etag)) = self.get(&self.url, etag).await? else {
            return Ok(FeedPull::NotModified);
        };
        let bytes = body.len();
        let batch = self.map::<E>(body, Vec::new()).await?;
        if batch.records.is_empty() {
            if let Some(e) = &batch.truncated {
                return Err(ConnectorError::MappingFailed {
                    partner: self.partner,
                    reason: e.to_string(),
                });
            }
        }
        Ok(FeedPull::Fetched { etag, batch, bytes })
    }

    /// Pulls the feed, conditionally on `etag` when one is given, and maps
    /// it as it is downloaded: the feed is never held whole, as bytes, text
    /// or records. The request is made through the call policy, retried as
    /// [`FeedClient::get`] is, up to its answer's headers; a download that
    /// breaks after them fails the records' reading (see
    /// [`FeedRecords::next`]).
    pub async fn pull_streamed<E: Entity>(
        &self,
        etag: Option<&str>,
    ) -> Result<FeedPull<E>, ConnectorError> {
        let url = &self.url;
        let Some((response, etag)) = self
            .policy
            .call("GET feed", || self.open_once(url, etag))
            .await?
        else {
            return Ok(FeedPull::NotModified);
        };
        let records = stream::map_response(self.partner, self.mapping.clone(), response);
        Ok(FeedPull::Streamed { etag, records })
    }
}

/// Logs a partner record that was rejected, with its position, identifier,
/// field and reason.
pub fn log_rejected(partner: Partner, e: &passerelle_mappings::RecordError) {
    tracing::warn!(
        partner = %partner,
        index = e.index,
        partner_id = e.partner_id.as_deref().unwrap_or(""),
        field = %e.field,
        reason = %e.reason,
        "partner record rejected"
    );
}
