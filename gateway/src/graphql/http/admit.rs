//! Who may run what: the caller, from its bearer token; its rate; with
//! trusted documents on, the document it may run; the bounds of a batch;
//! the operation a document would run. The document's shape and its
//! variables are checked in [`crate::graphql::shape`].

use std::collections::HashMap;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::endpoint::Endpoint;
use super::negotiate::Params;
use crate::graphql::answer::{refuse_with, Answer, MediaType};
use crate::graphql::errors::ErrorCode;
use crate::graphql::shape;

/// Refuses a caller over its rate with 429, `RATE_LIMITED` and `Retry-After`;
/// a request counts as many times as it holds operations.
pub(super) fn over_rate(
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
pub(super) fn trusted_document(
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

/// The operation a document would run, when it parses and names one.
pub(super) fn operation_type(query: &str, name: Option<&str>) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    operation(&doc, name).map(|(ty, _)| ty)
}

/// The type and name of the operation a document would run.
pub(super) fn operation(
    doc: &ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, Option<String>)> {
    let op = shape::chosen(doc, name)?;
    let name = match &doc.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(ops) => name
            .map(str::to_owned)
            .or_else(|| ops.keys().next().map(|n| n.to_string())),
    };
    Some((op.node.ty, name))
}

/// How many operations a batch of `len` counts for against the rate.
pub(super) fn batch_weight(len: usize, max_batch: usize) -> u32 {
    // A batch refused for its size runs nothing: it counts once.
    match len {
        n @ 1.. if n <= max_batch => n as u32,
        _ => 1,
    }
}

/// Refuses a batch (400, `BATCH_TOO_LARGE`) that holds no operation or
/// more than `max_batch`.
pub(super) fn batch_bounds(len: usize, max_batch: usize, media: MediaType) -> Result<(), Answer> {
    if len == 0 || len > max_batch {
        let message = format!("a batch holds 1 to {max_batch} operations, not {len}");
        return Err(Answer::refusal(
            StatusCode::BAD_REQUEST,
            media,
            ErrorCode::BatchTooLarge,
            &message,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
