//! The handlers of `/graphql` and the fallback of every other path: each
//! negotiates the answer, reads the parameters, admits the caller and runs
//! the request through the response cache; a batch runs its operations
//! side by side.

use axum::body::Bytes;
use axum::extract::{FromRequest as _, FromRequestParts as _, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::admit::{admit_caller, admit_document, batch_bounds, batch_weight, bearer, Door};
use super::answer::{refuse, refuse_with, Answer, MediaType};
use super::cache;
use super::client::ClientAddress;
use super::endpoint::Endpoint;
use super::execute::execute;
use super::negotiate::{negotiate, params_from_json, params_from_query_string, read_body};
use crate::graphql::common::errors::ErrorCode;

/// `GET /graphql`.
pub async fn get(
    State(endpoint): State<Endpoint>,
    ClientAddress(client): ClientAddress,
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
    if let Some(page) = endpoint.graphiql.filter(|_| wants_html) {
        if !raw.split('&').any(|p| p.starts_with("query=")) {
            return page();
        }
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
    let caller = match bearer(&headers) {
        Ok(token) => admit_caller(&endpoint, token, client, 1).await,
        Err(r) => Err(r),
    };
    let caller = match caller {
        Ok(c) => c,
        Err(r) => return r.response(media),
    };
    let sent = cache::Sent::Get(&raw);
    let deadline = tokio::time::Instant::now() + endpoint.operation_timeout;
    cached(&endpoint, media, &caller.clone(), sent, || async {
        match admit_document(&endpoint, Door::Get, params) {
            Ok(admitted) => execute(&endpoint, &headers, media, admitted, caller, deadline).await,
            Err(r) => r.answer(media),
        }
    })
    .await
}

/// `POST /graphql`.
pub async fn post(State(endpoint): State<Endpoint>, request: Request) -> Response {
    // The request's headers are this handler's: taken, not copied as the
    // `HeaderMap` extractor would.
    let (mut head, body) = request.into_parts();
    let client = match ClientAddress::from_request_parts(&mut head, &()).await {
        Ok(ClientAddress(c)) => c,
        Err(e) => return e.into_response(),
    };
    let headers = std::mem::take(&mut head.headers);
    let body = Bytes::from_request(Request::from_parts(head, body), &()).await;
    let Some(media) = negotiate(&headers) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept application/graphql-response+json or application/json",
        );
    };
    let body = match read_body(body, endpoint.limits.max_body_bytes, media) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(content_type) = content_type else {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send Content-Type: application/json",
        );
    };
    let mut parts = content_type.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case("application/json"))
    {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send Content-Type: application/json",
        );
    }
    if parts.any(|p| {
        let p = p.to_ascii_lowercase();
        p.starts_with("charset=") && p != "charset=utf-8" && p != "charset=\"utf-8\""
    }) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "the body must be UTF-8",
        );
    }
    let token = match bearer(&headers) {
        Ok(t) => t,
        Err(r) => return r.response(media),
    };
    let deadline = tokio::time::Instant::now() + endpoint.operation_timeout;
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        // A batch: never kept by the response cache, and counted against
        // the rate once per operation.
        return match serde_json::from_slice::<Vec<Value>>(&body) {
            Ok(operations) => {
                let count = batch_weight(operations.len(), endpoint.limits.max_batch);
                let caller = match admit_caller(&endpoint, token, client, count).await {
                    Ok(c) => c,
                    Err(r) => return r.response(media),
                };
                batch(&endpoint, &headers, media, operations, caller, deadline)
                    .await
                    .into_response()
            }
            Err(_) => refuse(StatusCode::BAD_REQUEST, media, "the body is not JSON"),
        };
    }
    let caller = match admit_caller(&endpoint, token, client, 1).await {
        Ok(c) => c,
        Err(r) => return r.response(media),
    };
    let sent = cache::Sent::Post(&body);
    cached(&endpoint, media, &caller.clone(), sent, || async {
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
        run_one(&endpoint, &headers, media, json, caller, deadline).await
    })
    .await
}

/// Reads, admits and runs one operation of a `POST`, alone or in a batch.
async fn run_one(
    endpoint: &Endpoint,
    headers: &HeaderMap,
    media: MediaType,
    json: Value,
    caller: crate::auth::Caller,
    deadline: tokio::time::Instant,
) -> Answer {
    let params = match params_from_json(json) {
        Ok(p) => p,
        Err(e) => {
            return Answer::refusal(StatusCode::BAD_REQUEST, media, ErrorCode::InvalidInput, e)
        }
    };
    match admit_document(endpoint, Door::Post, params) {
        Ok(admitted) => execute(endpoint, headers, media, admitted, caller, deadline).await,
        Err(r) => r.answer(media),
    }
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
    if let Err(refusal) = batch_bounds(operations.len(), endpoint.limits.max_batch) {
        return refusal.answer(media);
    }
    let answers = futures::future::join_all(operations.into_iter().map(|op| {
        let caller = caller.clone();
        async move {
            let answer = run_one(endpoint, headers, media, op, caller, deadline).await;
            serde_json::from_slice::<Value>(&answer.body).unwrap_or(Value::Null)
        }
    }))
    .await;
    Answer {
        status: StatusCode::OK,
        media,
        body: Bytes::from(Value::Array(answers).to_string()),
        cacheable: false,
        header: None,
    }
}

/// Runs a request through the response cache: the answer kept for it, or
/// its execution's, kept when it may be served again.
async fn cached<F>(
    endpoint: &Endpoint,
    media: MediaType,
    caller: &crate::auth::Caller,
    sent: cache::Sent<'_>,
    run: impl FnOnce() -> F,
) -> Response
where
    F: std::future::Future<Output = Answer>,
{
    let Some(cache) = &endpoint.cache else {
        // Boxed, as the cache boxes it: the request's own future stays
        // small, the execution's made only when it runs.
        return Box::pin(run()).await.into_response();
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
                    .insert(cache::X_CACHE, HeaderValue::from_static("MISS"));
            }
            response
        }
    }
}
