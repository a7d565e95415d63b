//! GraphQL over HTTP, as the GraphQL-over-HTTP specification says.
//!
//! - `POST` with `Content-Type: application/json` (UTF-8) and a body
//!   `{"query", "operationName"?, "variables"?, "extensions"?}`; `GET` with
//!   the same parameters in the query string (variables and extensions as
//!   JSON), for queries only: a mutation over GET is refused with 405.
//! - The answer is `application/graphql-response+json` when the client
//!   accepts it, else `application/json`; 406 when it accepts neither.
//! - With `application/graphql-response+json`, a request that could not be
//!   executed (malformed document, validation failure) is answered 400 with
//!   no `data`; with `application/json`, a well-formed request is always
//!   answered 200.
//! - A malformed HTTP request (no query, invalid JSON, wrong parameter
//!   types) is answered 400; an unsupported media type 415.
//! - A browser asking for HTML with no query gets GraphiQL.

use std::collections::HashMap;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Response as GqlResponse, ServerError, Variables};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::errors::ErrorCode;
use passerelle_connectors::http::within_deadline;

use super::PasserelleSchema;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// The media type of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    pub(crate) fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
            MediaType::Json => JSON,
        })
    }
}

/// Picks the answer's media type from `Accept`; `None` when the client
/// accepts neither JSON type.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        // No Accept header: the legacy default.
        return Some(MediaType::Json);
    };
    let types: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|part| {
            let mut params = part.split(';');
            let media = params.next()?.trim().to_ascii_lowercase();
            let q = params
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !media.is_empty()).then_some((media, q))
        })
        .collect();
    if types.is_empty() {
        return Some(MediaType::Json);
    }
    let q_of = |m: &str| {
        types
            .iter()
            .filter(|(t, _)| t == m)
            .map(|(_, q)| *q)
            .fold(None, |a: Option<f32>, q| Some(a.map_or(q, |a| a.max(q))))
    };
    let gr = q_of("application/graphql-response+json");
    let js = q_of("application/json")
        .or_else(|| q_of("application/*"))
        .or_else(|| q_of("*/*"));
    match (gr, js) {
        (Some(g), Some(j)) if j > g => Some(MediaType::Json),
        (Some(_), _) => Some(MediaType::GraphqlResponseJson),
        (None, Some(_)) => Some(MediaType::Json),
        (None, None) => None,
    }
}

/// A request as the parameters gave it.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

/// An HTTP-level refusal, answered before any GraphQL execution.
fn refuse(status: StatusCode, media: MediaType, message: &str) -> Response {
    refuse_with(status, media, ErrorCode::InvalidInput, message)
}

/// A refusal with its code, answered before any GraphQL execution.
pub(crate) fn refuse_with(
    status: StatusCode,
    media: MediaType,
    code: ErrorCode,
    message: &str,
) -> Response {
    Answer::refusal(status, media, code, message).into_response()
}

fn params_from_json(body: Value) -> Result<Params, &'static str> {
    let Value::Object(mut obj) = body else {
        return Err("the body must be a JSON object");
    };
    let persisted = obj
        .get("extensions")
        .and_then(|e| e.get("persistedQuery"))
        .is_some();
    let query = match obj.remove("query") {
        Some(Value::String(q)) => q,
        None | Some(Value::Null) if persisted => String::new(),
        Some(_) => return Err("query must be a string"),
        None => return Err("query is missing"),
    };
    let operation_name = match obj.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("operationName must be a string"),
    };
    let object = |v: Option<Value>, what: &'static str| match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(what),
    };
    Ok(Params {
        query,
        operation_name,
        variables: object(obj.remove("variables"), "variables must be an object")?,
        extensions: object(obj.remove("extensions"), "extensions must be an object")?,
    })
}

fn params_from_query_string(raw: &str) -> Result<Params, &'static str> {
    let pairs: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let persisted = pairs
        .get("extensions")
        .is_some_and(|e| e.contains("persistedQuery"));
    let query = match pairs.get("query") {
        Some(q) => q.clone(),
        None if persisted => String::new(),
        None => return Err("query is missing"),
    };
    let json_object =
        |key: &str, what: &'static str| -> Result<Option<Map<String, Value>>, &'static str> {
            match pairs.get(key).map(String::as_str) {
                None | Some("") | Some("null") => Ok(None),
                Some(text) => match serde_json::from_str(text) {
                    Ok(Value::Object(m)) => Ok(Some(m)),
                    _ => Err(what),
                },
            }
        };
    Ok(Params {
        query,
        operation_name: pairs
            .get("operationName")
            .filter(|s| !s.is_empty())
            .cloned(),
        variables: json_object("variables", "variables must be a JSON object")?,
        extensions: json_object("extensions", "extensions must be a JSON object")?,
    })
}

/// The operation a document would run, when it parses and names one.
fn operation_type(query: &str, name: Option<&str>) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    operation(&doc, name).map(|(ty, _)| ty)
}

/// The type and name of the operation a document would run.
fn operation(
    doc: &ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, Option<String>)> {
    let op = super::shape::chosen(doc, name)?;
    let name = match &doc.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(ops) => name
            .map(str::to_owned)
            .or_else(|| ops.keys().next().map(|n| n.to_string())),
    };
    Some((op.node.ty, name))
}

/// What `/graphql` serves: the schema, and how long an operation may take.
#[derive(Clone)]
pub struct Endpoint {
    /// The schema.
    pub schema: PasserelleSchema,
    /// The deadline of an operation, from its arrival.
    pub operation_timeout: std::time::Duration,
    /// Bounds on documents and batches.
    pub limits: crate::config::Limits,
    /// Whether a browser gets GraphiQL.
    pub graphiql: bool,
    /// When set, the only documents that run: SHA-256 (hex) → document.
    pub trusted: Option<std::sync::Arc<HashMap<String, String>>>,
    /// Checks callers' bearer tokens.
    pub validator: std::sync::Arc<crate::auth::Validator>,
    /// Limits callers' request rates.
    pub limiter: std::sync::Arc<crate::ratelimit::Limiter>,
    /// Answers kept and served again, when on.
    pub cache: Option<super::cache::ResponseCache>,
}

/// An answer before it is sent: what the response cache keeps.
pub(crate) struct Answer {
    status: StatusCode,
    media: MediaType,
    body: Bytes,
    /// Whether it may be served again: a complete answer to a query.
    cacheable: bool,
}

impl Answer {
    fn refusal(status: StatusCode, media: MediaType, code: ErrorCode, message: &str) -> Self {
        let body = json!({
            "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
        });
        Self {
            status,
            media,
            body: Bytes::from(body.to_string()),
            cacheable: false,
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, self.media.header())],
            self.body,
        )
            .into_response()
    }
}

/// Runs a request through the response cache: the answer kept for it, or
/// its execution's, kept when it may be served again.
async fn cached(
    endpoint: &Endpoint,
    media: MediaType,
    caller: &crate::auth::Caller,
    sent: super::cache::Sent<'_>,
    run: impl std::future::Future<Output = Answer>,
) -> Response {
    let Some(cache) = &endpoint.cache else {
        return run.await.into_response();
    };
    let key = cache.key(media, caller, sent);
    let keep = |a: &Answer| a.cacheable.then(|| (a.media, a.body.clone()));
    match cache.serve(key, run, keep).await {
        Ok(hit) => hit,
        Err((answer, kept)) => {
            let mut response = answer.into_response();
            if kept {
                response
                    .headers_mut()
                    .insert(super::cache::X_CACHE, HeaderValue::from_static("MISS"));
            }
            response
        }
    }
}

/// Refuses a caller over its rate with 429, `RATE_LIMITED` and `Retry-After`;
/// a request counts as many times as it holds operations.
fn over_rate(
    endpoint: &Endpoint,
    caller: &crate::auth::Caller,
    address: std::net::IpAddr,
    media: MediaType,
    operations: u32,
) -> Option<Response> {
    let wait = endpoint
        .limiter
        .check_n(caller, address, operations)
        .err()?;
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r = refuse_with(
        StatusCode::TOO_MANY_REQUESTS,
        media,
        ErrorCode::RateLimited,
        &format!("too many requests; retry in {seconds} s"),
    );
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(r)
}

/// The caller a request's `Authorization: Bearer` names: anonymous without
/// one; a refusal (401, `UNAUTHENTICATED`) for a token that does not check.
pub(crate) async fn caller(
    validator: &crate::auth::Validator,
    headers: &HeaderMap,
    media: MediaType,
) -> Result<crate::auth::Caller, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(crate::auth::Caller::default());
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let refusal = |message: &str| {
        let mut r = refuse_with(
            StatusCode::UNAUTHORIZED,
            media,
            ErrorCode::Unauthenticated,
            message,
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        r
    };
    let Some(token) = token else {
        return Err(refusal("send Authorization: Bearer <token>"));
    };
    validator.validate(token).await.map_err(|e| {
        tracing::info!(reason = %e, "bearer token refused");
        refusal(&e.to_string())
    })
}

/// The SHA-256 of a document, in hex, as persisted queries name it.
fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The persisted query's hash a request names, if any.
fn persisted_hash(extensions: Option<&Map<String, Value>>) -> Option<String> {
    extensions?
        .get("persistedQuery")?
        .get("sha256Hash")?
        .as_str()
        .map(str::to_ascii_lowercase)
}

/// With trusted documents on, the document a request may run: the one its
/// hash names, or its own text when that is in the manifest.
fn trusted_document(
    trusted: &HashMap<String, String>,
    params: &Params,
) -> Result<String, (ErrorCode, String)> {
    if let Some(hash) = persisted_hash(params.extensions.as_ref()) {
        return trusted.get(&hash).cloned().ok_or_else(|| {
            (
                ErrorCode::NotTrusted,
                format!("no trusted document has the hash {hash}"),
            )
        });
    }
    let hash = sha256_hex(&params.query);
    if trusted.contains_key(&hash) {
        Ok(params.query.clone())
    } else {
        Err((
            ErrorCode::NotTrusted,
            "only trusted documents run here: send a registered document or its hash".into(),
        ))
    }
}

/// Reads a caller's W3C trace context from the request's headers.
struct HeaderExtractor<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

async fn execute(
    endpoint: &Endpoint,
    headers: &HeaderMap,
    media: MediaType,
    params: Params,
    caller: crate::auth::Caller,
    deadline: tokio::time::Instant,
) -> Answer {
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(
        "graphql.operation",
        otel.name = tracing::field::Empty,
        otel.kind = "server",
        graphql.operation.type = tracing::field::Empty,
        graphql.operation.name = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    span.set_parent(parent);
    use opentelemetry::trace::TraceContextExt;
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", trace_id.to_string());
    }
    // Boxed: the execution is a large future; held behind a pointer it
    // keeps the request's stack shallow.
    Box::pin(
        execute_in_span(endpoint, media, params, caller, span.clone(), deadline).instrument(span),
    )
    .await
}

async fn execute_in_span(
    endpoint: &Endpoint,
    media: MediaType,
    params: Params,
    caller: crate::auth::Caller,
    span: tracing::Span,
    deadline: tokio::time::Instant,
) -> Answer {
    let mut params = params;
    if let Some(trusted) = &endpoint.trusted {
        match trusted_document(trusted, &params) {
            Ok(doc) => {
                params.query = doc;
                if let Some(ext) = params.extensions.as_mut() {
                    ext.remove("persistedQuery");
                }
            }
            Err((code, message)) => {
                let status = if media == MediaType::GraphqlResponseJson {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                return Answer::refusal(status, media, code, &message);
            }
        }
    }
    // Parsed once: the checks below and the execution read the same
    // document. One that does not parse is left to the execution, which
    // answers the parser's error.
    let doc = async_graphql::parser::parse_query(&params.query).ok();
    let name = params.operation_name.as_deref();
    let admitted = doc
        .as_ref()
        .map(|d| super::shape::admit(d, name, params.variables.as_ref(), &endpoint.limits));
    if let Some(Err((code, message))) = admitted {
        let status = if media == MediaType::GraphqlResponseJson {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        return Answer::refusal(status, media, code, &message);
    }
    let parses = doc.is_some();
    let (kind, name) = match doc.as_ref().and_then(|d| operation(d, name)) {
        Some((OperationType::Query, n)) => ("query", n),
        Some((OperationType::Mutation, n)) => ("mutation", n),
        Some((OperationType::Subscription, n)) => ("subscription", n),
        None => ("unknown", None),
    };
    span.record("graphql.operation.type", kind);
    let name = name.unwrap_or_default();
    span.record("graphql.operation.name", name.as_str());
    span.record("otel.name", format!("{kind} {name}").trim_end());
    let plan = doc.as_ref().and_then(|d| {
        super::shape::chosen(d, params.operation_name.as_deref())
            .and_then(|op| super::order::Plan::of(d, &op.node))
    });
    let notices = super::notices::Notices::default();
    let mut request = async_graphql::Request::new(params.query)
        .data(caller)
        .data(notices.clone());
    if let Some(doc) = doc {
        request.set_parsed_query(doc);
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    if let Some(ext) = params.extensions {
        for (k, v) in ext {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, v);
            }
        }
    }
    let started = std::time::Instant::now();
    let mut response = within_deadline(deadline, endpoint.schema.execute(request)).await;
    if let Some(plan) = &plan {
        plan.apply(&mut response.data);
    }
    if let Some(notices) = notices.take() {
        response.extensions.insert("notices".to_owned(), notices);
    }
    let outcome = if is_request_error(&response) {
        "rejected"
    } else if response.errors.is_empty() {
        "ok"
    } else {
        "partial"
    };
    metrics::counter!("passerelle_graphql_requests_total", "type" => kind, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("passerelle_graphql_request_duration_seconds", "type" => kind)
        .record(started.elapsed().as_secs_f64());
    let mut answer = render(response, media, parses);
    answer.cacheable &= kind == "query";
    answer
}

/// Whether the response is a request error: no execution happened, so no
/// `data` is answered.
fn is_request_error(r: &GqlResponse) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

fn error_json(e: &ServerError, default_code: ErrorCode) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({ "message": e.message }));
    let ext = v
        .as_object_mut()
        .map(|o| o.entry("extensions").or_insert_with(|| json!({})));
    let code = if e.message.contains("PersistedQueryNotFound") {
        ErrorCode::PersistedQueryNotFound
    } else if e.message.contains("nested too deep") {
        ErrorCode::TooDeep
    } else if e.message.contains("too complex") {
        ErrorCode::TooComplex
    } else {
        default_code
    };
    if let Some(Value::Object(ext)) = ext {
        ext.entry("code").or_insert_with(|| json!(code.as_str()));
    }
    v
}

fn render(response: GqlResponse, media: MediaType, parses: bool) -> Answer {
    let request_error = is_request_error(&response);
    let complete = !request_error && response.errors.is_empty();
    let default_code = match (request_error, parses) {
        (true, false) => ErrorCode::ParseFailed,
        (true, true) => ErrorCode::ValidationFailed,
        // Errors in execution carry their codes; those without come from
        // coercing arguments and variables.
        (false, _) => ErrorCode::InvalidInput,
    };
    /// An answer's body, its maps in the order of the document's
    /// selections as the specification asks.
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a async_graphql::Value>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        errors: Vec<Value>,
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    }
    // The same error reported twice (the engine reports some refusals at
    // two stages) is answered once.
    let mut errors: Vec<Value> = Vec::with_capacity(response.errors.len());
    for e in &response.errors {
        let e = error_json(e, default_code);
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    let body = Body {
        data: (!request_error).then_some(&response.data),
        errors,
        extensions: &response.extensions,
    };
    // Serializing values and strings cannot fail.
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let status = if request_error && media == MediaType::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Answer {
        status,
        media,
        body: Bytes::from(body),
        cacheable: complete && status == StatusCode::OK,
    }
}

/// `GET /graphql`.
pub async fn get(
    State(endpoint): State<Endpoint>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_STRING {
        let media = negotiate(&headers).unwrap_or(MediaType::Json);
        let message = format!(
            "the query string is longer than {} KiB: send the document with POST",
            MAX_QUERY_STRING / 1024
        );
        return refuse_with(
            StatusCode::URI_TOO_LONG,
            media,
            ErrorCode::RequestTooLarge,
            &message,
        );
    }
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if endpoint.graphiql && wants_html && !raw.split('&').any(|p| p.starts_with("query=")) {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Passerelle")
                .finish(),
        )
        .into_response();
    }
    let Some(media) = negotiate(&headers) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept application/graphql-response+json or application/json",
        );
    };
    let params = match params_from_query_string(&raw) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, media, e),
    };
    if operation_type(&params.query, params.operation_name.as_deref())
        == Some(OperationType::Mutation)
    {
        let mut r = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            "mutations are sent with POST",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let caller = match caller(&endpoint.validator, &headers, media).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = over_rate(&endpoint, &caller, peer.ip(), media, 1) {
        return r;
    }
    let sent = super::cache::Sent::Get(&raw);
    let deadline = tokio::time::Instant::now() + endpoint.operation_timeout;
    cached(&endpoint, media, &caller.clone(), sent, async {
        execute(&endpoint, &headers, media, params, caller, deadline).await
    })
    .await
}

/// `POST /graphql`.
pub async fn post(
    State(endpoint): State<Endpoint>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept application/graphql-response+json or application/json",
        );
    };
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message = format!(
                "the body is larger than {} bytes",
                endpoint.limits.max_body_bytes
            );
            return refuse_with(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                ErrorCode::RequestTooLarge,
                &message,
            );
        }
        Err(_) => return refuse(StatusCode::BAD_REQUEST, media, "the body could not be read"),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase());
    let Some(content_type) = content_type else {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send Content-Type: application/json",
        );
    };
    let mut parts = content_type.split(';').map(str::trim);
    if parts.next() != Some("application/json") {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send Content-Type: application/json",
        );
    }
    if parts.any(|p| p.starts_with("charset=") && p != "charset=utf-8" && p != "charset=\"utf-8\"")
    {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "the body must be UTF-8",
        );
    }
    let caller = match caller(&endpoint.validator, &headers, media).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let deadline = tokio::time::Instant::now() + endpoint.operation_timeout;
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        // A batch: never kept by the response cache, and counted against
        // the rate once per operation.
        return match serde_json::from_slice::<Vec<Value>>(&body) {
            Ok(operations) => {
                // A batch refused for its size runs nothing: it counts once.
                let count = match operations.len() {
                    n @ 1.. if n <= endpoint.limits.max_batch => n as u32,
                    _ => 1,
                };
                if let Some(r) = over_rate(&endpoint, &caller, peer.ip(), media, count) {
                    return r;
                }
                batch(&endpoint, &headers, media, operations, caller, deadline)
                    .await
                    .into_response()
            }
            Err(_) => refuse(StatusCode::BAD_REQUEST, media, "the body is not JSON"),
        };
    }
    if let Some(r) = over_rate(&endpoint, &caller, peer.ip(), media, 1) {
        return r;
    }
    let sent = super::cache::Sent::Post(&body);
    cached(&endpoint, media, &caller.clone(), sent, async {
        let json: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return Answer::refusal(
                    StatusCode::BAD_REQUEST,
                    media,
                    ErrorCode::InvalidInput,
                    "the body is not JSON",
                )
            }
        };
        match params_from_json(json) {
            Ok(p) => execute(&endpoint, &headers, media, p, caller, deadline).await,
            Err(e) => Answer::refusal(StatusCode::BAD_REQUEST, media, ErrorCode::InvalidInput, e),
        }
    })
    .await
}

/// The longest query string a `GET` may carry; longer documents are sent
/// with `POST`. (The HTTP layer itself refuses request lines past 64 KiB,
/// with a bare 414.)
const MAX_QUERY_STRING: usize = 32 * 1024;

/// Any other method on `/graphql`: 405, with the methods it answers.
pub async fn other_method(headers: HeaderMap) -> Response {
    let media = negotiate(&headers).unwrap_or(MediaType::Json);
    let mut r = refuse_with(
        StatusCode::METHOD_NOT_ALLOWED,
        media,
        ErrorCode::MethodNotAllowed,
        "/graphql answers GET (queries) and POST",
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
    r
}

/// A path no route has: 404, as a coded error.
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let media = negotiate(&headers).unwrap_or(MediaType::Json);
    let message = format!("no resource at {}", uri.path());
    refuse_with(StatusCode::NOT_FOUND, media, ErrorCode::NotFound, &message)
}

/// A batch of operations: each is answered in its place, in one JSON array.
/// The batch is refused whole when it holds more than `limits.max_batch`.
/// Its operations run at once, under the request's one deadline.
async fn batch(
    endpoint: &Endpoint,
    headers: &HeaderMap,
    media: MediaType,
    operations: Vec<Value>,
    caller: crate::auth::Caller,
    deadline: tokio::time::Instant,
) -> Answer {
    let max = endpoint.limits.max_batch;
    if operations.is_empty() || operations.len() > max {
        let message = format!(
            "a batch holds 1 to {max} operations, not {}",
            operations.len()
        );
        return Answer::refusal(
            StatusCode::BAD_REQUEST,
            media,
            ErrorCode::BatchTooLarge,
            &message,
        );
    }
    let answers = futures::future::join_all(operations.into_iter().map(|op| {
        let caller = caller.clone();
        async move {
            let answer = match params_from_json(op) {
                Ok(p) => execute(endpoint, headers, media, p, caller, deadline).await,
                Err(e) => {
                    Answer::refusal(StatusCode::BAD_REQUEST, media, ErrorCode::InvalidInput, e)
                }
            };
            serde_json::from_slice::<Value>(&answer.body).unwrap_or(Value::Null)
        }
    }))
    .await;
    Answer {
        status: StatusCode::OK,
        media,
        body: Bytes::from(Value::Array(answers).to_string()),
        cacheable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_headers_pick_the_media_type() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(
            negotiate(&accept("application/graphql-response+json")),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(negotiate(&accept("text/plain")), None);
    }

    #[test]
    fn mutations_are_recognised_for_the_get_refusal() {
        assert_eq!(
            operation_type("mutation { x }", None),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            operation_type("query A { x } mutation B { y }", Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type("{ x }", None), Some(OperationType::Query));
    }
}
