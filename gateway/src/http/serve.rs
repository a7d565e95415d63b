//! Serving the routes over TCP: HTTP/1 with upgrades (graphql-ws), each
//! connection in a task of its own, with the header-read and idle
//! timeouts, and a graceful stop.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Layer as _;
use tower_http::trace::TraceLayer;

use super::entry::{Entry, FromPeer};
use super::idle::Idle;

/// How long a connection may keep the gateway waiting.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For a request's line and headers, from when the server waits for
    /// them.
    pub header_read: Duration,
    /// For any byte to move either way.
    pub idle: Duration,
    /// For a waiting write to move a byte.
    pub write: Duration,
}

impl From<&crate::config::ServerConfig> for Timeouts {
    fn from(server: &crate::config::ServerConfig) -> Self {
        Self {
            header_read: server.header_read_timeout,
            idle: server.idle_timeout,
            write: server.write_timeout,
        }
    }
}

/// Serves `entry` on `listener` until `stop` completes; then accepts no
/// more connections, lets the requests under way finish, closes idle
/// connections, and returns once every connection is done. Upgraded
/// connections (WebSockets) are no longer the server's by then: their
/// handlers stop them.
pub async fn serve(
    listener: TcpListener,
    entry: Entry,
    timeouts: Timeouts,
    stop: impl Future<Output = ()>,
) {
    let connections = TaskTracker::new();
    let stopping = CancellationToken::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        connections.spawn(connection(
            stream,
            peer,
            entry.from_peer(peer),
            timeouts,
            stopping.clone(),
        ));
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
}

/// Serves one connection until it ends, times out, or is told to stop.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: FromPeer,
    timeouts: Timeouts,
    stopping: CancellationToken,
) {
    let io = TokioIo::new(Idle::new(stream, timeouts.idle, timeouts.write));
    let service = TraceLayer::new_for_http().layer(service);
    // HTTP/1 alone, as the gateway has always spoken: its header timer
    // runs from the first moment. (hyper-util's `auto` builder, for h2c,
    // reads the first bytes before HTTP/1 takes over, without that timer.)
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .serve_connection(io, TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(served);
    let result = tokio::select! {
        result = served.as_mut() => result,
        () = stopping.cancelled() => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// Waits after a failed accept: a second when the process is out of file
/// descriptors or memory, so that the loop does not spin; not at all when
/// only that one connection failed.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
