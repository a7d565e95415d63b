//! graphql-ws (the `graphql-transport-ws` protocol) on `/graphql`: the
//! upgrade, the connection's messages, its bounds and how it closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::connections::{too_many_connections, Slot};
use super::runs::subscribe;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::transports::admit::{admit, bearer, identify, Door, Refusal};
use crate::graphql::transports::answer::MediaType;
use crate::graphql::transports::client::ClientAddress;
use crate::graphql::transports::endpoint::Endpoint;
use crate::graphql::transports::negotiate::params_from_json;
use crate::graphql::transports::shared::Outcome;

/// The subprotocol of graphql-ws.
const PROTOCOL: &str = "graphql-transport-ws";

/// How long a write may wait for a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a WebSocket reads at a time. An idle subscriber's connection keeps
/// this buffer for hours: small, since the protocol's messages are (a
/// longer one is read whole all the same, its frame header saying its
/// length).
const READ_BUFFER: usize = 512;

/// `GET /graphql` asking to upgrade to a WebSocket, or not: queries over
/// GET go on to [`crate::graphql::transports::routes::get`].
pub async fn get_or_upgrade(State(endpoint): State<Endpoint>, request: Request) -> Response {
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let (mut parts, _) = request.into_parts();
    let client = match ClientAddress::from_request_parts(&mut parts, &()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if !upgrade {
        let raw = parts.uri.query().map(str::to_owned);
        return crate::graphql::transports::routes::get(
            State(endpoint),
            client,
            parts.headers,
            axum::extract::RawQuery(raw),
        )
        .await;
    }
    let peer = client.0;
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    let limits = &endpoint.subscriptions;
    let Some(slot) = endpoint
        .connections
        .take(peer, limits.connections_per_address)
    else {
        return too_many_connections(MediaType::Json, limits.connections_per_address);
    };
    let offered = parts
        .headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    let tracker = endpoint.tracker.clone();
    ws.protocols([PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(endpoint.limits.max_body_bytes)
        .on_upgrade(move |socket| {
            tracker.track_future(serve_ws(endpoint, socket, offered, peer, slot))
        })
}

type Tagged = BoxStream<'static, (String, Option<Outcome>)>;

/// One graphql-ws connection.
struct WsConnection {
    endpoint: Endpoint,
    /// The client's address, for its rate.
    address: IpAddr,
    /// The caller `connection_init` named, once acknowledged.
    caller: Option<crate::auth::Caller>,
    /// The bearer token `connection_init` gave, checked again at each
    /// `subscribe`.
    token: Option<String>,
    closer: CancellationToken,
    subscriptions: HashMap<String, AbortHandle>,
    streams: SelectAll<Abortable<Tagged>>,
}

/// What to do after a client message.
enum Next {
    Go,
    Send(String),
    Close(u16, String),
}

impl Next {
    fn json(v: Value) -> Self {
        Next::Send(v.to_string())
    }
}

/// Sends a message, unless the client has not read for `WRITE_TIMEOUT` or
/// `stop` is cancelled meanwhile.
async fn send(socket: &mut WebSocket, message: Message, stop: &CancellationToken) -> Sent {
    tokio::select! {
        sent = tokio::time::timeout(WRITE_TIMEOUT, socket.send(message)) => match sent {
            Ok(Ok(())) => Sent::Done,
            Ok(Err(_)) => Sent::Failed,
            Err(_) => Sent::Stalled,
        },
        _ = stop.cancelled() => Sent::Stalled,
    }
}

/// What became of a message sent.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Done,
    /// The client did not read it in time, or its buffer filled meanwhile.
    Stalled,
    /// The connection failed.
    Failed,
}

/// Closes with `code`, if the client reads within a second.
async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

/// Serves one connection; `_slot` counts it against its address until it
/// ends. The task of an idle connection keeps this future for hours: what
/// it awaits for a moment (handling a message, sending, closing) is boxed
/// so as not to take room in it.
async fn serve_ws(
    endpoint: Endpoint,
    mut socket: WebSocket,
    offered: bool,
    address: IpAddr,
    _slot: Slot,
) {
    if !offered {
        close(&mut socket, 4406, "Subprotocol not acceptable").await;
        return;
    }
    let limits = endpoint.subscriptions.clone();
    let shutdown = endpoint.shutdown.clone();
    let mut c = WsConnection {
        endpoint,
        address,
        caller: None,
        token: None,
        closer: CancellationToken::new(),
        subscriptions: HashMap::new(),
        streams: SelectAll::new(),
    };
    let init = tokio::time::sleep(limits.init_timeout);
    tokio::pin!(init);
    // Set once the caller is known: what its token grants ends when it
    // expires, and the connection with it.
    let expiry = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(expiry);
    let mut expiry_set = false;
    let mut keep_alive = tokio::time::interval(limits.keep_alive);
    keep_alive.reset();
    metrics::gauge!("passerelle_subscription_connections", "transport" => "ws").increment(1.0);
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.cancelled() => Next::Close(1012, "the gateway is restarting: reconnect".into()),
            _ = c.closer.cancelled() => Next::Close(1013, "the subscriber does not read fast enough".into()),
            _ = &mut init, if c.caller.is_none() => Next::Close(4408, "Connection initialisation timeout".into()),
            _ = &mut expiry, if expiry_set => Next::Close(4403, "Forbidden: the token has expired".into()),
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => Box::pin(c.on_message(&text)).await,
                Some(Ok(Message::Binary(_))) => Next::Close(4400, "binary messages are not part of the protocol".into()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Next::Go,
                Some(Err(e)) if too_long(&e) => Next::Close(1009, format!("a message is larger than {} bytes", c.endpoint.limits.max_body_bytes)),
                Some(Ok(Message::Close(_))) => {
                    // The WebSocket library queued the answering Close frame
                    // (RFC 6455 §5.5.1): it goes out before the connection
                    // ends, so the client sees a clean closure.
                    Box::pin(tokio::time::timeout(Duration::from_secs(1), futures::SinkExt::flush(&mut socket))).await.ok();
                    break;
                }
                Some(Err(_)) | None => break,
            },
            Some((id, item)) = c.streams.next(), if !c.streams.is_empty() => c.on_result(id, item),
            _ = keep_alive.tick() => Next::json(json!({ "type": "ping" })),
        };
        if !expiry_set {
            let at = c
                .caller
                .as_ref()
                .and_then(|c| c.expires_in())
                .and_then(|left| tokio::time::Instant::now().checked_add(left));
            if let Some(at) = at {
                expiry.as_mut().reset(at);
                expiry_set = true;
            }
        }
        match next {
            Next::Go => {}
            Next::Send(v) => {
                match Box::pin(send(&mut socket, Message::Text(v.into()), &c.closer)).await {
                    Sent::Done => {}
                    Sent::Failed => break,
                    Sent::Stalled => {
                        // A client that does not read: its buffers are
                        // full. Cut off by its shared buffer, it is
                        // counted there; by its socket, here.
                        if c.closer.is_cancelled() {
                            Box::pin(close(
                                &mut socket,
                                1013,
                                "the subscriber does not read fast enough",
                            ))
                            .await;
                        } else {
                            metrics::counter!("passerelle_subscribers_cut_off_total").increment(1);
                        }
                        break;
                    }
                }
            }
            Next::Close(code, reason) => {
                Box::pin(close(&mut socket, code, &reason)).await;
                break;
            }
        }
    }
    metrics::gauge!("passerelle_subscription_connections", "transport" => "ws").decrement(1.0);
}

impl WsConnection {
    async fn on_message(&mut self, text: &str) -> Next {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
            return Next::Close(4400, "the message is not a JSON object".into());
        };
        match m.get("type").and_then(Value::as_str) {
            Some("connection_init") => {
                if self.caller.is_some() {
                    return Next::Close(4429, "Too many initialisation requests".into());
                }
                let mut headers = HeaderMap::new();
                let value = m.get("payload").and_then(|p| {
                    ["Authorization", "authorization"]
                        .iter()
                        .find_map(|k| p.get(k))
                        .and_then(Value::as_str)
                });
                if let Some(v) = value.and_then(|t| HeaderValue::from_str(t).ok()) {
                    headers.insert(header::AUTHORIZATION, v);
                }
                let token = match bearer(&headers) {
                    Ok(t) => t,
                    Err(_) => {
                        return Next::Close(4403, "Forbidden: the token does not check".into())
                    }
                };
                match identify(&self.endpoint, token, self.address).await {
                    Ok(c) => {
                        self.token = token.map(str::to_owned);
                        self.caller = Some(c);
                        Next::json(json!({ "type": "connection_ack" }))
                    }
                    Err(r) if r.code == ErrorCode::RateLimited => {
                        Next::Close(4429, "Too many requests: retry later".into())
                    }
                    Err(_) => Next::Close(4403, "Forbidden: the token does not check".into()),
                }
            }
            Some("ping") => Next::json(json!({ "type": "pong" })),
            Some("pong") => Next::Go,
            Some("subscribe") => {
                if self.caller.is_none() {
                    return Next::Close(4401, "Unauthorized".into());
                }
                let (Some(id), Some(payload)) =
                    (m.get("id").and_then(Value::as_str), m.get("payload"))
                else {
                    return Next::Close(4400, "subscribe needs an id and a payload".into());
                };
                if self.subscriptions.contains_key(id) {
                    return Next::Close(4409, format!("Subscriber for {id} already exists"));
                }
                let error = |r: &Refusal| {
                    Next::json(json!({ "id": id, "type": "error", "payload": r.errors() }))
                };
                let limit = self.endpoint.subscriptions.per_connection;
                if self.subscriptions.len() >= limit {
                    return error(&Refusal::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        ErrorCode::TooManySubscriptions,
                        &format!("{limit} subscriptions are open on this connection already"),
                    ));
                }
                let params = match params_from_json(payload.clone()) {
                    Ok(p) => p,
                    Err(e) => {
                        return error(&Refusal::new(
                            StatusCode::BAD_REQUEST,
                            ErrorCode::InvalidInput,
                            e,
                        ))
                    }
                };
                // The token is checked again: it may have expired, or its
                // key been withdrawn, since the connection began.
                let token = self.token.clone();
                let admitted = admit(
                    &self.endpoint,
                    Door::GraphqlWs,
                    token.as_deref(),
                    self.address,
                    params,
                )
                .await;
                let (caller, admitted) = match admitted {
                    Ok(a) => a,
                    Err(r) if r.code == ErrorCode::Unauthenticated => {
                        return Next::Close(4403, "Forbidden: the token no longer checks".into())
                    }
                    Err(r) => return error(&r),
                };
                let stream = subscribe(&self.endpoint, admitted, caller, self.closer.clone());
                let tag = id.to_owned();
                let tagged: Tagged = stream
                    .map({
                        let tag = tag.clone();
                        move |r| (tag.clone(), Some(r))
                    })
                    .chain(futures::stream::once({
                        let tag = tag.clone();
                        async move { (tag, None) }
                    }))
                    .boxed();
                let (handle, registration) = AbortHandle::new_pair();
                self.streams.push(Abortable::new(tagged, registration));
                self.subscriptions.insert(tag, handle);
                Next::Go
            }
            Some("complete") => {
                if let Some(h) = m
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.subscriptions.remove(id))
                {
                    h.abort();
                }
                Next::Go
            }
            _ => Next::Close(4400, "unknown message type".into()),
        }
    }

    fn on_result(&mut self, id: String, item: Option<Outcome>) -> Next {
        if !self.subscriptions.contains_key(&id) {
            return Next::Go;
        }
        // The payload is serialized once for every subscriber of the same
        // request: the message is written around it.
        let message = |kind: &str, payload: &str| {
            Next::Send(format!(
                r#"{{"id":{},"type":"{kind}","payload":{payload}}}"#,
                Value::from(id.as_str())
            ))
        };
        match item {
            // A request that cannot run is answered with `error`, and no
            // `complete` follows.
            Some(Outcome {
                errors: Some(errors),
                ..
            }) => {
                self.subscriptions.remove(&id);
                message("error", &errors)
            }
            Some(o) => message("next", &o.response),
            None => {
                self.subscriptions.remove(&id);
                Next::json(json!({ "id": id, "type": "complete" }))
            }
        }
    }
}

/// Whether a WebSocket's error is a message over the size bound.
fn too_long(e: &axum::Error) -> bool {
    // The WebSocket library's capacity error, which axum does not expose
    // as a type.
    let text = e.to_string();
    text.contains("Message too long") || text.contains("Space limit exceeded")
}
