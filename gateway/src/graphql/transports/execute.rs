//! Running an admitted request: its tracing span (the caller's trace
//! context its parent), its execution under the request's deadline, the
//! notices it gathers, its maps put in the document's order, and the
//! rendering of its answer with the errors' codes.

use async_graphql::parser::types::OperationType;
use async_graphql::{Response as GqlResponse, Variables};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use passerelle_connectors::http::within_deadline;
use serde_json::{json, Value};

use super::admit::Admitted;
use super::answer::{Answer, MediaType};
use super::endpoint::Endpoint;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::notices;
use crate::graphql::common::written::{json, WritesJson};
use crate::graphql::documents::introspection::Rewrites;
use crate::graphql::documents::{order, shape};

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

/// Runs an admitted request in its span, the caller's trace context its
/// parent, until `deadline`.
pub(super) async fn execute(
    endpoint: &Endpoint,
    headers: &HeaderMap,
    media: MediaType,
    admitted: Admitted,
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
        execute_in_span(endpoint, media, admitted, caller, span.clone(), deadline).instrument(span),
    )
    .await
}

/// The name of an operation's kind, as spans and metrics say it.
pub(super) fn kind_name(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// What is done to every result of an admitted request, whichever door
/// it came through, so that one result reads the same over HTTP,
/// graphql-ws and SSE: its maps in the document's order, what
/// introspection answers rewritten ([`Rewrites`]), and the notices its execution gathered in
/// `extensions.notices`.
pub(super) struct Finish {
    plan: Option<order::Plan>,
    rewrites: Rewrites,
    notices: notices::Notices,
}

impl Finish {
    /// Finishes one result (each of a subscription's in turn).
    pub(super) fn apply(&self, response: &mut GqlResponse) {
        if let Some(plan) = &self.plan {
            plan.apply(&mut response.data);
        }
        self.rewrites.apply(&mut response.data);
        if let Some(notices) = self.notices.take() {
            response.extensions.insert("notices".to_owned(), notices);
        }
    }
}

/// The request an admitted document runs as at `endpoint`, with the data
/// every resolver may ask for; and what finishes each of its results.
pub(super) fn request_of(
    subgraph_scopes: bool,
    admitted: Admitted,
    caller: crate::auth::Caller,
) -> (async_graphql::Request, Finish) {
    let Admitted { params, doc, .. } = admitted;
    let (plan, rewrites) = match shape::chosen(&doc, params.operation_name.as_deref()) {
        Some(op) => (
            order::Plan::of(&doc, &op.node),
            Rewrites::of(&doc, &op.node, subgraph_scopes),
        ),
        None => (None, Rewrites::default()),
    };
    let notices = notices::Notices::default();
    let mut request = async_graphql::Request::new(params.query)
        .data(caller)
        .data(notices.clone())
        .data(crate::graphql::entities::EntityMemo::default())
        .data(WritesJson);
    request.set_parsed_query(doc);
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
    let finish = Finish {
        plan,
        rewrites,
        notices,
    };
    (request, finish)
}

async fn execute_in_span(
    endpoint: &Endpoint,
    media: MediaType,
    admitted: Admitted,
    caller: crate::auth::Caller,
    span: tracing::Span,
    deadline: tokio::time::Instant,
) -> Answer {
    let kind = kind_name(admitted.kind);
    span.record("graphql.operation.type", kind);
    let name = admitted.name.clone().unwrap_or_default();
    span.record("graphql.operation.name", name.as_str());
    span.record("otel.name", format!("{kind} {name}").trim_end());
    let (request, finish) = request_of(endpoint.subgraph_scopes, admitted, caller);
    let started = std::time::Instant::now();
    let mut response = within_deadline(deadline, endpoint.schema.execute(request)).await;
    finish.apply(&mut response);
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
    let mut answer = render(response, media);
    answer.cacheable &= kind == "query";
    answer
}

/// A result as JSON, the same bytes whichever door sends it (the body over
/// HTTP, the payload of graphql-ws's `next` and SSE's `next` event): no
/// `data` for a request error, `data` (maybe `null`) once the operation
/// ran; then its errors and extensions when it has some.
pub(super) fn payload(response: &GqlResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(json::size_hint(&response.data) + 256);
    let key = |out: &mut Vec<u8>, name: &[u8]| {
        out.push(if out.is_empty() { b'{' } else { b',' });
        out.extend_from_slice(name);
    };
    // The maps in the order of the document's selections, as the
    // specification asks; pages written directly copied as they are.
    if !is_request_error(response) {
        key(&mut out, br#""data":"#);
        json::value(&mut out, &response.data);
    }
    if !response.errors.is_empty() {
        key(&mut out, br#""errors":"#);
        json::put(&mut out, &response.errors);
    }
    if !response.extensions.is_empty() {
        key(&mut out, br#""extensions":"#);
        json::put(&mut out, &response.extensions);
    }
    if out.is_empty() {
        out.push(b'{');
    }
    out.push(b'}');
    out
}

/// Whether the response is a request error: no execution happened, so no
/// `data` is answered.
pub(super) fn is_request_error(r: &GqlResponse) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

/// Gives every error of a response a code: those the schema's validation
/// or the engine answered without one get the code of what they are (a
/// request error is validation's; an error in execution without a code
/// comes from coercing arguments and variables). The same error reported
/// twice (the engine reports some refusals at two stages) is kept once.
/// Every door answers errors so.
pub(super) fn give_codes(response: &mut GqlResponse) {
    let default_code = if is_request_error(response) {
        ErrorCode::ValidationFailed
    } else {
        ErrorCode::InvalidInput
    };
    let mut seen: Vec<Value> = Vec::with_capacity(response.errors.len());
    response.errors.retain_mut(|e| {
        if e.extensions.as_ref().and_then(|x| x.get("code")).is_none() {
            let code = if e.message.contains("nested too deep") {
                ErrorCode::TooDeep
            } else if e.message.contains("too complex") {
                ErrorCode::TooComplex
            } else {
                default_code
            };
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", code.as_str());
        }
        let json = serde_json::to_value(&*e).unwrap_or_else(|_| json!({ "message": e.message }));
        if seen.contains(&json) {
            return false;
        }
        seen.push(json);
        true
    });
}

fn render(mut response: GqlResponse, media: MediaType) -> Answer {
    give_codes(&mut response);
    let request_error = is_request_error(&response);
    let complete = !request_error && response.errors.is_empty();
    let body = payload(&response);
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
        header: None,
    }
}
