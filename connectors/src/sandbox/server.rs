//! Running a simulator on a loopback port.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A simulator serving on a local address; it stops when dropped.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl SimServer {
    /// Binds `addr` (port 0 for any free port) first, then serves `router`
    /// in the background, so the address is known and accepting at return.
    pub async fn start(addr: SocketAddr, router: axum::Router) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        Ok(Self {
            addr,
            shutdown: Some(tx),
        })
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr)).expect("a socket address is a valid host")
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
