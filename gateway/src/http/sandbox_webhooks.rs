//! The sandbox's webhook receiver, `/_sandbox/webhooks`: it records what
//! it is sent (the Standard Webhooks headers, whether the signature checks
//! under the alert's secret, the body), so that a newcomer sees an alert
//! fire in the embedded defaults. `GET` lists what it got, oldest first;
//! `DELETE` forgets it.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The most deliveries kept; older ones are forgotten first.
const KEPT: usize = 10_000;

/// What the receiver got.
#[derive(Debug, Default)]
pub struct Inbox {
    received: Mutex<std::collections::VecDeque<Value>>,
    /// Alerts' secrets, by alert identifier, to check signatures with.
    store: Option<crate::store::Store>,
}

impl Inbox {
    /// A receiver that checks signatures against the alerts of `store`.
    pub fn new(store: crate::store::Store) -> Self {
        Self {
            received: Mutex::default(),
            store: Some(store),
        }
    }
}

/// The receiver's routes.
pub fn routes(inbox: Arc<Inbox>) -> Router {
    Router::new()
        .route("/_sandbox/webhooks", get(list).post(receive).delete(forget))
        .with_state(inbox)
}

#[derive(serde::Deserialize)]
struct Answer {
    /// The status to answer with (to try retries, redirects and 410); a
    /// redirect points back here, with `redirected=1`.
    status: Option<u16>,
    /// Set on a redirect's target.
    redirected: Option<u8>,
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Query(answer): Query<Answer>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let text = String::from_utf8_lossy(&body).into_owned();
    let payload: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    let alert = payload
        .pointer("/data/alertId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut verified = None;
    if let (Some(store), Some(alert), Some(id), Some(ts), Some(sig)) =
        (&inbox.store, &alert, &id, &timestamp, &signature)
    {
        if let (Ok(Some(a)), Ok(ts)) = (store.alert(alert).await, ts.parse::<i64>()) {
            let expected = crate::domain::alerts::webhook::sign(&a.secret, id, ts, &text);
            verified = Some(sig.split(' ').any(|s| s == expected));
        }
    }
    let mut received = inbox.received.lock().expect("inbox lock");
    if received.len() >= KEPT {
        received.pop_front();
    }
    received.push_back(json!({
        "webhookId": id,
        "timestamp": timestamp,
        "signature": signature,
        "verified": verified,
        "redirected": answer.redirected.is_some(),
        "payload": payload,
    }));
    drop(received);
    let status = answer
        .status
        .filter(|_| answer.redirected.is_none())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::NO_CONTENT);
    if status.is_redirection() {
        return (
            status,
            [(
                axum::http::header::LOCATION,
                "/_sandbox/webhooks?redirected=1",
            )],
        )
            .into_response();
    }
    status.into_response()
}

async fn list(State(inbox): State<Arc<Inbox>>) -> Json<Value> {
    let received: Vec<Value> = inbox
        .received
        .lock()
        .expect("inbox lock")
        .iter()
        .cloned()
        .collect();
    Json(json!({ "count": received.len(), "received": received }))
}

async fn forget(State(inbox): State<Arc<Inbox>>) -> StatusCode {
    inbox.received.lock().expect("inbox lock").clear();
    StatusCode::NO_CONTENT
}
