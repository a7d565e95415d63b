//! A connection that fails once no byte has moved either way for a while:
//! the idle timeout, for keep-alive connections between requests, stalled
//! responses, and WebSockets or event streams whose client is gone; or
//! once a write has waited too long for a client that reads nothing (an
//! event stream's subscriber that stopped reading keeps its connection no
//! longer than a graphql-ws one does).

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `inner`, failing with [`io::ErrorKind::TimedOut`] once a read or a
/// write has waited `timeout` since the last byte moved.
///
/// Whoever waits on the connection (the HTTP server between requests and
/// while it streams an answer, a WebSocket after an upgrade) is woken when
/// the time is up; keep-alives written count as traffic.
#[derive(Debug)]
pub struct Idle<T> {
    inner: T,
    timeout: Duration,
    /// How long a write may wait.
    write_timeout: Duration,
    /// When the last byte moved.
    last: Instant,
    /// Since when a write has been waiting for the peer to read, if one is.
    write_waiting: Option<Instant>,
    /// Fires at `last + timeout`, moved there lazily.
    expiry: Pin<Box<Sleep>>,
}

impl<T> Idle<T> {
    /// Watches `inner`, which has just been opened: idle for `timeout`, or
    /// a write waiting for `write_timeout`, it fails.
    pub fn new(inner: T, timeout: Duration, write_timeout: Duration) -> Self {
        let last = Instant::now();
        Self {
            inner,
            timeout,
            write_timeout,
            last,
            write_waiting: None,
            expiry: Box::pin(tokio::time::sleep_until(last + timeout)),
        }
    }

    /// A byte moved.
    fn moved(&mut self) {
        self.last = Instant::now();
    }

    /// The inner connection is waiting: an error once it has waited too
    /// long, and a wake-up set for when it will have.
    fn waiting(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let idle = self.last + self.timeout;
        let due = match self.write_waiting {
            Some(since) => idle.min(since + self.write_timeout),
            None => idle,
        };
        if self.expiry.deadline() != due {
            self.expiry.as_mut().reset(due);
        }
        match self.expiry.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no byte moved on the connection for its idle or write timeout",
            )),
            Poll::Pending => Ok(()),
        }
    }

    /// Notes whether a write waits for the peer.
    fn written(&mut self, poll: &Poll<io::Result<usize>>) {
        match poll {
            Poll::Pending => {
                self.write_waiting.get_or_insert_with(Instant::now);
            }
            Poll::Ready(_) => self.write_waiting = None,
        }
    }

    /// What `poll` gave, the timeout applied when it is still waiting.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<R>>,
        moved: impl FnOnce(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        match poll {
            Poll::Ready(Ok(r)) => {
                if moved(&r) {
                    self.moved();
                }
                Poll::Ready(Ok(r))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.waiting(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Idle<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        let after = buf.filled().len();
        this.watch(cx, poll, |_| after > before)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Idle<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.written(&poll);
        this.watch(cx, poll, |&n| n > 0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.written(&poll);
        this.watch(cx, poll, |&n| n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, poll, |_| false)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const IDLE: Duration = Duration::from_secs(75);

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_fails_after_the_timeout() {
        let (near, _far) = tokio::io::duplex(64);
        let mut conn = Idle::new(near, IDLE, IDLE);
        let started = Instant::now();
        let e = conn.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn traffic_either_way_keeps_it_open() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut conn = Idle::new(near, IDLE, IDLE);
        let started = Instant::now();
        let reader = tokio::spawn(async move {
            let mut buf = [0; 8];
            let mut got = 0;
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) => return (got, None, conn),
                    Ok(n) => got += n,
                    Err(e) => return (got, Some(e.kind()), conn),
                }
            }
        });
        // The other end speaks every 60 s, five times: never idle for 75 s.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(60)).await;
            far.write_all(b"ping").await.unwrap();
        }
        let (got, error, _conn) = reader.await.unwrap();
        // Only the silence after the last ping ended it.
        assert_eq!(got, 20);
        assert_eq!(error, Some(io::ErrorKind::TimedOut));
        assert!(started.elapsed() >= Duration::from_secs(300) + IDLE);
        // And no later.
        assert!(started.elapsed() < Duration::from_secs(301) + IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_count_as_traffic() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut conn = Idle::new(near, IDLE, IDLE);
        let started = Instant::now();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(60)).await;
            conn.write_all(b"keep-alive").await.unwrap();
        }
        let e = conn.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(180) + IDLE);
        let mut sent = [0; 30];
        far.read_exact(&mut sent).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_never_reads_fails_too() {
        let (near, _far) = tokio::io::duplex(8);
        let mut conn = Idle::new(near, IDLE, IDLE);
        let e = conn.write_all(&[0; 64]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_waits_for_its_own_timeout_not_the_idle_one() {
        const WRITE: Duration = Duration::from_secs(10);
        let (near, _far) = tokio::io::duplex(8);
        let mut conn = Idle::new(near, IDLE, WRITE);
        let started = Instant::now();
        let e = conn.write_all(&[0; 64]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let waited = started.elapsed();
        assert!(waited >= WRITE && waited < IDLE, "{waited:?}");
        // A peer that reads, however slowly, keeps a write going.
        let (near, mut slow) = tokio::io::duplex(8);
        let mut conn = Idle::new(near, IDLE, WRITE);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0; 8];
            while got.len() < 64 {
                tokio::time::sleep(Duration::from_secs(8)).await;
                let n = slow.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            got.len()
        });
        conn.write_all(&[0; 64]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 64);
    }
}
