//! Leases: among replicas sharing a PostgreSQL store, one at a time holds
//! the lease on a piece of work (a feed's sync), the others wait or follow.
//!
//! A lease is a PostgreSQL session-level advisory lock, taken on one
//! connection this process keeps for leases alone. When the process dies,
//! or its connection breaks, the server ends the session and every lease it
//! held is free at once: there is no expiry to wait for and nothing to
//! clean up. On SQLite (one process, embedded) a lease is always granted;
//! the process's own locks are enough there.

use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::Mutex;

/// A lease could not be taken or given back: the lease connection failed.
/// The store reports it as one of its query errors.
#[derive(Debug, thiserror::Error)]
#[error("store query failed: {0}")]
pub struct LeaseError(#[from] pub sqlx::Error);

/// The leases of one process.
#[derive(Debug, Clone)]
pub struct Leases {
    inner: Option<Arc<Shared>>,
}

#[derive(Debug)]
struct Shared {
    pool: AnyPool,
    /// The connection that holds this process's leases; opened on first
    /// use, dropped (and every lease with it) after an error.
    conn: Mutex<Option<AnyConnection>>,
}

/// A lease held; give it back with [`Lease::release`]. One dropped
/// without release is given back in the background.
#[derive(Debug)]
#[must_use = "a lease is held until released"]
pub struct Lease {
    shared: Option<Arc<Shared>>,
    key: i64,
}

impl Leases {
    /// Leases among replicas over `pool`, a PostgreSQL pool.
    pub(crate) fn postgres(pool: AnyPool) -> Self {
        Self {
            inner: Some(Arc::new(Shared {
                pool,
                conn: Mutex::new(None),
            })),
        }
    }

    /// Leases of a single process: always granted.
    pub(crate) fn local() -> Self {
        Self { inner: None }
    }

    /// Whether leases are shared with other processes.
    pub fn shared(&self) -> bool {
        self.inner.is_some()
    }

    /// Takes the lease named `name` if no other process holds it.
    pub async fn try_acquire(&self, name: &str) -> Result<Option<Lease>, LeaseError> {
        let key = key(name);
        let Some(shared) = &self.inner else {
            return Ok(Some(Lease { shared: None, key }));
        };
        let got = shared.ask("SELECT pg_try_advisory_lock($1)", key).await?;
        Ok(got.then(|| Lease {
            shared: Some(shared.clone()),
            key,
        }))
    }

    /// Takes the lease named `name`, waiting while another process holds
    /// it (polling every `poll`).
    pub async fn acquire(
        &self,
        name: &str,
        poll: std::time::Duration,
    ) -> Result<Lease, LeaseError> {
        loop {
            if let Some(lease) = self.try_acquire(name).await? {
                return Ok(lease);
            }
            tokio::time::sleep(poll).await;
        }
    }
}

impl Shared {
    /// Asks `sql`, a yes-or-no question about `key`, on the lease
    /// connection, opening it when needed. After an error the connection
    /// is dropped, and with it every lease it held.
    ///
    /// A connection the server ended since its last question (a restart,
    /// a failover, an administrator) is found out by this one: the
    /// question is then asked again, once, on a new connection, rather
    /// than failing the work that asked (a sync would wait its whole
    /// interval).
    async fn ask(&self, sql: &'static str, key: i64) -> Result<bool, LeaseError> {
        let mut slot = self.conn.lock().await;
        loop {
            let fresh = slot.is_none();
            if fresh {
                *slot = Some(self.pool.acquire().await?.detach());
            }
            let conn = slot.as_mut().expect("opened above");
            let answer = sqlx::query(sql)
                .bind(key)
                .fetch_one(conn)
                .await
                .and_then(|row| row.try_get::<bool, _>(0));
            match answer {
                Ok(answer) => return Ok(answer),
                Err(e) => {
                    *slot = None;
                    if fresh || !crate::store::watch::is_unreachable(&e) {
                        return Err(e.into());
                    }
                    tracing::warn!(error = %e, "the lease connection was lost, and the leases it held; reconnecting");
                }
            }
        }
    }

    async fn release(&self, key: i64) -> Result<(), LeaseError> {
        let held = self.ask("SELECT pg_advisory_unlock($1)", key).await?;
        if !held {
            tracing::warn!(key, "a lease was released that was no longer held");
        }
        Ok(())
    }

    /// Drops the lease connection, as the death of the process would.
    #[cfg(test)]
    async fn sever(&self) {
        self.conn.lock().await.take();
    }
}

impl Lease {
    /// Gives the lease back.
    pub async fn release(mut self) -> Result<(), LeaseError> {
        match self.shared.take() {
            Some(shared) => shared.release(self.key).await,
            None => Ok(()),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Dropped without release: a cancelled sync. Give it back from a
        // task, since dropping cannot wait.
        if let Some(shared) = self.shared.take() {
            let key = self.key;
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = shared.release(key).await {
                        tracing::warn!(error = %e, "a lease could not be released");
                    }
                });
            }
        }
    }
}

/// This replica's name in the sync history: its host (the pod, on
/// Kubernetes) and process.
pub fn replica() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}", std::process::id())
    })
}

/// The advisory lock key of a lease name: its 64-bit FNV-1a hash, the same
/// in every process and every version of the program.
fn key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::{testing, Store};

    #[test]
    fn keys_are_stable_and_distinct() {
        // FNV-1a's published test vector: replicas of any version agree.
        assert_eq!(key("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_ne!(key("sync:cma:offer"), key("sync:carif:formation"));
    }

    #[tokio::test]
    async fn one_process_holds_a_lease_and_its_death_frees_it() {
        let Some(server) = testing::postgres_url() else {
            return;
        };
        let url = testing::scratch_postgres(&server).await;
        let a = Store::open(&url).await.unwrap();
        let b = Store::open(&url).await.unwrap();

        let held = a.leases().try_acquire("sync:cma:offer").await.unwrap();
        assert!(held.is_some());
        assert!(b
            .leases()
            .try_acquire("sync:cma:offer")
            .await
            .unwrap()
            .is_none());
        // Another lease is free.
        let other = b
            .leases()
            .try_acquire("sync:carif:formation")
            .await
            .unwrap();
        assert!(other.is_some());
        other.unwrap().release().await.unwrap();

        // Released, it can be taken by the other process.
        held.unwrap().release().await.unwrap();
        let taken = b.leases().try_acquire("sync:cma:offer").await.unwrap();
        assert!(taken.is_some());

        // The holder dies (its connection closes): the lease is free.
        std::mem::forget(taken);
        b.leases().inner.as_ref().unwrap().sever().await;
        let waited = tokio::time::timeout(
            Duration::from_secs(10),
            a.leases()
                .acquire("sync:cma:offer", Duration::from_millis(20)),
        )
        .await
        .expect("a dead holder's lease is free");
        waited.unwrap().release().await.unwrap();
    }

    /// The server ends every connection (a restart): the next lease is
    /// taken on a new connection, at the first try.
    #[tokio::test]
    async fn a_lease_is_taken_at_once_after_the_server_ended_its_connection() {
        let Some(server) = testing::postgres_url() else {
            return;
        };
        let url = testing::scratch_postgres(&server).await;
        let a = Store::open(&url).await.unwrap();
        a.leases()
            .try_acquire("sync:cma:offer")
            .await
            .unwrap()
            .unwrap()
            .release()
            .await
            .unwrap();
        testing::end_connections(&url).await;
        let lease = a.leases().try_acquire("sync:cma:offer").await.unwrap();
        lease.expect("the lease is free").release().await.unwrap();
    }

    #[tokio::test]
    async fn a_lease_dropped_without_release_is_given_back() {
        let Some(server) = testing::postgres_url() else {
            return;
        };
        let url = testing::scratch_postgres(&server).await;
        let a = Store::open(&url).await.unwrap();
        let b = Store::open(&url).await.unwrap();
        drop(a.leases().try_acquire("sync:spro:event").await.unwrap());
        tokio::time::timeout(
            Duration::from_secs(10),
            b.leases()
                .acquire("sync:spro:event", Duration::from_millis(20)),
        )
        .await
        .expect("the dropped lease is given back")
        .unwrap()
        .release()
        .await
        .unwrap();
    }
}
