//! The SPRO connectors: the directory of sites, and every site's calendar.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;

use futures::future::BoxFuture;
use futures::StreamExt;
use passerelle_mappings::{MappedBatch, Mapping, RecordError};
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
    /// Each site's calendar as last read whole, to serve its events from
    /// when it cannot be fetched or read: one site's failure is its own,
    /// not the partner's.
    last_read: std::sync::Mutex<HashMap<String, Bytes>>,
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
            last_read: Default::default(),
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
    fn last_read(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bytes>> {
        self.last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Pulls the directory, then every site's calendar. The feed's tag is a
    /// digest of every calendar's: unchanged calendars give "not modified".
    ///
    /// A calendar that cannot be fetched or read is its site's failure: a
    /// rejection naming the site and why, and the site's events served from
    /// its calendar as last read. Only when it was never read (since the
    /// gateway started) is the pull partial, so that the events stored for
    /// the site are kept.
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
        for (site, body) in &fetched {
            digest.update(site.as_bytes());
            match body {
                Ok(b) => digest.update(b),
                Err(e) => digest.update(e.to_string()),
            }
        }
        let tag = format!("\"{}\"", hex::encode(&digest.finalize()[..12]));
        if fetched.iter().all(|(_, b)| b.is_ok()) && etag == Some(tag.as_str()) {
            return Ok(FeedPull::NotModified);
        }
        let mut batch = MappedBatch::default();
        let mut failures = Vec::new();
        let mut bytes = 0;
        let mut offset = 0;
        let mut read_now = HashMap::new();
        for (site, body) in fetched {
            let context = || vec![("X-SITE".into(), site.clone())];
            let mapped = match body {
                Ok(body) => {
                    bytes += body.len();
                    let b = self.calendars.map::<Event>(body.clone(), context()).await?;
                    match &b.truncated {
                        // Not a calendar at all.
                        Some(e) if b.records.is_empty() && b.rejected.is_empty() => {
                            Err(e.to_string())
                        }
                        _ => {
                            read_now.insert(site.clone(), body);
                            Ok(b)
                        }
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            let mut b = match mapped {
                Ok(b) => b,
                Err(reason) => {
                    let last = self.last_read().get(&site).cloned();
                    let Some(last) = last else {
                        failures.push(format!("{site}: {reason}"));
                        continue;
                    };
                    let b = self.calendars.map::<Event>(last.clone(), context()).await?;
                    read_now.insert(site.clone(), last);
                    batch.rejected.push(RecordError {
                        index: offset,
                        partner_id: None,
                        field: "calendar".into(),
                        reason: format!(
                            "the calendar of site {site} could not be read ({reason}); its {} events are served as last read",
                            b.records.len()
                        ),
                    });
                    b
                }
            };
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
            batch
                .notices
                .extend(b.notices.into_iter().map(|n| format!("site {site}: {n}")));
            offset += n;
        }
        // Sites no longer in the directory are forgotten.
        *self.last_read() = read_now;
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
