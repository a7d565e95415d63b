//! What a live source's declaration says: where the partner's API is, the
//! request a search becomes, how its pages follow one another, how
//! Passerelle signs in, and how long answers are kept.

use std::collections::BTreeMap;
use std::time::Duration;

use passerelle_mappings::EntityKind;
use passerelle_schema::MobilityProgram;
use serde::Deserialize;

use super::auth::AuthDeclared;
use super::template::{Template, MOBILITY_FILTERS, OFFER_FILTERS};
use crate::declared::declaration::EmployersDeclared;
use crate::http::{HttpSettings, ResilienceSettings};

/// A partner's API asked at request time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveDeclaration {
    /// What it answers: `offer` or `mobility`; read by the partner's
    /// `<entity>.toml`.
    #[serde(deserialize_with = "crate::declared::declaration::entity")]
    pub entity: EntityKind,
    /// The API's base URL, which the request's path is relative to.
    pub base_url: url::Url,
    /// The request a search becomes.
    pub request: RequestDeclaration,
    /// How its pages follow one another.
    #[serde(default)]
    pub pagination: Pagination,
    /// For offers: a JSON pointer to how many offers match, in the first
    /// page's answer (`/pagination/total`).
    #[serde(default)]
    pub total: Option<String>,
    /// For offers: the request of one offer by its identifier (`{id}`);
    /// without it, an offer is looked for among a search's.
    #[serde(default)]
    pub one: Option<RequestDeclaration>,
    /// How Passerelle signs in.
    #[serde(default)]
    pub auth: AuthDeclared,
    /// Code lists the templates may read a filter through
    /// (`{level|niveaux}`): the search's value, then the partner's.
    #[serde(default)]
    pub code_lists: BTreeMap<String, BTreeMap<String, String>>,
    /// For offers: whose they are, `private` (the default) or `public`.
    #[serde(default)]
    pub employers: Option<EmployersDeclared>,
    /// For mobilities: the programme that funds them (`pass_monde`).
    #[serde(default)]
    pub program: Option<MobilityProgram>,
    /// How long an answer is served from the cache.
    #[serde(default = "five_minutes", with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// How long after its expiry a cached answer may still be served,
    /// marked stale, when the partner fails.
    #[serde(default = "crate::http::default_stale_for", with = "humantime_serde")]
    pub stale_for: Duration,
    /// The most the cache holds, in bytes of records.
    #[serde(default = "four_megabytes")]
    pub cache_max_bytes: u64,
    /// Timeouts.
    #[serde(default)]
    pub http: HttpSettings,
    /// Retries, circuit breaker and bulkhead.
    #[serde(default)]
    pub resilience: ResilienceSettings,
}

/// A request, as templates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDeclaration {
    /// `GET` (the default) or `POST`.
    #[serde(default = "get")]
    pub method: String,
    /// The path, relative to the base URL (`api/v2/bourses`,
    /// `offres/{id}`).
    #[serde(default)]
    pub path: String,
    /// Query parameters, by name: a template, or `{ value, repeat,
    /// separator }`. A parameter whose values are missing is left out.
    #[serde(default)]
    pub query: BTreeMap<String, Param>,
    /// Headers, by name: templates.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A body (for `POST`): a template, its values escaped for its
    /// content type (XML, JSON).
    #[serde(default)]
    pub body: Option<String>,
    /// The body's content type; `text/xml; charset=utf-8` for a SOAP
    /// envelope.
    #[serde(default)]
    pub content_type: Option<String>,
    /// A SOAP 1.1 operation's action: the `SOAPAction` header, and a body
    /// of `text/xml` unless said.
    #[serde(default)]
    pub soap_action: Option<String>,
    /// Where the record is in a JSON answer of one record (a JSON pointer,
    /// `""` for the whole answer); where the mapping file says records
    /// are, unless said.
    #[serde(default)]
    pub record: Option<String>,
}

/// A query parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Param {
    /// Its template; several values joined by commas.
    Value(String),
    /// Its template, and how several values are sent.
    Spelled {
        /// The template.
        value: String,
        /// Whether each value is a parameter of its own
        /// (`rome=D1102&rome=D1104`).
        #[serde(default)]
        repeat: bool,
        /// What joins several values otherwise; `,` by default.
        #[serde(default)]
        separator: Option<String>,
    },
}

impl Param {
    /// Its template's text.
    pub fn template(&self) -> &str {
        match self {
            Param::Value(v) | Param::Spelled { value: v, .. } => v,
        }
    }

    /// What joins several values, `None` for a parameter each.
    pub fn separator(&self) -> Option<&str> {
        match self {
            Param::Value(_) => Some(","),
            Param::Spelled { repeat: true, .. } => None,
            Param::Spelled { separator, .. } => Some(separator.as_deref().unwrap_or(",")),
        }
    }
}

/// How an API's pages follow one another.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pagination {
    /// One answer holds every record.
    #[default]
    None,
    /// Numbered pages: `{page}` in the request, from `first`.
    Page {
        /// The first page's number; 1 unless said.
        #[serde(default = "one")]
        first: u32,
        /// Records a page, as `{size}` in the request.
        #[serde(default)]
        size: Option<u32>,
        /// A JSON pointer to how many pages there are, in the first
        /// page's answer; without it, pages are asked until one is short
        /// or empty.
        #[serde(default)]
        pages: Option<String>,
    },
    /// Offsets: `{offset}` in the request, `size` records at a time.
    Offset {
        /// Records a page, as `{size}` in the request.
        size: u32,
    },
    /// A cursor the answer gives for the next page: `{cursor}` in the
    /// request.
    Cursor {
        /// A JSON pointer to the next page's cursor in an answer; none or
        /// null on the last.
        next: String,
        /// Records a page, as `{size}` in the request.
        #[serde(default)]
        size: Option<u32>,
    },
    /// The answer's `Link` header names the next page (`rel="next"`).
    Link {
        /// Records a page, as `{size}` in the request.
        #[serde(default)]
        size: Option<u32>,
    },
}

impl Pagination {
    /// Sets how many records a page holds.
    pub fn set_size(&mut self, n: u32) {
        match self {
            Pagination::Page { size, .. }
            | Pagination::Cursor { size, .. }
            | Pagination::Link { size } => *size = Some(n),
            Pagination::Offset { size } => *size = n,
            Pagination::None => {}
        }
    }
}

fn get() -> String {
    "GET".into()
}
fn one() -> u32 {
    1
}
fn five_minutes() -> Duration {
    Duration::from_secs(300)
}
fn four_megabytes() -> u64 {
    4 * 1024 * 1024
}

/// The most pages followed for one search, against an API that never
/// stops paging.
pub const MAX_PAGES: u32 = 1000;

/// A request's templates, read.
#[derive(Debug, Clone)]
pub(super) struct RequestTemplates {
    pub(super) method: reqwest::Method,
    pub(super) path: Template,
    pub(super) query: Vec<(String, Template, Option<String>)>,
    pub(super) headers: Vec<(String, Template)>,
    pub(super) body: Option<Template>,
    pub(super) content_type: Option<String>,
}

impl RequestDeclaration {
    /// Its templates, read against the names `known`; the error names the
    /// part at fault.
    pub(super) fn templates(
        &self,
        known: &[&str],
        code_lists: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<RequestTemplates, String> {
        let method = match self.method.to_ascii_uppercase().as_str() {
            "GET" => reqwest::Method::GET,
            "POST" => reqwest::Method::POST,
            other => return Err(format!("method: {other:?} is neither GET nor POST")),
        };
        let path =
            Template::read(&self.path, known, code_lists).map_err(|e| format!("path: {e}"))?;
        let mut query = Vec::new();
        for (name, param) in &self.query {
            let t = Template::read(param.template(), known, code_lists)
                .map_err(|e| format!("query.{name}: {e}"))?;
            query.push((name.clone(), t, param.separator().map(str::to_owned)));
        }
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("headers: {name:?} is not a header's name"))?;
            let t = Template::read(value, known, code_lists)
                .map_err(|e| format!("headers.{name}: {e}"))?;
            headers.push((name.clone(), t));
        }
        if let Some(action) = &self.soap_action {
            headers.push((
                "SOAPAction".into(),
                Template::read(&format!("\"{action}\""), &[], code_lists)?,
            ));
        }
        let body = match &self.body {
            Some(b) if method == reqwest::Method::GET => {
                let _ = b;
                return Err("body: a GET sends none; say method = \"POST\"".into());
            }
            Some(b) => {
                Some(Template::read(b, known, code_lists).map_err(|e| format!("body: {e}"))?)
            }
            None => None,
        };
        let content_type = self.content_type.clone().or_else(|| {
            body.as_ref().map(|_| {
                if self.soap_action.is_some()
                    || self
                        .body
                        .as_deref()
                        .is_some_and(|b| b.trim_start().starts_with('<'))
                {
                    "text/xml; charset=utf-8".to_owned()
                } else {
                    "application/json".to_owned()
                }
            })
        });
        Ok(RequestTemplates {
            method,
            path,
            query,
            headers,
            body,
            content_type,
        })
    }
}

impl LiveDeclaration {
    /// The filters its templates may name.
    pub fn filters(&self) -> &'static [&'static str] {
        match self.entity {
            EntityKind::Mobility => MOBILITY_FILTERS,
            _ => OFFER_FILTERS,
        }
    }

    /// Checks it, with no IO; the error names the setting at fault.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(self.entity, EntityKind::Offer | EntityKind::Mobility) {
            return Err(format!(
                "entity: a live source answers offers or mobilities, not {}s",
                self.entity.name()
            ));
        }
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(format!("base_url: {} is not http(s)", self.base_url));
        }
        let request = self
            .request
            .templates(self.filters(), &self.code_lists)
            .map_err(|e| format!("request.{e}"))?;
        if let Some(one) = &self.one {
            if self.entity != EntityKind::Offer {
                return Err("one: only offers are asked one by one".into());
            }
            let t = one
                .templates(&[], &self.code_lists)
                .map_err(|e| format!("one.{e}"))?;
            let uses_id = t
                .path
                .names()
                .chain(t.query.iter().flat_map(|q| q.1.names()))
                .any(|n| n == "id");
            if !uses_id {
                return Err("one: its path or query names no `{id}`".into());
            }
        }
        let uses = |name: &str| {
            request.path.names().any(|n| n == name)
                || request
                    .query
                    .iter()
                    .any(|(_, t, _)| t.names().any(|n| n == name))
                || request
                    .headers
                    .iter()
                    .any(|(_, t)| t.names().any(|n| n == name))
                || request
                    .body
                    .as_ref()
                    .is_some_and(|t| t.names().any(|n| n == name))
        };
        let needs = match &self.pagination {
            Pagination::None => None,
            Pagination::Page { .. } => Some("page"),
            Pagination::Offset { .. } => Some("offset"),
            Pagination::Cursor { .. } => Some("cursor"),
            Pagination::Link { .. } => None,
        };
        if let Some(name) = needs {
            if !uses(name) {
                return Err(format!("pagination: its request names no `{{{name}}}`"));
            }
        }
        for pointer in [
            &self.total,
            &match &self.pagination {
                Pagination::Page { pages, .. } => pages.clone(),
                Pagination::Cursor { next, .. } => Some(next.clone()),
                _ => None,
            },
        ]
        .into_iter()
        .flatten()
        {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!(
                    "{pointer:?} is not a JSON pointer (`/pagination/total`)"
                ));
            }
        }
        if let Some(record) = self.one.as_ref().and_then(|o| o.record.as_ref()) {
            if !record.is_empty() && !record.starts_with('/') {
                return Err(format!("one.record: {record:?} is not a JSON pointer"));
            }
        }
        if self.request.record.is_some() {
            return Err(
                "request.record: a search's records are where its mapping file says".into(),
            );
        }
        if self.total.is_some() && self.entity != EntityKind::Offer {
            return Err("total: only a search of offers says how many match".into());
        }
        if self.employers.is_some() && self.entity != EntityKind::Offer {
            return Err("employers: only offers have employers".into());
        }
        match (self.entity, self.program) {
            (EntityKind::Mobility, None) => return Err(
                "program: a source of mobilities says which programme funds them (`pass_monde`)"
                    .into(),
            ),
            (EntityKind::Offer, Some(_)) => {
                return Err("program: only mobilities have a programme".into())
            }
            _ => {}
        }
        self.auth.check().map_err(|e| format!("auth.{e}"))?;
        Ok(())
    }
}
