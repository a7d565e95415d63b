//! The SPRO connectors: the directory of sites, and every site's calendar.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use passerelle_mappings::{MappedBatch, Mapping};
use passerelle_schema::{Event, OrientationSite, Partner};
use sha2::{Digest, Sha256};

use super::{SproConfig, PARTNER};
use crate::feed::FeedClient;
use crate::http::CallPolicy;
use crate::{ConnectorError, FeedPull, FeedSource};

/// Calendars fetched at once.
const CONCURRENT_CALENDARS: usize = 8;

/// The directory of orientation sites.
pub struct SproSites {
    feed: FeedClient,
}

impl SproSites {
    /// A connector using `mapping` for the directory's sites, its calls
    /// through `policy` (shared with the calendars: one system).
    pub fn new(config: &SproConfig, mapping: Arc<Mapping>, policy: Arc<CallPolicy>) -> Self {
        Self {
            feed: FeedClient::new(PARTNER, config.url.clone(), &config.http, mapping, policy),
        }
    }
}

impl FeedSource<OrientationSite> for SproSites {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn pull<'a>(
        &'a self,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FeedPull<OrientationSite>, ConnectorError>> {
        Box::pin(self.feed.pull(etag))
    }
}

/// The events of every site's calendar, as one feed.
pub struct SproEvents {
    directory: FeedClient,
    calendars: FeedClient,
}

impl SproEvents {
    /// A connector reading the directory with `sites` and each calendar
    /// with `events`.
    pub fn new(
        config: &SproConfig,
        sites: Arc<Mapping>,
        events: Arc<Mapping>,
        policy: Arc<CallPolicy>,
    ) -> Self {
        Self {
            directory: FeedClient::new(
                PARTNER,
                config.url.clone(),
                &config.http,
                sites,
                policy.clone(),
            ),
            calendars: FeedClient::new(PARTNER, config.url.clone(), &config.http, events, policy),
        }
    }
}

impl FeedSource<Event> for SproEvents {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn pull<'a>(
        &'a self,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FeedPull<Event>, ConnectorError>> {
        Box::pin(self.pull_calendars(etag))
    }
}

impl SproEvents {
    /// Pulls the directory, then every site's calendar. The feed's tag is a
    /// digest of every calendar's: unchanged calendars give "not modified".
    /// A calendar that fails makes the pull partial, so that the events
    /// already stored for its site are kept.
    async fn pull_calendars(&self, etag: Option<&str>) -> Result<FeedPull<Event>, ConnectorError> {
        let (directory, _) = self
            .directory
            .get(self.directory.url(), None)
            .await?
            .ok_or_else(|| ConnectorError::BadResponse {
                partner: PARTNER,
                reason: "the directory answered 304 to an unconditional request".into(),
            })?;
        let sites: MappedBatch<OrientationSite> = self.directory.map(directory, Vec::new()).await?;
        let calendars: Vec<(String, url::Url)> = sites
            .records
            .iter()
            .filter_map(|s| {
                Some((
                    s.partner_id.clone(),
                    s.calendar_url.as_deref()?.parse().ok()?,
                ))
            })
            .collect();
        let fetched: Vec<(String, Result<axum::body::Bytes, ConnectorError>)> =
            futures::stream::iter(calendars)
                .map(|(site, url)| async move {
                    let body = self.calendars.get(&url, None).await.and_then(|b| {
                        b.map(|(body, _)| body)
                            .ok_or_else(|| ConnectorError::BadResponse {
                                partner: PARTNER,
                                reason: "a calendar answered 304 to an unconditional request"
                                    .into(),
                            })
                    });
                    (site, body)
                })
                .buffered(CONCURRENT_CALENDARS)
                .collect()
                .await;
        let mut digest = Sha256::new();
        let mut failures = Vec::new();
        for (site, body) in &fetched {
            digest.update(site.as_bytes());
            match body {
                Ok(b) => digest.update(b),
                Err(e) => failures.push(format!("{site}: {e}")),
            }
        }
        let tag = format!("\"{}\"", hex::encode(&digest.finalize()[..12]));
        if failures.is_empty() && etag == Some(tag.as_str()) {
            return Ok(FeedPull::NotModified);
        }
        let mut batch = MappedBatch {
            records: Vec::new(),
            rejected: Vec::new(),
            truncated: None,
        };
        let mut bytes = 0;
        let mut offset = 0;
        for (site, body) in fetched {
            let Ok(body) = body else { continue };
            bytes += body.len();
            let mut b = self
                .calendars
                .map::<Event>(body, vec![("X-SITE".into(), site.clone())])
                .await?;
            let n = b.records.len() + b.rejected.len();
            for e in &mut b.rejected {
                e.index += offset;
            }
            if let Some(t) = b.truncated {
                failures.push(format!("{site}: {t}"));
            }
            // Overrides of one occurrence (RECURRENCE-ID) join their event,
            // and of two versions (SEQUENCE) the later stays.
            b.records = Event::gather(b.records);
            batch.records.append(&mut b.records);
            batch.rejected.append(&mut b.rejected);
            offset += n;
        }
        if !failures.is_empty() {
            tracing::warn!(partner = %PARTNER, failed = failures.len(), "some calendars could not be read");
            batch.truncated = Some(passerelle_mappings::record::PayloadError::NoRecords(
                format!("calendars unread: {}", failures.join("; ")),
            ));
        }
        Ok(FeedPull::Fetched {
            etag: Some(tag),
            batch,
            bytes,
        })
    }
}
