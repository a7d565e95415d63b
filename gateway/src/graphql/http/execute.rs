//! Running an admitted request: its tracing span (the caller's trace
//! context its parent), its execution under the request's deadline, the
//! notices it gathers, its maps put in the document's order, and the
//! rendering of its answer with the errors' codes.

use async_graphql::parser::types::OperationType;
use async_graphql::{Response as GqlResponse, ServerError, Variables};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use passerelle_connectors::http::within_deadline;
use serde_json::{json, Value};

use super::admit::{operation, trusted_document};
use super::endpoint::Endpoint;
use super::negotiate::Params;
use crate::graphql::answer::{Answer, MediaType};
use crate::graphql::errors::ErrorCode;
use crate::graphql::{notices, order, shape};

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

/// Runs a request in its span, the caller's trace context its parent,
/// until `deadline`.
pub(super) async fn execute(
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
        .map(|d| shape::admit(d, name, params.variables.as_ref(), &endpoint.limits));
    if let Some(Err((code, message))) = admitted {
        let status = if media == MediaType::GraphqlResponseJson {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        return Answer::refusal(status, media, code, &message);
    }
    if doc
        .as_ref()
        .and_then(|d| operation(d, params.operation_name.as_deref()))
        .is_some_and(|(kind, _)| kind == OperationType::Subscription)
    {
        let status = if media == MediaType::GraphqlResponseJson {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        return Answer::refusal(
            status,
            media,
            ErrorCode::InvalidInput,
            "subscriptions are served over graphql-ws on /graphql and over Server-Sent Events \
             (graphql-sse) on /graphql/stream",
        );
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
        shape::chosen(d, params.operation_name.as_deref())
            .and_then(|op| order::Plan::of(d, &op.node))
    });
    let notices = notices::Notices::default();
    let mut request = async_graphql::Request::new(params.query)
        .data(caller)
        .data(notices.clone())
        .data(crate::graphql::EntityMemo::default());
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
