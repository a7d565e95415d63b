//! Admission: the one path every door to the schema takes before anything
//! runs, `POST` and `GET /graphql`, graphql-ws and Server-Sent Events
//! alike. The caller, from its bearer token (a token that does not check
//! counts against its address's rate); its rate; the document it may run
//! (with trusted documents on, only those; else an automatic persisted
//! query's by its hash); the document's size and shape, before the schema
//! validates it; the operation it runs, as the door allows; its variables.
//! What passes is parsed once and run as admitted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::answer::{Answer, MediaType};
use super::endpoint::Endpoint;
use super::negotiate::Params;
use super::ratelimit::Limiter;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::documents::shape;

/// The door a request came in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Door {
    /// `POST /graphql`, alone or in a batch.
    Post,
    /// `GET /graphql`: queries only.
    Get,
    /// graphql-ws on `/graphql`.
    GraphqlWs,
    /// graphql-sse on `/graphql/stream`.
    Sse,
}

impl Door {
    /// Whether subscriptions come in by this door.
    fn subscribes(self) -> bool {
        matches!(self, Door::GraphqlWs | Door::Sse)
    }
}

/// A request refused before it runs: one error with its code, and the
/// status an HTTP door answers it with (as `application/graphql-response+json`
/// asks; see [`Refusal::answer`]).
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: ErrorCode,
    /// Whether it refuses a well-formed GraphQL request (its document,
    /// variables or operation) rather than the HTTP request carrying it.
    request_error: bool,
    /// The error, as a GraphQL error object with its code.
    pub(crate) error: Value,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: &str) -> Self {
        Self {
            status,
            code,
            request_error: false,
            error: json!({ "message": message, "extensions": { "code": code.as_str() } }),
        }
    }

    /// A well-formed request whose document, variables or operation
    /// cannot run.
    fn bad(code: ErrorCode, message: &str) -> Self {
        Self {
            request_error: true,
            ..Self::new(StatusCode::BAD_REQUEST, code, message)
        }
    }

    /// The refusal's errors, as a JSON array.
    pub(crate) fn errors(&self) -> Value {
        Value::Array(vec![self.error.clone()])
    }

    /// The answer of an HTTP door: with `application/json`, a well-formed
    /// request that could not run is answered 200, as the
    /// GraphQL-over-HTTP specification says; other refusals keep their
    /// status.
    pub(super) fn answer(&self, media: MediaType) -> Answer {
        let status = if media == MediaType::Json && self.request_error {
            StatusCode::OK
        } else {
            self.status
        };
        let header = match self.status {
            StatusCode::METHOD_NOT_ALLOWED => {
                Some((header::ALLOW, HeaderValue::from_static("POST")))
            }
            StatusCode::UNAUTHORIZED => Some((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            )),
            StatusCode::TOO_MANY_REQUESTS => self.error["extensions"]["retryAfter"]
                .as_u64()
                .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
                .map(|v| (header::RETRY_AFTER, v)),
            _ => None,
        };
        Answer {
            status,
            media,
            body: json!({ "errors": [self.error] }).to_string().into(),
            cacheable: false,
            header,
        }
    }

    /// The HTTP response of a refusal, with the header its status needs.
    pub(crate) fn response(&self, media: MediaType) -> Response {
        self.answer(media).into_response()
    }
}

/// A request admitted to run: its document parsed, checked and chosen.
pub(crate) struct Admitted {
    /// Its parameters, the document the one admitted (a trusted or
    /// persisted document's text in place of its hash).
    pub(super) params: Params,
    /// The document, parsed.
    pub(super) doc: ExecutableDocument,
    /// The kind of the operation it runs.
    pub(super) kind: OperationType,
    /// The operation's name, in a document of several.
    pub(super) name: Option<String>,
}

/// Admits a caller and its document at once: what a door that carries one
/// operation at a time calls (`GET`, each graphql-ws `subscribe`, each
/// graphql-sse request).
pub(crate) async fn admit(
    endpoint: &Endpoint,
    door: Door,
    token: Option<&str>,
    address: IpAddr,
    params: Params,
) -> Result<(crate::auth::Caller, Admitted), Refusal> {
    let caller = admit_caller(endpoint, token, address, 1).await?;
    let admitted = admit_document(endpoint, door, params)?;
    Ok((caller, admitted))
}

/// The caller a token names, counted against its rate (`weight`
/// operations): anonymous without a token; see [`identify`].
pub(crate) async fn admit_caller(
    endpoint: &Endpoint,
    token: Option<&str>,
    address: IpAddr,
    weight: u32,
) -> Result<crate::auth::Caller, Refusal> {
    let caller = identify(endpoint, token, address).await?;
    over_rate(endpoint, &caller, address, weight)?;
    Ok(caller)
}

/// The caller a token names, anonymous without one; see [`identify_with`].
pub(crate) async fn identify(
    endpoint: &Endpoint,
    token: Option<&str>,
    address: IpAddr,
) -> Result<crate::auth::Caller, Refusal> {
    identify_with(&endpoint.validator, &endpoint.limiter, token, address).await
}

/// The caller a token names, anonymous without one. A token that does not
/// check is refused (401, `UNAUTHENTICATED`) and counts against its
/// address's rate as an anonymous request would, so that guessing tokens
/// costs what asking does (429 once over it). The routes beside GraphQL
/// that read data call it too.
pub(crate) async fn identify_with(
    validator: &crate::auth::Validator,
    limiter: &Limiter,
    token: Option<&str>,
    address: IpAddr,
) -> Result<crate::auth::Caller, Refusal> {
    let Some(token) = token else {
        return Ok(crate::auth::Caller::default());
    };
    let e = match validator.validate(token).await {
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    tracing::info!(reason = %e, "bearer token refused");
    // An expired token (a client late to renew it) and the identity
    // provider's keys out of reach are not the caller's guessing.
    if e.counts_against_caller() {
        over_rate_with(limiter, &crate::auth::Caller::default(), address, 1)?;
    }
    Err(Refusal::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        &e.to_string(),
    ))
}

/// Refuses a caller over its rate; see [`over_rate_with`].
fn over_rate(
    endpoint: &Endpoint,
    caller: &crate::auth::Caller,
    address: IpAddr,
    weight: u32,
) -> Result<(), Refusal> {
    over_rate_with(&endpoint.limiter, caller, address, weight)
}

/// Refuses a caller over its rate with 429, `RATE_LIMITED` (and the
/// seconds to wait, which HTTP doors send as `Retry-After`); a request
/// counts `weight` times (the operations of a batch).
pub(crate) fn over_rate_with(
    limiter: &Limiter,
    caller: &crate::auth::Caller,
    address: IpAddr,
    weight: u32,
) -> Result<(), Refusal> {
    let Err(wait) = limiter.check_n(caller, address, weight) else {
        return Ok(());
    };
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r = Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        &format!("too many requests; retry in {seconds} s"),
    );
    r.error["extensions"]["retryAfter"] = json!(seconds);
    Err(r)
}

/// The bearer token of a request's `Authorization` header: `None` without
/// one, a refusal for a header that is not `Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "send Authorization: Bearer <token>",
            )
        })
}

/// Admits a document to run by `door`: the document it may run, its
/// size, its shape and the bounds it is checked against before the
/// schema reads it, the operation it chooses and whether the door serves
/// that kind, its variables.
pub(crate) fn admit_document(
    endpoint: &Endpoint,
    door: Door,
    mut params: Params,
) -> Result<Admitted, Refusal> {
    let hash = persisted_hash(params.extensions.as_ref());
    if let Some(trusted) = &endpoint.trusted {
        params.query = trusted_document(trusted, hash.as_deref(), &params.query)
            .map_err(|(code, message)| Refusal::bad(code, &message))?;
    } else if let Some(hash) = &hash {
        if params.query.is_empty() {
            params.query = endpoint
                .persisted
                .get(hash)
                .map(|d| d.to_string())
                .ok_or_else(|| {
                    // The message Apollo's clients look for.
                    Refusal::bad(ErrorCode::PersistedQueryNotFound, "PersistedQueryNotFound")
                })?;
        } else if sha256_hex(&params.query) != *hash {
            return Err(Refusal::bad(
                ErrorCode::InvalidInput,
                "the persisted query's hash is not the SHA-256 of its document",
            ));
        }
    }
    if let Some(ext) = params.extensions.as_mut() {
        ext.remove("persistedQuery");
    }
    if params.query.len() > endpoint.limits.max_body_bytes {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RequestTooLarge,
            &format!(
                "the document is larger than {} bytes",
                endpoint.limits.max_body_bytes
            ),
        ));
    }
    let doc = match endpoint.parsed.get(params.query.as_str()) {
        Some(doc) => ExecutableDocument::clone(&doc),
        None => {
            let doc = async_graphql::parser::parse_query(&params.query).map_err(|e| {
                let error = async_graphql::ServerError::from(e);
                let mut v = serde_json::to_value(&error).unwrap_or_else(|_| json!({}));
                v["extensions"] = json!({ "code": ErrorCode::ParseFailed.as_str() });
                Refusal {
                    error: v,
                    ..Refusal::bad(ErrorCode::ParseFailed, "")
                }
            })?;
            let kept = Arc::new(doc.clone());
            endpoint.parsed.insert(params.query.clone(), kept);
            doc
        }
    };
    let name = params.operation_name.as_deref();
    shape::admit(&doc, name, params.variables.as_ref(), &endpoint.limits)
        .map_err(|(code, message)| Refusal::bad(code, &message))?;
    // Said, rather than answered `null` as the engine would.
    if !endpoint.introspection
        && shape::chosen(&doc, name).is_some_and(|op| shape::introspection(&doc, &op.node))
    {
        return Err(Refusal::bad(
            ErrorCode::ValidationFailed,
            "introspection is switched off on this gateway",
        ));
    }
    let Some((kind, name)) = operation(&doc, name) else {
        let message = match name {
            Some(n) => format!("the document has no operation named {n:?}"),
            None => "the document holds several operations: name one in operationName".into(),
        };
        return Err(Refusal::bad(ErrorCode::ValidationFailed, &message));
    };
    match (kind, door) {
        (OperationType::Mutation, Door::Get) => {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "mutations are sent with POST",
            ))
        }
        (OperationType::Subscription, d) if !d.subscribes() => {
            return Err(Refusal::bad(
                ErrorCode::InvalidInput,
                "subscriptions are served over graphql-ws on /graphql and over Server-Sent \
                 Events (graphql-sse) on /graphql/stream",
            ))
        }
        _ => {}
    }
    if let (Some(hash), None) = (&hash, &endpoint.trusted) {
        endpoint
            .persisted
            .insert(hash.clone(), Arc::from(params.query.as_str()));
    }
    Ok(Admitted {
        params,
        doc,
        kind,
        name,
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
    hash: Option<&str>,
    query: &str,
) -> Result<String, (ErrorCode, String)> {
    if let Some(hash) = hash {
        return trusted.get(hash).cloned().ok_or_else(|| {
            (
                ErrorCode::NotTrusted,
                format!("no trusted document has the hash {hash}"),
            )
        });
    }
    if trusted.contains_key(&sha256_hex(query)) {
        Ok(query.to_owned())
    } else {
        Err((
            ErrorCode::NotTrusted,
            "only trusted documents run here: send a registered document or its hash".into(),
        ))
    }
}

/// The type and name of the operation a document would run.
fn operation(
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
pub(super) fn batch_bounds(len: usize, max_batch: usize) -> Result<(), Refusal> {
    if len == 0 || len > max_batch {
        let message = format!("a batch holds 1 to {max_batch} operations, not {len}");
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
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
    fn the_operation_run_is_the_only_one_or_the_one_named() {
        let op = |q: &str, name: Option<&str>| {
            operation(&async_graphql::parser::parse_query(q).unwrap(), name).map(|(k, _)| k)
        };
        assert_eq!(op("mutation { x }", None), Some(OperationType::Mutation));
        assert_eq!(
            op("query A { x } mutation B { y }", Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(op("{ x }", None), Some(OperationType::Query));
        assert_eq!(op("query A { x } query B { y }", None), None);
        assert_eq!(op("query A { x }", Some("C")), None);
    }

    #[test]
    fn refusals_are_answered_200_in_json_and_keep_other_statuses() {
        let r = Refusal::bad(ErrorCode::TooManyAliases, "no");
        assert_eq!(r.answer(MediaType::Json).status, StatusCode::OK);
        assert_eq!(
            r.answer(MediaType::GraphqlResponseJson).status,
            StatusCode::BAD_REQUEST
        );
        let r = Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "no",
        );
        assert_eq!(
            r.answer(MediaType::Json).status,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(r.response(MediaType::Json).headers()[header::ALLOW], "POST");
    }
}
