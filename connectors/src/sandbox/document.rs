//! Serving a whole document with a strong `ETag`, as feed partners do.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The strong `ETag` of a document's bytes.
pub fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..12]))
}

/// Answers a GET of a document: `304 Not Modified` when the request's
/// `If-None-Match` names the document's tag, the document otherwise.
pub fn conditional(
    headers: &HeaderMap,
    body: Bytes,
    tag: &str,
    content_type: &'static str,
) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag.to_owned())]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::ETAG, tag.to_owned()),
        ],
        body,
    )
        .into_response()
}
