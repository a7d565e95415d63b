//! An answer to a GraphQL request before it is sent: its status, media
//! type and body. What the HTTP endpoint renders and the response cache
//! keeps; it depends on neither.

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::graphql::common::errors::ErrorCode;

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

/// An answer before it is sent: what the response cache keeps.
pub(crate) struct Answer {
    pub(super) status: StatusCode,
    pub(super) media: MediaType,
    pub(super) body: Bytes,
    /// Whether it may be served again: a complete answer to a query.
    pub(super) cacheable: bool,
    /// A header the status needs (`Allow`, `WWW-Authenticate`,
    /// `Retry-After`); never on an answer kept.
    pub(super) header: Option<(header::HeaderName, HeaderValue)>,
}

impl Answer {
    pub(super) fn refusal(
        status: StatusCode,
        media: MediaType,
        code: ErrorCode,
        message: &str,
    ) -> Self {
        let body = json!({
            "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
        });
        Self {
            status,
            media,
            body: Bytes::from(body.to_string()),
            cacheable: false,
            header: None,
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, self.media.header())],
            self.body,
        )
            .into_response();
        if let Some((name, value)) = self.header {
            r.headers_mut().insert(name, value);
        }
        r
    }
}

/// An HTTP-level refusal, answered before any GraphQL execution.
pub(super) fn refuse(status: StatusCode, media: MediaType, message: &str) -> Response {
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
