//! The connector to a declared live source: a search becomes requests by
//! the declaration's templates, each page read by the partner's mapping
//! file, the pages followed as declared, the answer cached.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use passerelle_mappings::{Entity, Mapping};
use passerelle_schema::{MobilityProgram, Offer, Partner};
use reqwest::StatusCode;

use super::auth::Signer;
use super::declaration::{LiveDeclaration, Pagination, RequestTemplates, MAX_PAGES};
use super::template::{self, Filters};
use super::web::{count, next_link, path_segment, text};
use crate::feed::log_rejected;
use crate::http::unchanged::{Last, PageMapped, PagedAnswer, PointerValues, Reading};
use crate::http::{http_client, Cached, CallPolicy, LiveCache};
use crate::source::{
    Employers, LiveMobility, LiveOffers, MobilityAnswer, MobilityQuery, OfferAnswer, OfferQuery,
};
use crate::ConnectorError;

/// Pages asked at once after the first, when the first says how many
/// there are.
const CONCURRENT_PAGES: usize = 4;

/// A declared live source, connected.
pub struct DeclaredLive {
    partner: Partner,
    declaration: LiveDeclaration,
    base: url::Url,
    request: RequestTemplates,
    one: Option<RequestTemplates>,
    http: reqwest::Client,
    signer: Signer,
    mapping: Arc<Mapping>,
    offers: LiveCache<OfferQuery, OfferAnswer>,
    mobilities: LiveCache<MobilityQuery, MobilityAnswer>,
    policy: CallPolicy,
    /// The names its calls are traced and counted under, as the request
    /// reads (`GET /api/v1/offres`): the search's, and one offer's.
    operations: (&'static str, &'static str),
}

/// The name a request's calls are traced under: its method and path.
fn operation(request: &super::declaration::RequestDeclaration) -> &'static str {
    // Once a declared source, when the configuration is read.
    let name = format!(
        "{} /{}",
        request.method.to_ascii_uppercase(),
        request.path.trim_start_matches('/')
    );
    Box::leak(name.into_boxed_str())
}

/// What a search's pages gave.
struct Fetched<E> {
    reading: Reading<E>,
    total: Option<u64>,
}

/// One answer of the API: its body and headers.
struct Answer {
    body: axum::body::Bytes,
    headers: reqwest::header::HeaderMap,
}

impl DeclaredLive {
    /// The connector of `declaration` (checked, its base URL set), its
    /// records read by `mapping`.
    pub fn new(partner: Partner, declaration: LiveDeclaration, mapping: Arc<Mapping>) -> Self {
        let mut base = declaration.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let request = declaration
            .request
            .templates(declaration.filters(), &declaration.code_lists)
            .expect("a checked declaration's request reads");
        let one = declaration.one.as_ref().map(|o| {
            o.templates(&[], &declaration.code_lists)
                .expect("a checked declaration's request reads")
        });
        let http = http_client(&declaration.http);
        let signer = Signer::new(&declaration.auth, partner, &http);
        let (ttl, stale, max) = (
            declaration.cache_ttl,
            declaration.stale_for,
            declaration.cache_max_bytes,
        );
        Self {
            offers: LiveCache::new(
                partner,
                ttl,
                stale,
                max,
                // About a kilobyte an offer, as held in memory.
                |a: &OfferAnswer| (a.offers.len() as u32).saturating_mul(1024).max(64),
                &declaration.resilience,
            ),
            mobilities: LiveCache::new(
                partner,
                ttl,
                stale,
                max,
                |a: &MobilityAnswer| (a.mobilities.len() as u32).saturating_mul(256).max(64),
                &declaration.resilience,
            ),
            policy: CallPolicy::new(partner, declaration.resilience.clone()),
            operations: (
                operation(&declaration.request),
                declaration.one.as_ref().map_or("", operation),
            ),
            partner,
            base,
            request,
            one,
            http,
            signer,
            mapping,
            declaration,
        }
    }

    /// What it answers.
    pub fn entity(&self) -> passerelle_mappings::EntityKind {
        self.declaration.entity
    }

    /// The API's calls so far that the cache answered, and those it did
    /// not.
    pub fn cache_stats(&self) -> (u64, u64) {
        let (a, b) = self.offers.stats();
        let (c, d) = self.mobilities.stats();
        (a + c, b + d)
    }

    /// The request `templates` make of `values`.
    fn build(
        &self,
        templates: &RequestTemplates,
        values: &Filters,
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let lists = &self.declaration.code_lists;
        let path = templates
            .path
            .fill(values, lists, Some(","), path_segment)
            .pop()
            .ok_or_else(|| {
                ConnectorError::unavailable(
                    self.partner,
                    "a value of the request's path is missing",
                )
            })?;
        let url = self.base.join(path.trim_start_matches('/')).map_err(|_| {
            ConnectorError::unavailable(self.partner, "the base URL cannot hold the request's path")
        })?;
        let mut request = self.http.request(templates.method.clone(), url);
        let mut query: Vec<(&str, String)> = Vec::new();
        for (name, t, separator) in &templates.query {
            for value in t.fill(values, lists, separator.as_deref(), template::verbatim) {
                query.push((name, value));
            }
        }
        if !query.is_empty() {
            request = request.query(&query);
        }
        for (name, t) in &templates.headers {
            if let Some(value) = t.fill(values, lists, Some(","), template::verbatim).pop() {
                request = request.header(name.as_str(), value);
            }
        }
        if let Some(body) = &templates.body {
            let content_type = templates
                .content_type
                .as_deref()
                .unwrap_or("application/json");
            let escape = if content_type.contains("xml") {
                template::xml
            } else if content_type.contains("json") {
                template::json
            } else {
                template::verbatim
            };
            let text = body
                .fill(values, lists, Some(","), escape)
                .pop()
                .unwrap_or_default();
            request = request.header("content-type", content_type).body(text);
        }
        Ok(request)
    }

    /// Sends a request (`None` for a 404), signed; a refused OAuth2 token
    /// is renewed once.
    async fn send_once(
        &self,
        build: &(dyn Fn() -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync),
    ) -> Result<Option<Answer>, ConnectorError> {
        for attempt in 0..2 {
            // Traced before it is signed: a key sent as a parameter is
            // not shown.
            let request = self.signer.sign(crate::http::traced(build()?)).await?;
            let response = request
                .send()
                .await
                .map_err(|e| ConnectorError::from_reqwest(self.partner, &e))?;
            crate::http::record_status(response.status());
            match response.status() {
                StatusCode::UNAUTHORIZED if attempt == 0 && self.signer.renew().await => {
                    tracing::info!(partner = %self.partner, "token refused, renewing");
                    continue;
                }
                StatusCode::NOT_FOUND => return Ok(None),
                s if s.is_success() => {
                    let headers = response.headers().clone();
                    let body = response
                        .bytes()
                        .await
                        .map_err(|e| ConnectorError::from_reqwest(self.partner, &e))?;
                    return Ok(Some(Answer { body, headers }));
                }
                _ => return Err(ConnectorError::from_response(self.partner, &response)),
            }
        }
        Err(ConnectorError::Auth {
            partner: self.partner,
            reason: "a fresh token was refused".into(),
        })
    }

    /// Sends a request through the call policy (retries, breaker,
    /// bulkhead, budget).
    async fn send(
        &self,
        operation: &'static str,
        build: &(dyn Fn() -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync),
    ) -> Result<Option<Answer>, ConnectorError> {
        self.policy.call(operation, || self.send_once(build)).await
    }

    /// A page of the search for `filters` at `paging`.
    async fn page(&self, filters: &Filters, paging: Filters) -> Result<Answer, ConnectorError> {
        let mut values = filters.clone();
        values.extend(paging);
        self.send(self.operations.0, &|| self.build(&self.request, &values))
            .await?
            .ok_or_else(|| ConnectorError::BadResponse {
                partner: self.partner,
                reason: "the search's resource is missing (HTTP 404)".into(),
            })
    }

    /// A page read by the mapping, or taken from `last` when its bytes
    /// are that answer's page's; how many records it held, and the values
    /// at `pointers` in it (one parse of a JSON answer for both).
    fn read<E: Entity>(
        &self,
        answer: &Answer,
        pointers: &[&str],
        last: Option<&Last<'_, E>>,
        out: &mut Reading<E>,
    ) -> Result<(usize, PointerValues), ConnectorError> {
        let (held, values, rejected) = out.page(&answer.body, last, || {
            let (batch, values) = self
                .mapping
                .map_payload_pointing::<E>(&answer.body, pointers);
            if let Some(e) = &batch.truncated {
                if batch.records.is_empty() && batch.rejected.is_empty() {
                    return Err(ConnectorError::MappingFailed {
                        partner: self.partner,
                        reason: e.to_string(),
                    });
                }
            }
            Ok(PageMapped {
                records: batch.records,
                rejected: batch.rejected,
                values,
            })
        })?;
        for e in rejected {
            log_rejected(self.partner, e);
        }
        Ok((held, values))
    }

    /// Every page of the search for `filters`.
    async fn fetch<E: Entity, A: PagedAnswer<Record = E>>(
        &self,
        filters: Filters,
        previous: Option<&A>,
    ) -> Result<Fetched<E>, ConnectorError> {
        let last = previous.map(A::last);
        let last = last.as_ref();
        let mut out = Fetched {
            reading: Reading::default(),
            total: None,
        };
        let size = match &self.declaration.pagination {
            Pagination::Page { size, .. }
            | Pagination::Cursor { size, .. }
            | Pagination::Link { size } => *size,
            Pagination::Offset { size } => Some(*size),
            Pagination::None => None,
        };
        let sized = |f: Filters| f.with("size", size.map(|s| s.to_string()));
        let first_page = match &self.declaration.pagination {
            Pagination::Page { first, .. } => *first,
            _ => 0,
        };
        let paging = sized(Filters::default())
            .with("page", [first_page.to_string()])
            .with("offset", ["0".to_owned()]);
        let mut answer = self.page(&filters, paging).await?;
        let mut seen_cursor: Option<String> = None;
        for n in 0..MAX_PAGES {
            // What the declaration points at in this answer: the total and
            // the number of pages in the first, a cursor in each.
            let first = n == 0;
            let total = self.declaration.total.as_deref().filter(|_| first);
            let pages = match &self.declaration.pagination {
                Pagination::Page { pages, .. } => pages.as_deref().filter(|_| first),
                _ => None,
            };
            let next = match &self.declaration.pagination {
                Pagination::Cursor { next, .. } => Some(next.as_str()),
                _ => None,
            };
            let pointers: Vec<&str> = [total, pages, next].into_iter().flatten().collect();
            let (read, values) = self.read::<E>(&answer, &pointers, last, &mut out.reading)?;
            // The values, in the pointers' order.
            let mut values = values.into_iter();
            let mut take = |p: Option<&str>| p.and_then(|_| values.next().flatten());
            let total_value = take(total);
            let pages_value = take(pages);
            let next_value = take(next);
            if let Some(v) = &total_value {
                out.total = count(v);
            }
            let short = read == 0 || size.is_some_and(|s| read < s as usize);
            let next = match &self.declaration.pagination {
                Pagination::None => None,
                Pagination::Page {
                    pages: Some(_),
                    first,
                    ..
                } if n == 0 => {
                    let pages = pages_value
                        .as_ref()
                        .and_then(count)
                        .unwrap_or(1)
                        .clamp(1, u64::from(MAX_PAGES)) as u32;
                    // The others at once, a few at a time, read in order.
                    let rest = futures::stream::iter(first + 1..first + pages)
                        .map(|page| {
                            let paging = sized(Filters::default()).with("page", [page.to_string()]);
                            let filters = &filters;
                            async move { self.page(filters, paging).await }
                        })
                        .buffered(CONCURRENT_PAGES);
                    futures::pin_mut!(rest);
                    if read > 0 {
                        while let Some(page) = rest.next().await {
                            self.read::<E>(&page?, &[], last, &mut out.reading)?;
                        }
                    }
                    None
                }
                Pagination::Page { .. } if short => None,
                Pagination::Page { first, .. } => {
                    Some(sized(Filters::default()).with("page", [(first + n + 1).to_string()]))
                }
                Pagination::Offset { .. } if short => None,
                Pagination::Offset { .. } => {
                    Some(sized(Filters::default()).with("offset", [out.reading.held().to_string()]))
                }
                Pagination::Cursor { .. } => {
                    let cursor = next_value.as_ref().and_then(text);
                    match cursor {
                        Some(c) if read > 0 && seen_cursor.as_deref() != Some(&c) => {
                            seen_cursor = Some(c.clone());
                            Some(sized(Filters::default()).with("cursor", [c]))
                        }
                        _ => None,
                    }
                }
                Pagination::Link { .. } => {
                    // Followed on the API's own host only.
                    let link = next_link(&answer.headers)
                        .and_then(|l| self.base.join(&l).ok())
                        .filter(|u| u.origin() == self.base.origin());
                    match link {
                        Some(url) if read > 0 => {
                            let follow = || -> Result<reqwest::RequestBuilder, ConnectorError> {
                                Ok(self.http.get(url.clone()))
                            };
                            answer =
                                self.send(self.operations.0, &follow)
                                    .await?
                                    .ok_or_else(|| ConnectorError::BadResponse {
                                        partner: self.partner,
                                        reason: "the next page's link leads nowhere (HTTP 404)"
                                            .into(),
                                    })?;
                            continue;
                        }
                        _ => None,
                    }
                }
            };
            let Some(next) = next else {
                break;
            };
            answer = self.page(&filters, next).await?;
        }
        Ok(out)
    }

    /// The offers matching `query`, cached.
    async fn search_offers(
        self: Arc<Self>,
        query: OfferQuery,
    ) -> Result<Cached<OfferAnswer>, ConnectorError> {
        let mut query = query;
        query.rome.sort();
        query.rome.dedup();
        let this = Arc::clone(&self);
        let key = query.clone();
        self.offers
            .get_or_reload(key, move |previous| async move {
                let whole = query == OfferQuery::default();
                let filters = Filters::default()
                    .with("rome", query.rome.iter().map(ToString::to_string))
                    .with("departement", query.departement.map(|d| d.to_string()))
                    .with("level", query.level.map(|l| l.get().to_string()));
                // Boxed: the future handed to the cache stays small, as a hit drops
                // it unpolled.
                let fetched = Box::pin(this.fetch(filters, previous.as_deref())).await?;
                let total = fetched.total;
                Ok(fetched.reading.answer(previous, |r| OfferAnswer {
                    total: total.unwrap_or(r.records.len() as u64),
                    offers: r.records,
                    rejected: r.rejected,
                    whole,
                    pages: r.pages,
                }))
            })
            .await
    }

    /// One offer by its identifier at the partner.
    async fn one_offer(self: Arc<Self>, id: String) -> Result<Option<Arc<Offer>>, ConnectorError> {
        let Some(one) = &self.one else {
            // Without a request of its own, the offer is one of the whole
            // search's.
            let all = Arc::clone(&self)
                .search_offers(OfferQuery::default())
                .await?;
            return Ok(all
                .value
                .offers
                .iter()
                .find(|o| o.partner_id() == id)
                .cloned());
        };
        let values = Filters::default().with("id", [id]);
        let Some(answer) = self
            .send(self.operations.1, &|| self.build(one, &values))
            .await?
        else {
            return Ok(None);
        };
        if let Some(pointer) = &self.declaration.one.as_ref().and_then(|o| o.record.clone()) {
            // One record where the declaration points, in JSON.
            let unreadable = || ConnectorError::MappingFailed {
                partner: self.partner,
                reason: format!("the answer holds no record at {pointer:?}"),
            };
            let tree: serde_json::Value =
                serde_json::from_slice(&answer.body).map_err(|_| unreadable())?;
            let record = serde_json::to_vec(tree.pointer(pointer).ok_or_else(unreadable)?)
                .expect("a JSON value is JSON");
            let record: passerelle_mappings::record::Json<'_> =
                serde_json::from_slice(&record).map_err(|_| unreadable())?;
            return match self.mapping.map_record::<Offer>(0, &record) {
                Ok(o) => Ok(Some(Arc::new(o))),
                Err(e) => {
                    log_rejected(self.partner, &e);
                    Ok(None)
                }
            };
        }
        let mut out = Reading::default();
        self.read::<Offer>(&answer, &[], None, &mut out)?;
        Ok(out.records.into_iter().next())
    }

    /// The mobilities matching `query`, cached.
    async fn search_mobilities(
        self: Arc<Self>,
        query: MobilityQuery,
    ) -> Result<Cached<MobilityAnswer>, ConnectorError> {
        let this = Arc::clone(&self);
        let key = query.clone();
        self.mobilities
            .get_or_reload(key, move |previous| async move {
                let filters = Filters::default()
                    .with("uai", query.uai.clone())
                    .with("year", query.year.map(|y| y.to_string()))
                    .with("country", query.country.clone());
                let fetched = Box::pin(this.fetch(filters, previous.as_deref())).await?;
                Ok(fetched.reading.answer(previous, |r| MobilityAnswer {
                    mobilities: r.records,
                    rejected: r.rejected,
                    pages: r.pages,
                }))
            })
            .await
    }
}

impl LiveOffers for DeclaredLive {
    fn partner(&self) -> Partner {
        self.partner
    }

    fn employers(&self) -> Employers {
        self.declaration
            .employers
            .map_or(Employers::Private, Employers::from)
    }

    fn search(
        self: Arc<Self>,
        query: OfferQuery,
    ) -> BoxFuture<'static, Result<Cached<OfferAnswer>, ConnectorError>> {
        Box::pin(self.search_offers(query))
    }

    fn offer(
        self: Arc<Self>,
        partner_id: String,
    ) -> BoxFuture<'static, Result<Option<Arc<Offer>>, ConnectorError>> {
        Box::pin(self.one_offer(partner_id))
    }
}

impl LiveMobility for DeclaredLive {
    fn partner(&self) -> Partner {
        self.partner
    }

    fn program(&self) -> MobilityProgram {
        self.declaration
            .program
            .expect("a checked source of mobilities has its programme")
    }

    fn mobilities(
        self: Arc<Self>,
        query: MobilityQuery,
    ) -> BoxFuture<'static, Result<Cached<MobilityAnswer>, ConnectorError>> {
        Box::pin(self.search_mobilities(query))
    }
}
