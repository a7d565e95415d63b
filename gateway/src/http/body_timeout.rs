//! The body-read timeout: a request whose body stalls longer than
//! `server.body_read_timeout` between two chunks is answered
//! `408 Request Timeout`, and its connection closed. Every request's body
//! is watched on its way in ([`super::entry`]).

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::time::Sleep;

/// `body`, failing once it has kept its reader waiting `timeout` for a
/// chunk, and the flag that tells afterwards whether it did; a body that
/// has already ended (a `GET`'s) as it is.
pub fn watch<B>(body: B, timeout: Duration) -> (Body, Option<Arc<AtomicBool>>)
where
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    if body.is_end_stream() {
        return (Body::new(body), None);
    }
    let stalled = Arc::new(AtomicBool::new(false));
    let body = Body::new(Stalling {
        inner: body,
        timeout,
        expiry: None,
        stalled: stalled.clone(),
    });
    (body, Some(stalled))
}

/// The answer to a request whose body stalled for `timeout`: 408, and the
/// connection closed.
pub fn timed_out(timeout: Duration) -> Response {
    let message = format!(
        "the request's body stalled for {}: send it whole",
        humantime::format_duration(timeout)
    );
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": "REQUEST_TIMEOUT" } }]
    });
    (
        StatusCode::REQUEST_TIMEOUT,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CONNECTION, HeaderValue::from_static("close")),
        ],
        body.to_string(),
    )
        .into_response()
}

/// A request body that fails once it has kept its reader waiting
/// `timeout` for a chunk.
struct Stalling<B> {
    inner: B,
    timeout: Duration,
    /// Set while the reader waits for a chunk.
    expiry: Option<Pin<Box<Sleep>>>,
    /// Whether the body timed out.
    stalled: Arc<AtomicBool>,
}

/// The error of a stalled body.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled")]
struct Stalled;

impl<B> HttpBody for Stalling<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.expiry = None;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let expiry = this
            .expiry
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match expiry.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.stalled.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Stalled.into())))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
