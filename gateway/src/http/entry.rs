//! What every request passes on its way in, whichever route it goes to:
//! its client's address worked out once (the connection's peer, or what
//! the trusted proxies recorded), and its body's reads timed out.
//!
//! One service around the whole router, made for each connection, rather
//! than a middleware on each route: axum clones a route's middleware and
//! boxes its future and the rest of the route for every request, and those
//! two middlewares were about a sixth of the CPU of a cached answer.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};
use axum::http::Request;
use axum::response::Response;
use axum::routing::future::RouteFuture;
use axum::Router;
use tower::Service;

use super::body_timeout;
use super::client::{client_address, ClientAddress, TrustedProxies};

/// The routes and what every request passes before them.
#[derive(Clone)]
pub struct Entry {
    router: Router,
    trusted: TrustedProxies,
    body_read_timeout: Duration,
}

impl Entry {
    /// `router`, behind the client's address as `trusted` tells it, and a
    /// body that may stall `body_read_timeout` between two chunks.
    pub fn new(router: Router, trusted: TrustedProxies, body_read_timeout: Duration) -> Self {
        Self {
            router,
            trusted,
            body_read_timeout,
        }
    }

    /// The service for one connection, from `peer`.
    pub fn from_peer(&self, peer: SocketAddr) -> FromPeer {
        FromPeer {
            entry: self.clone(),
            peer: peer.ip(),
        }
    }
}

/// [`Entry`] for the requests of one connection.
#[derive(Clone)]
pub struct FromPeer {
    entry: Entry,
    peer: IpAddr,
}

impl<B> Service<Request<B>> for FromPeer
where
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Entered;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Entered {
        let entry = &mut self.entry;
        let client = client_address(self.peer, request.headers(), &entry.trusted);
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(ClientAddress(client));
        let (body, stalled) = body_timeout::watch(body, entry.body_read_timeout);
        Entered {
            route: entry.router.call(Request::from_parts(parts, body)),
            stalled,
            timeout: entry.body_read_timeout,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer: its route's, or `408 Request Timeout` when its
    /// body stalled, whatever the route made of the error.
    pub struct Entered {
        #[pin]
        route: RouteFuture<Infallible>,
        stalled: Option<Arc<AtomicBool>>,
        timeout: Duration,
    }
}

impl Future for Entered {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.route.poll(cx))?;
        Poll::Ready(Ok(
            match this
                .stalled
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Acquire))
            {
                true => body_timeout::timed_out(*this.timeout),
                false => response,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientAddressHeader;
    use axum::body::Body;
    use axum::http::{header, StatusCode};
    use axum::routing::{get, post};
    use futures::StreamExt as _;
    use tower::ServiceExt as _;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn entry() -> Entry {
        let router = Router::new()
            .route(
                "/",
                post(|body: Bytes| async move { format!("{} bytes", body.len()) }),
            )
            .route(
                "/client",
                get(|ClientAddress(ip): ClientAddress| async move { ip.to_string() }),
            );
        let trusted = TrustedProxies::new(
            vec!["10.0.0.0/8".parse().unwrap()],
            ClientAddressHeader::XForwardedFor,
        );
        Entry::new(router, trusted, TIMEOUT)
    }

    async fn text(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
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

    fn from(peer: &str) -> FromPeer {
        entry().from_peer(SocketAddr::new(peer.parse().unwrap(), 4711))
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_answered_408() {
        let request = Request::post("/")
            .body(body(3, Duration::from_secs(1), true))
            .unwrap();
        let response = from("203.0.113.9").oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()[header::CONNECTION], "close");
        let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "REQUEST_TIMEOUT");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_body_that_keeps_coming_is_read_whole() {
        // Twenty seconds between chunks, ten chunks: longer than the
        // timeout in all, never between two chunks.
        let request = Request::post("/")
            .body(body(10, Duration::from_secs(20), false))
            .unwrap();
        let response = from("203.0.113.9").oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(response).await, "100 bytes");
    }

    #[tokio::test]
    async fn handlers_get_the_client_address_worked_out_on_the_way_in() {
        let ask = |peer: &'static str, xff: &'static str| async move {
            let request = Request::get("/client")
                .header("x-forwarded-for", xff)
                .body(Body::empty())
                .unwrap();
            text(from(peer).oneshot(request).await.unwrap()).await
        };
        // From a trusted proxy: the address it recorded.
        assert_eq!(
            ask("10.42.0.7", "6.6.6.6, 198.51.100.1").await,
            "198.51.100.1"
        );
        // From anyone else: the peer, whatever the header says.
        assert_eq!(ask("203.0.113.9", "198.51.100.1").await, "203.0.113.9");
        assert_eq!(ask("::ffff:203.0.113.9", "").await, "203.0.113.9");
    }
}
