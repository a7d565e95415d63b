//! What a request asks for: the media type of its answer, from `Accept`,
//! and its parameters, from a JSON body or a query string.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::answer::{refuse, refuse_with, MediaType};
use crate::graphql::common::errors::ErrorCode;

/// Picks the answer's media type from `Accept`; `None` when the client
/// accepts neither JSON type.
pub(super) fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
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

/// A request's body, or its refusal: 413 and `REQUEST_TOO_LARGE` past
/// `limit` bytes, 400 when it could not be read.
pub(super) fn read_body(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
    media: MediaType,
) -> Result<Bytes, Box<Response>> {
    match body {
        Ok(b) => Ok(b),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(Box::new(refuse_with(
            StatusCode::PAYLOAD_TOO_LARGE,
            media,
            ErrorCode::RequestTooLarge,
            &format!("the body is larger than {limit} bytes"),
        ))),
        Err(_) => Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            media,
            "the body could not be read",
        ))),
    }
}

/// A request as the parameters gave it.
pub(super) struct Params {
    pub(super) query: String,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Option<Map<String, Value>>,
    pub(super) extensions: Option<Map<String, Value>>,
}

/// The parameters of a JSON body, or of one operation of a batch.
pub(super) fn params_from_json(body: Value) -> Result<Params, &'static str> {
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

/// The parameters of a `GET` request's query string.
pub(super) fn params_from_query_string(raw: &str) -> Result<Params, &'static str> {
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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

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
}
