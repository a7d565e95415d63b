//! The body-read timeout: a request whose body stalls longer than
//! `server.body_read_timeout` between two chunks is answered
//! `408 Request Timeout`, and its connection closed.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Sleep;

/// Middleware that times each request's body out after `timeout` without
/// a chunk, and answers 408 when it did, whatever the handler made of the
/// error.
pub async fn limit(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let stalled = Arc::new(AtomicBool::new(false));
    let request = request.map(|inner| {
        Body::new(Stalling {
            inner,
            timeout,
            expiry: None,
            stalled: stalled.clone(),
        })
    });
    let response = next.run(request).await;
    if !stalled.load(Ordering::Acquire) {
        return response;
    }
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
struct Stalling {
    inner: Body,
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

impl HttpBody for Stalling {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;
    use tower::ServiceExt as _;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn app() -> axum::Router {
        axum::Router::new()
            .route(
                "/",
                post(|body: Bytes| async move { format!("{} bytes", body.len()) }),
            )
            .layer(axum::middleware::from_fn_with_state(TIMEOUT, limit))
    }

    /// A body of `chunks`, each sent after `gap`, then left open when
    /// `stall` is set.
    fn body(chunks: usize, gap: Duration, stall: bool) -> Body {
        let chunks = futures::stream::iter(0..chunks).then(move |_| async move {
            tokio::time::sleep(gap).await;
            Ok::<_, std::io::Error>(Bytes::from_static(b"0123456789"))
        });
        let end = futures::stream::once(async move {
            if stall {
                std::future::pending::<()>().await;
            }
            Ok(Bytes::new())
        });
        Body::from_stream(chunks.chain(end))
    }

    use futures::StreamExt as _;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_answered_408() {
        let request = axum::http::Request::post("/")
            .body(body(3, Duration::from_secs(1), true))
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()[header::CONNECTION], "close");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "REQUEST_TIMEOUT");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_body_that_keeps_coming_is_read_whole() {
        // Twenty seconds between chunks, ten chunks: longer than the
        // timeout in all, never between two chunks.
        let request = axum::http::Request::post("/")
            .body(body(10, Duration::from_secs(20), false))
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert_eq!(&body[..], b"100 bytes");
    }
}
