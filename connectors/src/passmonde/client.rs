//! The Pass Monde connector.

use futures::future::BoxFuture;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

use passerelle_mappings::record::Json;
use passerelle_mappings::Mapping;
use passerelle_schema::{Mobility, MobilityProgram, Partner};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::PARTNER;
use crate::feed::log_rejected;
use crate::http::{http_client, json_body, Cached, CallPolicy, HttpSettings, LiveCache};
use crate::source::{LiveMobility, MobilityAnswer, MobilityQuery};
use crate::ConnectorError;

/// How to reach the Pass Monde API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassMondeConfig {
    /// The API's base URL; grants are under `api/v2/bourses`.
    pub base_url: url::Url,
    /// Passerelle's API key (never logged), sent as `X-Api-Key`.
    #[serde(deserialize_with = "crate::http::secret::deserialize")]
    pub api_key: SecretString,
    /// Timeouts.
    #[serde(default)]
    pub http: HttpSettings,
    /// How long an answer is served from the cache.
    #[serde(default = "default_ttl", with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// Retries, circuit breaker and bulkhead.
    #[serde(default)]
    pub resilience: crate::http::ResilienceSettings,
    /// How long after its expiry a cached answer may still be served,
    /// marked stale, when the partner fails.
    #[serde(default = "crate::http::default_stale_for", with = "humantime_serde")]
    pub stale_for: std::time::Duration,
}

fn default_ttl() -> Duration {
    Duration::from_secs(300)
}

impl PassMondeConfig {
    /// A configuration with default settings.
    pub fn new(base_url: url::Url, api_key: SecretString) -> Self {
        Self {
            base_url,
            api_key,
            http: HttpSettings::default(),
            resilience: crate::http::ResilienceSettings::default(),
            cache_ttl: default_ttl(),
            stale_for: crate::http::default_stale_for(),
        }
    }
}

/// The filters the API applies itself.
pub type PassMondeQuery = MobilityQuery;

/// Grants matching a query.
pub type PassMondeAnswer = MobilityAnswer;

/// A page of grants, read as records borrowing their texts from its body.
#[derive(Deserialize)]
struct Page<T> {
    bourses: Vec<T>,
    pages: u32,
}

/// The most pages followed for one query, against a partner that never
/// stops paging.
const MAX_PAGES: u32 = 1000;

/// Pages asked at once after the first.
const CONCURRENT_PAGES: usize = 4;

/// The live connector to Pass Monde.
pub struct PassMondeConnector {
    config: PassMondeConfig,
    http: reqwest::Client,
    mapping: Arc<Mapping>,
    cache: LiveCache<PassMondeQuery, PassMondeAnswer>,
    policy: CallPolicy,
}

impl PassMondeConnector {
    /// A connector using `mapping` for grants.
    pub fn new(config: PassMondeConfig, mapping: Arc<Mapping>) -> Self {
        Self {
            policy: CallPolicy::new(PARTNER, config.resilience.clone()),
            http: http_client(&config.http),
            cache: LiveCache::new(
                PARTNER,
                config.cache_ttl,
                config.stale_for,
                4 * 1024 * 1024,
                |a: &PassMondeAnswer| (a.mobilities.len() as u32).saturating_mul(256).max(64),
                &config.resilience,
            ),
            config,
            mapping,
        }
    }

    /// Apprentices' grants matching `query`, cached; a load the request
    /// stops waiting for goes on in the background.
    pub async fn grants(
        self: &Arc<Self>,
        query: PassMondeQuery,
    ) -> Result<Cached<PassMondeAnswer>, ConnectorError> {
        let this = Arc::clone(self);
        let key = query.clone();
        self.cache
            .get_or_load(key, async move { this.fetch(query).await })
            .await
    }

    /// Calls made to the API so far, and cache hits.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache.stats()
    }

    async fn page(
        &self,
        url: &url::Url,
        params: &[(&str, String)],
        page: u32,
    ) -> Result<Vec<u8>, ConnectorError> {
        let response = crate::http::traced(self.http.get(url.clone()))
            .query(params)
            .query(&[("page", page)])
            .header("X-Api-Key", self.config.api_key.expose_secret())
            .send()
            .await
            .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))?;
        crate::http::record_status(response.status());
        if response.status() != StatusCode::OK {
            return Err(ConnectorError::from_response(PARTNER, &response));
        }
        response
            .bytes()
            .await
            .map(Vec::from)
            .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))
    }

    async fn fetch(&self, query: PassMondeQuery) -> Result<PassMondeAnswer, ConnectorError> {
        let url = self.config.base_url.join("api/v2/bourses").map_err(|_| {
            ConnectorError::unavailable(PARTNER, "the configured base URL cannot hold a path")
        })?;
        let mut params: Vec<(&str, String)> =
            vec![("statut", "apprenti".into()), ("par_page", "200".into())];
        if let Some(u) = &query.uai {
            params.push(("uai", u.clone()));
        }
        if let Some(y) = query.year {
            params.push(("annee", y.to_string()));
        }
        if let Some(c) = &query.country {
            params.push(("pays", c.clone()));
        }
        // The first page tells how many there are; the others are asked
        // at once, a few at a time, and read in order.
        let first = self
            .policy
            .call("GET /api/v2/bourses", || self.page(&url, &params, 1))
            .await?;
        let first: Page<Json<'_>> = json_body(PARTNER, &first)?;
        let pages = if first.bourses.is_empty() {
            1
        } else {
            first.pages.clamp(1, MAX_PAGES)
        };
        let rest = futures::stream::iter(2..=pages)
            .map(|page| {
                let (url, params) = (&url, &params);
                async move {
                    self.policy
                        .call("GET /api/v2/bourses", || self.page(url, params, page))
                        .await
                }
            })
            .buffered(CONCURRENT_PAGES);
        let mut answer = PassMondeAnswer::default();
        let mut index = 0;
        let mut read = |page: Page<Json<'_>>| {
            for record in &page.bourses {
                match self.mapping.map_record::<Mobility>(index, record) {
                    Ok(m) => answer.mobilities.push(Arc::new(m)),
                    Err(e) => {
                        log_rejected(PARTNER, &e);
                        answer.rejected.push(e);
                    }
                }
                index += 1;
            }
        };
        read(first);
        futures::pin_mut!(rest);
        while let Some(body) = rest.next().await {
            read(json_body(PARTNER, &body?)?);
        }
        Ok(answer)
    }
}

impl LiveMobility for PassMondeConnector {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn program(&self) -> MobilityProgram {
        MobilityProgram::PassMonde
    }

    fn mobilities(
        self: Arc<Self>,
        query: MobilityQuery,
    ) -> BoxFuture<'static, Result<Cached<MobilityAnswer>, ConnectorError>> {
        Box::pin(async move { self.grants(query).await })
    }
}
