//! The CCI connector: filters pushed down, pages followed, answers cached.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use passerelle_mappings::record::Json;
use passerelle_mappings::Mapping;
use passerelle_schema::{Offer, Partner};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::de::IgnoredAny;

use super::config::CciConfig;
use super::wire::Page;
use super::PARTNER;
use crate::feed::log_rejected;
use crate::http::{http_client, Cached, CallPolicy, LiveCache, TokenSource};
use crate::source::{Employers, LiveOffers, OfferAnswer, OfferQuery};
use crate::ConnectorError;

/// The filters the CCI API applies itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CciQuery {
    /// Any of these ROME codes (sorted, so equal queries share a cache entry).
    pub rome: Vec<String>,
    /// The workplace's département.
    pub departement: Option<String>,
    /// The diploma level.
    pub level: Option<u8>,
    /// Changed since.
    pub updated_since: Option<DateTime<Utc>>,
}

impl CciQuery {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if !self.rome.is_empty() {
            p.push(("rome", self.rome.join(",")));
        }
        if let Some(d) = &self.departement {
            p.push(("departement", d.clone()));
        }
        if let Some(l) = self.level {
            p.push(("niveau", l.to_string()));
        }
        if let Some(s) = self.updated_since {
            p.push(("maj_depuis", s.to_rfc3339_opts(SecondsFormat::Secs, true)));
        }
        p
    }
}

/// Every offer matching a query.
pub type CciAnswer = OfferAnswer;

/// The live connector to the CCI exchange.
pub struct CciConnector {
    config: CciConfig,
    http: reqwest::Client,
    tokens: TokenSource,
    mapping: Arc<Mapping>,
    cache: LiveCache<CciQuery, CciAnswer>,
    policy: CallPolicy,
}

impl CciConnector {
    /// A connector using `mapping` for the exchange's offers.
    pub fn new(config: CciConfig, mapping: Arc<Mapping>) -> Self {
        let http = http_client(&config.http);
        let tokens = TokenSource::new(PARTNER, &config.credentials, http.clone());
        let cache = LiveCache::new(
            PARTNER,
            config.cache_ttl,
            config.stale_for,
            config.cache_max_bytes,
            |a: &CciAnswer| {
                // About a kilobyte an offer, as held in memory.
                (a.offers.len() as u32).saturating_mul(1024).max(64)
            },
            &config.resilience,
        );
        Self {
            policy: CallPolicy::new(PARTNER, config.resilience.clone()),
            config,
            http,
            tokens,
            mapping,
            cache,
        }
    }

    /// Every offer matching `query`, from the cache when it is fresh; a miss
    /// follows every page (one after another: the API's cursors are its
    /// own), and concurrent identical misses share one load, which goes on
    /// in the background when the request stops waiting at the latency
    /// budget.
    pub async fn search(
        self: &Arc<Self>,
        query: CciQuery,
    ) -> Result<Cached<CciAnswer>, ConnectorError> {
        let mut query = query;
        query.rome.sort();
        query.rome.dedup();
        let this = Arc::clone(self);
        let key = query.clone();
        self.cache
            .get_or_load(key, async move { this.fetch_all(query).await })
            .await
    }

    /// Cache hits and misses so far.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache.stats()
    }

    /// One offer by its identifier at the exchange.
    pub async fn offer(&self, id: &str) -> Result<Option<Offer>, ConnectorError> {
        let mut url = self.url("api/v1/offres/")?;
        url.path_segments_mut()
            .map_err(|_| self.bad_url())?
            .pop_if_empty()
            .push(id);
        let Some(body) = self.get(url, &[]).await? else {
            return Ok(None);
        };
        let record: Json<'_> = parse(&body)?;
        match self.mapping.map_record::<Offer>(0, &record) {
            Ok(o) => Ok(Some(o)),
            Err(e) => {
                log_rejected(PARTNER, &e);
                Ok(None)
            }
        }
    }

    /// How many offers the exchange holds: a one-record request, used to
    /// tell whether it answers.
    pub async fn count(&self) -> Result<u64, ConnectorError> {
        let url = self.url("api/v1/offres")?;
        let body = self
            .get(url, &[("limite", "1".into())])
            .await?
            .ok_or_else(|| self.not_found())?;
        let page: Page<IgnoredAny> = parse(&body)?;
        Ok(page.pagination.total)
    }

    async fn fetch_all(&self, query: CciQuery) -> Result<CciAnswer, ConnectorError> {
        let url = self.url("api/v1/offres")?;
        let base = query.params();
        let mut answer = CciAnswer {
            whole: query == CciQuery::default(),
            ..CciAnswer::default()
        };
        let mut cursor: Option<String> = None;
        let mut index = 0usize;
        loop {
            let mut params = base.clone();
            params.push(("limite", self.config.page_size.to_string()));
            if let Some(c) = &cursor {
                params.push(("curseur", c.clone()));
            }
            let body = self
                .get(url.clone(), &params)
                .await?
                .ok_or_else(|| self.not_found())?;
            // Read into a tree that borrows its texts from the body.
            let page: Page<Json<'_>> = parse(&body)?;
            answer.total = page.pagination.total;
            for record in &page.data {
                match self.mapping.map_record::<Offer>(index, record) {
                    Ok(o) => answer.offers.push(Arc::new(o)),
                    Err(e) => {
                        log_rejected(PARTNER, &e);
                        answer.rejected.push(e);
                    }
                }
                index += 1;
            }
            match page.pagination.suivant {
                Some(next) if !page.data.is_empty() && cursor.as_deref() != Some(&next) => {
                    cursor = Some(next)
                }
                _ => break,
            }
        }
        tracing::debug!(partner = %PARTNER, offers = answer.offers.len(), rejected = answer.rejected.len(), "cci offers loaded");
        Ok(answer)
    }

    /// GETs a body with a bearer token; a refused token is renewed once.
    /// `None` for a 404.
    async fn get(
        &self,
        url: url::Url,
        params: &[(&str, String)],
    ) -> Result<Option<Vec<u8>>, ConnectorError> {
        self.policy
            .call("GET /api/v1/offres", || self.get_once(url.clone(), params))
            .await
    }

    async fn get_once(
        &self,
        url: url::Url,
        params: &[(&str, String)],
    ) -> Result<Option<Vec<u8>>, ConnectorError> {
        for attempt in 0..2 {
            let token = self.tokens.token().await?;
            let response = crate::http::traced(self.http.get(url.clone()))
                .query(params)
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))?;
            crate::http::record_status(response.status());
            match response.status() {
                StatusCode::UNAUTHORIZED if attempt == 0 => {
                    tracing::info!(partner = %PARTNER, "token refused, renewing");
                    self.tokens.invalidate().await;
                    continue;
                }
                StatusCode::NOT_FOUND => return Ok(None),
                s if s.is_success() => {
                    return match response.bytes().await {
                        Ok(body) => Ok(Some(body.into())),
                        Err(_) => Err(ConnectorError::MappingFailed {
                            partner: PARTNER,
                            reason: "the body could not be read".into(),
                        }),
                    };
                }
                _ => return Err(ConnectorError::from_response(PARTNER, &response)),
            }
        }
        Err(ConnectorError::Auth {
            partner: PARTNER,
            reason: "a fresh token was refused".into(),
        })
    }

    fn url(&self, path: &str) -> Result<url::Url, ConnectorError> {
        let mut base = self.config.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path).map_err(|_| self.bad_url())
    }

    fn bad_url(&self) -> ConnectorError {
        ConnectorError::unavailable(PARTNER, "the configured base URL cannot hold a path")
    }

    fn not_found(&self) -> ConnectorError {
        ConnectorError::BadResponse {
            partner: PARTNER,
            reason: "the offers resource is missing (HTTP 404)".into(),
        }
    }
}

impl LiveOffers for CciConnector {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn employers(&self) -> Employers {
        Employers::Private
    }

    /// The API filters by occupations, département and level itself.
    fn search(
        self: Arc<Self>,
        query: OfferQuery,
    ) -> BoxFuture<'static, Result<Cached<OfferAnswer>, ConnectorError>> {
        let query = CciQuery {
            rome: query.rome.iter().map(ToString::to_string).collect(),
            departement: query.departement.map(|d| d.to_string()),
            level: query.level.map(|l| l.get()),
            updated_since: None,
        };
        Box::pin(async move { CciConnector::search(&self, query).await })
    }

    fn offer(
        self: Arc<Self>,
        partner_id: String,
    ) -> BoxFuture<'static, Result<Option<Arc<Offer>>, ConnectorError>> {
        Box::pin(async move { Ok(CciConnector::offer(&self, &partner_id).await?.map(Arc::new)) })
    }
}

/// Reads a body of the API's JSON.
fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, ConnectorError> {
    crate::http::json_body(PARTNER, body)
}
