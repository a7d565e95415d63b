//! GraphQL over Server-Sent Events (the `graphql-sse` protocol, distinct
//! connections mode) on `/graphql/stream`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::connections::too_many_connections;
use super::runs::subscribe;
use crate::graphql::transports::admit::{admit, bearer, Door};
use crate::graphql::transports::answer::{refuse, MediaType};
use crate::graphql::transports::client::ClientAddress;
use crate::graphql::transports::endpoint::Endpoint;
use crate::graphql::transports::negotiate::{params_from_json, read_body};

/// `POST /graphql/stream`: a subscription over Server-Sent Events, each
/// result a `next` event, then `complete`.
pub async fn sse(
    State(endpoint): State<Endpoint>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let accepts = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if !accepts {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept text/event-stream",
        );
    }
    // Refusals are answered before the stream begins, with their status.
    let media = MediaType::GraphqlResponseJson;
    let body = match read_body(body, endpoint.limits.max_body_bytes, media) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let params = match serde_json::from_slice::<Value>(&body)
        .map_err(|_| "the body is not JSON")
        .and_then(params_from_json)
    {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, media, e),
    };
    let token = match bearer(&headers) {
        Ok(t) => t,
        Err(r) => return r.response(media),
    };
    let (caller, admitted) = match admit(&endpoint, Door::Sse, token, client, params).await {
        Ok(a) => a,
        Err(r) => return r.response(media),
    };
    let limit = endpoint.subscriptions.connections_per_address;
    let Some(slot) = endpoint.connections.take(client, limit) else {
        return too_many_connections(MediaType::Json, limit);
    };
    let closer = CancellationToken::new();
    // What the token grants ends when it expires: the stream ends then,
    // without `complete`, and the client comes back with a new one.
    let expiry = caller.expires_in().unwrap_or(Duration::MAX / 4);
    let ended = futures::future::select(
        futures::future::select(
            Box::pin(closer.clone().cancelled_owned()),
            Box::pin(endpoint.shutdown.clone().cancelled_owned()),
        ),
        Box::pin(tokio::time::sleep(expiry)),
    );
    let results = subscribe(&endpoint, admitted, caller, closer)
        .map(|o| Ok::<_, axum::Error>(Event::default().event("next").data(o.response.as_ref())))
        .chain(futures::stream::once(async {
            Ok(Event::default().event("complete").data(""))
        }))
        // Cut off, or shut down: the stream ends without `complete`, which
        // tells the client to reconnect.
        .take_until(ended)
        .map(move |e| {
            let _slot = &slot;
            e
        });
    Sse::new(results)
        .keep_alive(KeepAlive::new().interval(endpoint.subscriptions.keep_alive))
        .into_response()
}
