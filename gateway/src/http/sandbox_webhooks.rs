//! The sandbox's webhook receiver, `/_sandbox/webhooks`: it records what
//! it is sent (the Standard Webhooks headers, whether the signature checks
//! under the alert's secret, the body), so that a newcomer sees an alert
//! fire in the embedded defaults. `GET` lists what it got, oldest first;
//! `DELETE` forgets it. It keeps 10,000 deliveries and 16 MiB of them at
//! most, forgetting the oldest first, and answers 413 to a body over 1 MiB:
//! a sandbox left running never grows without bound.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The most deliveries kept; older ones are forgotten first.
const KEPT: usize = 10_000;

/// The most bytes of deliveries kept (bodies and headers); older ones are
/// forgotten first.
const KEPT_BYTES: usize = 16 << 20;

/// The largest body taken; a larger one is answered 413 and not kept.
const MAX_BODY: usize = 1 << 20;

/// A delivery as the receiver keeps it: as received, read as JSON when
/// listed.
#[derive(Debug)]
struct Received {
    webhook_id: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
    verified: Option<bool>,
    redirected: bool,
    body: String,
}

impl Received {
    /// What it holds, in bytes.
    fn size(&self) -> usize {
        let header = |h: &Option<String>| h.as_ref().map_or(0, String::len);
        self.body.len()
            + header(&self.webhook_id)
            + header(&self.timestamp)
            + header(&self.signature)
    }

    fn to_json(&self) -> Value {
        let payload: Value =
            serde_json::from_str(&self.body).unwrap_or_else(|_| Value::String(self.body.clone()));
        json!({
            "webhookId": self.webhook_id,
            "timestamp": self.timestamp,
            "signature": self.signature,
            "verified": self.verified,
            "redirected": self.redirected,
            "payload": payload,
            // The bytes as received, which the signature covers.
            "body": self.body,
        })
    }
}

/// The deliveries kept, oldest first, and their size.
#[derive(Debug, Default)]
struct Kept {
    entries: VecDeque<Received>,
    bytes: usize,
}

impl Kept {
    /// Keeps `r`, forgetting the oldest until the bounds hold.
    fn push(&mut self, r: Received) {
        self.bytes += r.size();
        self.entries.push_back(r);
        while self.entries.len() > KEPT || self.bytes > KEPT_BYTES {
            match self.entries.pop_front() {
                Some(old) => self.bytes -= old.size(),
                None => break,
            }
        }
    }
}

/// What the receiver got.
#[derive(Debug, Default)]
pub struct Inbox {
    received: Mutex<Kept>,
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
        .layer(DefaultBodyLimit::max(MAX_BODY))
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
    if body.len() > MAX_BODY {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
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
    let alert = serde_json::from_str::<Value>(&text).ok().and_then(|p| {
        p.pointer("/data/alertId")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let mut verified = None;
    if let (Some(store), Some(alert), Some(id), Some(ts), Some(sig)) =
        (&inbox.store, &alert, &id, &timestamp, &signature)
    {
        if let (Ok(Some(a)), Ok(ts)) = (store.alert(alert).await, ts.parse::<i64>()) {
            let expected = crate::domain::alerts::webhook::sign(&a.secret, id, ts, &text);
            verified = Some(sig.split(' ').any(|s| s == expected));
        }
    }
    inbox.received.lock().expect("inbox lock").push(Received {
        webhook_id: id,
        timestamp,
        signature,
        verified,
        redirected: answer.redirected.is_some(),
        body: text,
    });
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
        .entries
        .iter()
        .map(Received::to_json)
        .collect();
    Json(json!({ "count": received.len(), "received": received }))
}

async fn forget(State(inbox): State<Arc<Inbox>>) -> StatusCode {
    *inbox.received.lock().expect("inbox lock") = Kept::default();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn post(app: &Router, body: Vec<u8>) -> StatusCode {
        let request = Request::post("/_sandbox/webhooks")
            .header("webhook-id", "msg_1")
            .body(Body::from(body))
            .unwrap();
        app.clone().oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn the_inbox_keeps_sixteen_mebibytes_forgetting_the_oldest_and_refuses_larger_bodies() {
        let inbox = Arc::new(Inbox::default());
        let app = routes(inbox.clone());
        // Forty bodies of nearly 1 MiB each, numbered.
        for i in 0..40u8 {
            let mut body = vec![b'x'; MAX_BODY - 64];
            body[0] = b'0' + i / 10;
            body[1] = b'0' + i % 10;
            assert_eq!(post(&app, body).await, StatusCode::NO_CONTENT);
            let kept = inbox.received.lock().unwrap();
            assert!(kept.bytes <= KEPT_BYTES, "{} bytes after {i}", kept.bytes);
            assert_eq!(
                kept.bytes,
                kept.entries.iter().map(Received::size).sum::<usize>()
            );
        }
        {
            let kept = inbox.received.lock().unwrap();
            // The newest are kept, the oldest forgotten.
            assert_eq!(kept.entries.len(), KEPT_BYTES / (MAX_BODY - 64 + 5));
            assert!(kept.entries.back().unwrap().body.starts_with("39"));
            assert!(!kept.entries.iter().any(|r| r.body.starts_with("00")));
        }
        // A body over the cap is refused and not kept.
        let before = inbox.received.lock().unwrap().entries.len();
        assert_eq!(
            post(&app, vec![b'y'; MAX_BODY + 1]).await,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let kept = inbox.received.lock().unwrap();
        assert_eq!(kept.entries.len(), before);
        assert!(!kept.entries.iter().any(|r| r.body.starts_with('y')));
    }
}
