//! The CNFPT connector: SOAP envelopes out, offers and counts in.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use passerelle_mappings::record::{decode_xml, select, xml_records};
use passerelle_mappings::{MappedBatch, Mapping};
use passerelle_schema::{Offer, Partner};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::PARTNER;
use crate::feed::log_rejected;
use crate::http::unchanged::{PageMapped, PagedAnswer, Reading};
use crate::http::{http_client, Cached, CallPolicy, HttpSettings, LiveCache, Loaded};
use crate::source::{
    Employers, LiveOffers, LivePublicCounts, OfferAnswer, OfferQuery, PublicCounts,
};
use crate::ConnectorError;

/// The service's namespace.
pub const NAMESPACE: &str = "urn:cnfpt:apprentissage:1";

/// How to reach the CNFPT service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnfptConfig {
    /// The service's endpoint.
    pub endpoint: url::Url,
    /// Passerelle's user at the CNFPT.
    pub username: String,
    /// Its password (never logged).
    #[serde(deserialize_with = "crate::http::secret::deserialize")]
    pub password: SecretString,
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
    /// How long yearly apprentice counts are served from the cache: they
    /// change little within a day.
    #[serde(default = "default_counts_ttl", with = "humantime_serde")]
    pub counts_ttl: Duration,
}

fn default_counts_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn default_ttl() -> Duration {
    Duration::from_secs(600)
}

impl CnfptConfig {
    /// A configuration with default settings.
    pub fn new(endpoint: url::Url, username: String, password: SecretString) -> Self {
        Self {
            endpoint,
            username,
            password,
            http: HttpSettings::default(),
            resilience: crate::http::ResilienceSettings::default(),
            cache_ttl: default_ttl(),
            counts_ttl: default_counts_ttl(),
            stale_for: crate::http::default_stale_for(),
        }
    }
}

/// Every public-sector offer of Normandy, as the service last answered.
pub type CnfptOffers = OfferAnswer;

/// The live connector to the CNFPT service.
pub struct CnfptConnector {
    config: CnfptConfig,
    http: reqwest::Client,
    mapping: Arc<Mapping>,
    offers: LiveCache<(), CnfptOffers>,
    counts: LiveCache<i32, PublicCounts>,
    policy: CallPolicy,
}

impl CnfptConnector {
    /// A connector using `mapping` for offers.
    pub fn new(config: CnfptConfig, mapping: Arc<Mapping>) -> Self {
        Self {
            policy: CallPolicy::new(PARTNER, config.resilience.clone()),
            http: http_client(&config.http),
            offers: LiveCache::new(
                PARTNER,
                config.cache_ttl,
                config.stale_for,
                4 * 1024 * 1024,
                |o: &CnfptOffers| (o.offers.len() as u32).saturating_mul(1024).max(64),
                &config.resilience,
            ),
            counts: LiveCache::new(
                PARTNER,
                config.counts_ttl,
                config.stale_for,
                1024 * 1024,
                |_| 64,
                &config.resilience,
            ),
            config,
            mapping,
        }
    }

    /// Every public-sector offer of Normandy, cached; a load the request
    /// stops waiting for goes on in the background.
    pub async fn offers(self: &Arc<Self>) -> Result<Cached<CnfptOffers>, ConnectorError> {
        let this = Arc::clone(self);
        self.offers
            .get_or_reload((), move |last| async move { this.fetch_offers(last).await })
            .await
    }

    /// Apprentices in the public sector in `year`, cached.
    pub async fn counts(
        self: &Arc<Self>,
        year: i32,
    ) -> Result<Cached<PublicCounts>, ConnectorError> {
        let this = Arc::clone(self);
        self.counts
            .get_or_load(year, async move { this.fetch_counts(year).await })
            .await
    }

    /// Every offer, read from the answer unless its bytes are those `last`
    /// was read from.
    async fn fetch_offers(
        &self,
        last: Option<Arc<CnfptOffers>>,
    ) -> Result<Loaded<CnfptOffers>, ConnectorError> {
        let body = self
            .call("RechercherOffres", "<c:region>28</c:region>")
            .await?;
        let mapping = self.mapping.clone();
        let read = tokio::task::spawn_blocking(move || {
            let previous = last.as_deref().map(PagedAnswer::last);
            let mut reading = Reading::default();
            let Ok((_, _, rejected)) = reading.page(body.as_bytes(), previous.as_ref(), || {
                let batch: MappedBatch<Offer> = mapping.map_payload(body.as_bytes());
                Ok::<_, std::convert::Infallible>(PageMapped {
                    records: batch.records,
                    rejected: batch.rejected,
                    values: Vec::new(),
                })
            });
            rejected.iter().for_each(|e| log_rejected(PARTNER, e));
            reading.answer(last, |r| CnfptOffers {
                total: r.records.len() as u64,
                whole: true,
                offers: r.records,
                rejected: r.rejected,
                pages: r.pages,
            })
        })
        .await
        .map_err(|_| ConnectorError::MappingFailed {
            partner: PARTNER,
            reason: "mapping the answer failed".into(),
        })?;
        Ok(read)
    }

    async fn fetch_counts(&self, year: i32) -> Result<PublicCounts, ConnectorError> {
        let body = self
            .call(
                "CompterApprentis",
                &format!("<c:region>28</c:region><c:annee>{year}</c:annee>"),
            )
            .await?;
        let (counters, _) = xml_records(&body, "compteur");
        let mut counts = PublicCounts {
            year,
            ..PublicCounts::default()
        };
        for c in &counters {
            let kind = select(c, "@type").into_iter().next().unwrap_or_default();
            let n: u32 = select(c, "#text")
                .into_iter()
                .next()
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| bad(format!("the {kind:?} counter is not a number")))?;
            match kind.as_str() {
                "etat" => counts.etat = n,
                "territoriale" => counts.territoriale = n,
                "hospitaliere" => counts.hospitaliere = n,
                other => return Err(bad(format!("unknown counter {other:?}"))),
            }
        }
        if counters.is_empty() {
            return Err(bad("the answer has no counters".into()));
        }
        Ok(counts)
    }

    /// Calls an operation with basic auth; returns the response's XML, or
    /// the error its SOAP fault or HTTP status says.
    async fn call(&self, operation: &str, params: &str) -> Result<String, ConnectorError> {
        self.policy
            .call("SOAP", || self.call_once(operation, params))
            .await
    }

    async fn call_once(&self, operation: &str, params: &str) -> Result<String, ConnectorError> {
        let envelope = format!(
            concat!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:c=\"{ns}\">",
                "<soap:Body><c:{op}>{params}</c:{op}></soap:Body></soap:Envelope>"
            ),
            ns = NAMESPACE,
            op = operation,
            params = params
        );
        let response = crate::http::traced(self.http.post(self.config.endpoint.clone()))
            .basic_auth(
                &self.config.username,
                Some(self.config.password.expose_secret()),
            )
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{NAMESPACE}#{operation}\""))
            .body(envelope)
            .send()
            .await
            .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))?;
        crate::http::record_status(response.status());
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ConnectorError::from_reqwest(PARTNER, &e))?;
        // A SOAP fault comes with HTTP 500; anything else not 200 is HTTP's.
        let text = decode_xml(&bytes).ok();
        if let Some(fault) = text.as_deref().and_then(fault) {
            return Err(fault);
        }
        if !status.is_success() {
            return Err(ConnectorError::from_status(PARTNER, status));
        }
        text.ok_or_else(|| bad("the answer is not XML".into()))
    }
}

fn bad(reason: String) -> ConnectorError {
    ConnectorError::BadResponse {
        partner: PARTNER,
        reason,
    }
}

/// The error a SOAP fault in `xml` says, if there is one.
fn fault(xml: &str) -> Option<ConnectorError> {
    let (faults, _) = xml_records(xml, "Fault");
    let f = faults.first()?;
    let code = select(f, "faultcode")
        .into_iter()
        .next()
        .unwrap_or_default();
    let message = select(f, "faultstring")
        .into_iter()
        .next()
        .unwrap_or_default();
    let reason = format!("SOAP fault {code}: {message}");
    Some(if code.ends_with("Server") {
        ConnectorError::unavailable(PARTNER, reason)
    } else {
        bad(reason)
    })
}

impl LiveOffers for CnfptConnector {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn employers(&self) -> Employers {
        Employers::Public
    }

    /// Every offer: the service has no filters, and holds a few hundred.
    fn search(
        self: Arc<Self>,
        _: OfferQuery,
    ) -> BoxFuture<'static, Result<Cached<OfferAnswer>, ConnectorError>> {
        Box::pin(async move { self.offers().await })
    }

    fn offer(
        self: Arc<Self>,
        partner_id: String,
    ) -> BoxFuture<'static, Result<Option<Arc<Offer>>, ConnectorError>> {
        Box::pin(async move {
            let all = self.offers().await?;
            Ok(all
                .offers
                .iter()
                .find(|o| o.primary_source().partner_id == partner_id)
                .cloned())
        })
    }
}

impl LivePublicCounts for CnfptConnector {
    fn partner(&self) -> Partner {
        PARTNER
    }

    fn counts(
        self: Arc<Self>,
        year: i32,
    ) -> BoxFuture<'static, Result<Cached<PublicCounts>, ConnectorError>> {
        Box::pin(async move { CnfptConnector::counts(&self, year).await })
    }
}
