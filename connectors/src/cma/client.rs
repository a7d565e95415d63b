//! The CMA connector: a conditional pull of the feed, mapped record by record.

use std::sync::Arc;

use passerelle_mappings::Mapping;
use passerelle_schema::{Offer, Partner};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

use super::config::CmaConfig;
use crate::http::http_client;
use crate::{ConnectorError, FeedPull, FeedSource};

const PARTNER: Partner = Partner::Cma;

/// The synced connector to the CMA feed.
pub struct CmaConnector {
    config: CmaConfig,
    http: reqwest::Client,
    mapping: Arc<Mapping>,
}

impl CmaConnector {
    /// A connector using `mapping` for the feed's offers.
    pub fn new(config: CmaConfig, mapping: Arc<Mapping>) -> Self {
        Self {
            http: http_client(&config.http),
            config,
            mapping,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &CmaConfig {
        &self.config
    }

    /// Pulls the feed, conditionally on `etag` when one is given.
    pub async fn pull(&self, etag: Option<&str>) -> Result<FeedPull<Offer>, ConnectorError> {
        let mut request = self.http.get(self.config.feed_url.clone());
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))?;
        match response.status() {
            StatusCode::NOT_MODIFIED => return Ok(FeedPull::NotModified),
            s if !s.is_success() => return Err(ConnectorError::from_status(PARTNER, s)),
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
            .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))?;
        let mapping = self.mapping.clone();
        let bytes = body.len();
        // Decoding and mapping a feed of thousands of records is CPU work:
        // keep it off the request-serving threads.
        let batch = tokio::task::spawn_blocking(move || mapping.map_payload::<Offer>(&body))
            .await
            .map_err(|_| ConnectorError::BadResponse {
                partner: PARTNER,
                reason: "mapping the feed failed".into(),
            })?;
        if batch.records.is_empty() {
            if let Some(e) = &batch.truncated {
                return Err(ConnectorError::BadResponse {
                    partner: PARTNER,
                    reason: e.to_string(),
                });
            }
        }
        for e in &batch.rejected {
            tracing::warn!(
                partner = %PARTNER,
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

impl FeedSource<Offer> for CmaConnector {
    fn partner(&self) -> Partner {
        PARTNER
    }

    async fn pull(&self, etag: Option<&str>) -> Result<FeedPull<Offer>, ConnectorError> {
        CmaConnector::pull(self, etag).await
    }
}
