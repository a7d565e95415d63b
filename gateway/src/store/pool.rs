//! The store's pool: opened on SQLite or PostgreSQL and migrated, its
//! connections checked as they come back, its health watched.

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

use crate::store::lease::Leases;
pub use crate::store::watch::StoreHealth;
use crate::store::watch::Watch;
use crate::store::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How the pool is sized and bounded: the defaults in production, smaller
/// in tests that force a fault.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuning {
    pub(super) connections: u32,
    /// SQLite's `max_page_count`: a full disk, for tests.
    pub(super) sqlite_max_pages: Option<u32>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            connections: 8,
            sqlite_max_pages: None,
        }
    }
}

/// Whether a connection given back to the pool may serve again: not when
/// it is still inside a transaction. SQLite rolls a transaction back by
/// itself on some errors (`SQLITE_FULL`, `SQLITE_IOERR`), and the driver's
/// own `ROLLBACK` then fails and leaves it counting a transaction that no
/// longer exists; its next `BEGIN` would be a `SAVEPOINT`, whose rollback
/// keeps the write lock for ever. A connection in that state, or any other
/// where a transaction outlived its handle, is closed, which ends whatever
/// it held.
async fn leaves_no_transaction(conn: &mut sqlx::AnyConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if conn.backend_name() == "SQLite" {
        // The dropped transaction's rollback is queued on the connection's
        // worker: let it run before reading the depth it leaves.
        conn.ping().await?;
    }
    if conn.is_in_transaction() {
        tracing::warn!(
            backend = conn.backend_name(),
            "a store connection was given back inside a transaction; closed"
        );
        return Ok(false);
    }
    Ok(true)
}

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: AnyPool,
    /// The URL it was opened at, for connections of its own (listeners).
    pub(super) url: std::sync::Arc<str>,
    pub(super) numbered: bool,
    pub(super) leases: Leases,
    pub(super) epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub(super) watch: std::sync::Arc<Watch>,
}

impl Store {
    /// Opens the store at `url` and brings its schema up to date. For a
    /// SQLite file, its directory is created first.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, Tuning::default()).await
    }

    pub(super) async fn open_with(url: &str, tuning: Tuning) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        if let Some(path) = url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = Path::new(file)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(tuning.connections)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 60000")
                            .execute(&mut *conn)
                            .await?;
                        if let Some(pages) = tuning.sqlite_max_pages {
                            sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .after_release(|conn, _| Box::pin(leaves_no_transaction(conn)))
            .connect(url)
            .await
            .map_err(StoreError::Unavailable)?;
        MIGRATOR.run(&pool).await?;
        // PostgreSQL numbers its parameters; SQLite binds `?` in order, and
        // numbered ones cost it a lookup per parameter per statement.
        let numbered = !url.starts_with("sqlite:");
        let leases = if numbered {
            Leases::postgres(pool.clone())
        } else {
            Leases::local()
        };
        Ok(Self {
            pool,
            url: url.into(),
            numbered,
            leases,
            epoch: Default::default(),
            watch: Default::default(),
        })
    }

    /// A number that changes whenever the data this process serves may
    /// have changed (a feed loaded, a batch committed, a partner's
    /// behaviour changed in the sandbox): answers kept from an earlier
    /// epoch are not served again.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Notes that the data served may have changed.
    pub fn data_changed(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The leases replicas sharing this store take turns with.
    pub fn leases(&self) -> &Leases {
        &self.leases
    }

    /// The connection pool, for the modules that keep their own tables;
    /// an error at once while the store is known not to answer.
    pub(crate) fn pool(&self) -> Result<&AnyPool, StoreError> {
        if self.watch.down() {
            metrics::counter!("passerelle_store_refused_total").increment(1);
            return Err(StoreError::Down(
                self.watch.health().problem.unwrap_or("unreachable"),
            ));
        }
        Ok(&self.pool)
    }

    /// What the last probe found of the store's health.
    pub fn health(&self) -> StoreHealth {
        self.watch.health()
    }

    /// Probes the store's health for ever (see [`watch`]); the gateway
    /// runs it as one of its tasks.
    pub fn watch(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.watch.clone().run(self.pool.clone())
    }

    /// Probes the store's health once, now.
    pub async fn probe(&self) -> StoreHealth {
        self.watch.probe(&self.pool).await;
        self.watch.health()
    }

    /// Notes an error a request met: when it may mean the store fails,
    /// the store is probed at once, so that the requests that follow fail
    /// fast if it does.
    pub fn suspect(&self, e: &StoreError) {
        if e.is_unavailable() {
            self.watch.suspect();
        }
    }

    /// `(…), (…)` placeholders for `rows` rows of `columns` values each,
    /// for a multi-row `INSERT … VALUES`: `$1, $2…` for PostgreSQL, `?`
    /// for SQLite.
    pub(crate) fn placeholders(&self, rows: usize, columns: usize) -> String {
        let mut s = String::with_capacity(rows * columns * 5);
        for r in 0..rows {
            if r > 0 {
                s.push(',');
            }
            s.push('(');
            for c in 0..columns {
                if c > 0 {
                    s.push(',');
                }
                if self.numbered {
                    s.push('$');
                    s.push_str(&(r * columns + c + 1).to_string());
                } else {
                    s.push('?');
                }
            }
            s.push(')');
        }
        s
    }
}
