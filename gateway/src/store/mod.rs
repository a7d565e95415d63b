//! The store: synced feeds and their sync history, in SQLite (embedded, the
//! default) or PostgreSQL (production), with one set of migrations.

pub mod alerts;
pub mod lease;
pub mod testing;
pub mod watch;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::store::lease::{LeaseError, Leases};
pub use crate::store::watch::StoreHealth;
use crate::store::watch::Watch;

/// A failure of the store. The message is for operators' logs; clients see
/// a code only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be opened or reached.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The store is known not to answer: the request was not tried.
    #[error("store unavailable: it does not answer ({0})")]
    Down(&'static str),
    /// The schema could not be brought up to date.
    #[error("store migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// The data directory could not be created.
    #[error("cannot create {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the store itself fails (unreachable, full, read-only,
    /// broken), so that the request may succeed later unchanged, rather
    /// than a statement or the data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Down(_) | StoreError::DataDir { .. } => true,
            StoreError::Query(e) => watch::is_unavailable(e),
            StoreError::Migration(_) => false,
        }
    }
}

impl From<LeaseError> for StoreError {
    fn from(e: LeaseError) -> Self {
        StoreError::Query(e.0)
    }
}

/// The outcome of one sync of a feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncRun {
    /// Unique, increasing: the start time in microseconds.
    pub id: i64,
    /// The partner.
    pub partner: String,
    /// The entity.
    pub entity: String,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// How long it took.
    pub duration_ms: i64,
    /// `updated`, `not_modified` or `failed`.
    pub outcome: String,
    /// Records stored.
    pub records: i64,
    /// Records rejected.
    pub rejected: i64,
    /// The rejections (the first hundred), as JSON.
    pub rejects: String,
    /// What was done to records kept that is not a rejection (an
    /// identifier derived, a calendar served as last read), as a JSON
    /// array of sentences.
    pub notes: String,
    /// Why the sync failed.
    pub error: Option<String>,
    /// The error code of a failed sync, as clients see it.
    pub error_code: Option<String>,
    /// The feed's `ETag`.
    pub etag: Option<String>,
    /// The replica that ran it (host and process).
    pub replica: Option<String>,
}

/// A record of a feed to store: its identifier at the partner and its
/// unified form as JSON.
#[derive(Debug, Clone)]
pub struct FeedRecord {
    /// The identifier at the partner.
    pub partner_id: String,
    /// The unified entity, as JSON.
    pub payload: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rows written by one statement when a feed is stored.
const CHUNK: usize = 200;

/// How the pool is sized and bounded: the defaults in production, smaller
/// in tests that force a fault.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    connections: u32,
    /// SQLite's `max_page_count`: a full disk, for tests.
    sqlite_max_pages: Option<u32>,
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
    pool: AnyPool,
    /// The URL it was opened at, for connections of its own (listeners).
    url: std::sync::Arc<str>,
    numbered: bool,
    leases: Leases,
    epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
    watch: std::sync::Arc<Watch>,
}

impl Store {
    /// Opens the store at `url` and brings its schema up to date. For a
    /// SQLite file, its directory is created first.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, Tuning::default()).await
    }

    async fn open_with(url: &str, tuning: Tuning) -> Result<Self, StoreError> {
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

    /// Stores a sync's records and its outcome in one transaction.
    ///
    /// Every record given is inserted or updated; records the partner
    /// rejected this time (`kept`) keep their last good version; when the
    /// feed was read whole (`complete`), records it no longer lists are
    /// removed. A truncated feed never removes anything.
    ///
    /// The records are written as `records` yields them, a chunk at a time,
    /// so that a large feed is never held whole as JSON.
    pub async fn save_sync(
        &self,
        run: &SyncRun,
        records: impl IntoIterator<Item = FeedRecord>,
        kept: &[String],
        complete: bool,
    ) -> Result<(), StoreError> {
        let mut sync = self.begin_sync(run).await?;
        sync.write(records).await?;
        sync.commit(run, kept, complete).await
    }

    /// Begins storing sync `run`'s records as they come, in one
    /// transaction: nothing of them is seen, or kept, until
    /// [`SyncWrite::commit`]. Dropped before, it stores nothing.
    pub async fn begin_sync(&self, run: &SyncRun) -> Result<SyncWrite<'_>, StoreError> {
        Ok(SyncWrite {
            store: self,
            tx: self.pool()?.begin().await?,
            partner: run.partner.clone(),
            entity: run.entity.clone(),
            id: run.id,
        })
    }

    /// Records a sync that stored nothing (not modified, or failed).
    pub async fn record_run(&self, run: &SyncRun) -> Result<(), StoreError> {
        let mut conn = self.pool()?.acquire().await?;
        insert_run(&mut *conn, run).await
    }

    /// The stored records of a feed, as JSON.
    pub async fn feed(&self, partner: &str, entity: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        self.each_in_feed(partner, entity, |p| out.push(p.to_owned()))
            .await?;
        Ok(out)
    }

    /// Hands each stored record of a feed, as JSON, to `f`, in identifier
    /// order, as the rows come: a large feed is never held whole as JSON.
    pub async fn each_in_feed(
        &self,
        partner: &str,
        entity: &str,
        mut f: impl FnMut(&str),
    ) -> Result<(), StoreError> {
        use futures::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT payload FROM feed_records WHERE partner = $1 AND entity = $2 ORDER BY partner_id",
        )
        .bind(partner)
        .bind(entity)
        .fetch(self.pool()?);
        while let Some(row) = rows.try_next().await? {
            f(row.try_get::<&str, _>(0)?);
        }
        Ok(())
    }

    /// The latest syncs of a feed, newest first.
    pub async fn runs(
        &self,
        partner: &str,
        entity: &str,
        limit: i64,
    ) -> Result<Vec<SyncRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, partner, entity, started_at, duration_ms, outcome, records, rejected, rejects, notes, error, error_code, etag, replica \
             FROM sync_runs WHERE partner = $1 AND entity = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(partner)
        .bind(entity)
        .bind(limit)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// The last sync that stored the feed: its id and the feed's `ETag`.
    pub async fn last_update(
        &self,
        partner: &str,
        entity: &str,
    ) -> Result<Option<(i64, Option<String>)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, etag FROM sync_runs WHERE partner = $1 AND entity = $2 AND outcome = 'updated' \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(partner)
        .bind(entity)
        .fetch_optional(self.pool()?)
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}

/// A sync's records being stored, in one transaction (see
/// [`Store::begin_sync`]).
pub struct SyncWrite<'s> {
    store: &'s Store,
    tx: sqlx::Transaction<'static, sqlx::Any>,
    partner: String,
    entity: String,
    id: i64,
}

impl SyncWrite<'_> {
    /// Inserts or updates `records`, a chunk at a time.
    pub async fn write(
        &mut self,
        records: impl IntoIterator<Item = FeedRecord>,
    ) -> Result<(), StoreError> {
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let chunk: Vec<FeedRecord> = records.by_ref().take(CHUNK).collect();
            let mut sql = format!(
                "INSERT INTO feed_records (partner, entity, partner_id, payload, sync_id) VALUES {}",
                self.store.placeholders(chunk.len(), 5)
            );
            sql.push_str(
                " ON CONFLICT (partner, entity, partner_id) DO UPDATE \
                 SET payload = excluded.payload, sync_id = excluded.sync_id",
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&self.partner)
                    .bind(&self.entity)
                    .bind(r.partner_id)
                    .bind(r.payload)
                    .bind(self.id);
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Ends the sync: the records rejected this time (`kept`) keep their
    /// last good version; when the feed was read whole (`complete`), the
    /// records it no longer lists are removed; the run is recorded; and all
    /// of it is committed at once.
    pub async fn commit(
        mut self,
        run: &SyncRun,
        kept: &[String],
        complete: bool,
    ) -> Result<(), StoreError> {
        for id in kept {
            sqlx::query(
                "UPDATE feed_records SET sync_id = $1 WHERE partner = $2 AND entity = $3 AND partner_id = $4",
            )
            .bind(self.id)
            .bind(&self.partner)
            .bind(&self.entity)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        }
        if complete {
            sqlx::query(
                "DELETE FROM feed_records WHERE partner = $1 AND entity = $2 AND sync_id <> $3",
            )
            .bind(&self.partner)
            .bind(&self.entity)
            .bind(self.id)
            .execute(&mut *self.tx)
            .await?;
        }
        insert_run(&mut *self.tx, run).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

async fn insert_run<'c, E>(executor: E, run: &SyncRun) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO sync_runs (id, partner, entity, started_at, duration_ms, outcome, records, rejected, rejects, notes, error, error_code, etag, replica) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(run.id)
    .bind(&run.partner)
    .bind(&run.entity)
    .bind(&run.started_at)
    .bind(run.duration_ms)
    .bind(&run.outcome)
    .bind(run.records)
    .bind(run.rejected)
    .bind(&run.rejects)
    .bind(&run.notes)
    .bind(&run.error)
    .bind(&run.error_code)
    .bind(&run.etag)
    .bind(&run.replica)
    .execute(executor)
    .await?;
    Ok(())
}

fn run_from_row(r: &AnyRow) -> Result<SyncRun, StoreError> {
    Ok(SyncRun {
        id: r.try_get("id")?,
        partner: r.try_get("partner")?,
        entity: r.try_get("entity")?,
        started_at: r.try_get("started_at")?,
        duration_ms: r.try_get("duration_ms")?,
        outcome: r.try_get("outcome")?,
        records: r.try_get("records")?,
        rejected: r.try_get("rejected")?,
        rejects: r.try_get("rejects")?,
        notes: r.try_get("notes")?,
        error: r.try_get("error")?,
        error_code: r.try_get("error_code")?,
        etag: r.try_get("etag")?,
        replica: r.try_get("replica")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64) -> SyncRun {
        SyncRun {
            id,
            partner: "cma".into(),
            entity: "offer".into(),
            started_at: "2026-11-28T10:00:00Z".into(),
            duration_ms: 12,
            outcome: "updated".into(),
            records: 2,
            rejected: 0,
            rejects: "[]".into(),
            notes: "[]".into(),
            error: None,
            error_code: None,
            etag: Some(format!("\"e{id}\"")),
            replica: Some("test".into()),
        }
    }

    fn rec(id: &str, v: &str) -> FeedRecord {
        FeedRecord {
            partner_id: id.into(),
            payload: v.into(),
        }
    }

    /// The store on SQLite and, when the suite has a server, PostgreSQL.
    async fn stores() -> (tempfile::TempDir, Vec<(&'static str, Store)>) {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        for (backend, url) in testing::backends(dir.path()).await {
            out.push((backend, Store::open(&url).await.unwrap()));
        }
        (dir, out)
    }

    #[tokio::test]
    async fn a_complete_sync_replaces_the_feed_and_keeps_rejected_records() {
        let (_dir, stores) = stores().await;
        for (backend, s) in stores {
            complete_sync(backend, &s).await;
        }
    }

    async fn complete_sync(backend: &str, s: &Store) {
        s.save_sync(
            &run(1),
            vec![rec("a", "1"), rec("b", "1"), rec("c", "1")],
            &[],
            true,
        )
        .await
        .unwrap();
        // b is gone from the feed; c was rejected this time and keeps its old version.
        s.save_sync(&run(2), vec![rec("a", "2")], &["c".into()], true)
            .await
            .unwrap();
        assert_eq!(
            s.feed("cma", "offer").await.unwrap(),
            ["2", "1"],
            "{backend}"
        );
        assert_eq!(
            s.last_update("cma", "offer").await.unwrap(),
            Some((2, Some("\"e2\"".into()))),
            "{backend}"
        );
        assert_eq!(
            s.runs("cma", "offer", 10).await.unwrap().len(),
            2,
            "{backend}"
        );
    }

    #[tokio::test]
    async fn a_sync_dropped_before_its_commit_stores_nothing() {
        let (_dir, stores) = stores().await;
        for (backend, s) in stores {
            s.save_sync(&run(1), vec![rec("a", "1"), rec("b", "1")], &[], true)
                .await
                .unwrap();
            let mut sync = s.begin_sync(&run(2)).await.unwrap();
            sync.write(vec![rec("a", "2"), rec("c", "2")])
                .await
                .unwrap();
            drop(sync);
            assert_eq!(
                s.feed("cma", "offer").await.unwrap(),
                ["1", "1"],
                "{backend}"
            );
            assert_eq!(
                s.last_update("cma", "offer")
                    .await
                    .unwrap()
                    .map(|(id, _)| id),
                Some(1),
                "{backend}"
            );
        }
    }

    /// A full disk (SQLite's page limit) fails the write that met it and
    /// nothing else: once space is back, writes commit, a rollback ends
    /// its transaction, and another process can take the write lock.
    #[tokio::test]
    async fn a_full_disk_leaves_no_lock_behind() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("store.db").display()
        );
        let pages: u32 = {
            let s = Store::open(&url).await.unwrap();
            sqlx::query("PRAGMA page_count")
                .fetch_one(s.pool().unwrap())
                .await
                .unwrap()
                .try_get::<i64, _>(0)
                .unwrap() as u32
        };
        let bounded = Tuning {
            connections: 1,
            sqlite_max_pages: Some(pages + 24),
        };
        let s = Store::open_with(&url, bounded).await.unwrap();
        let payload = "x".repeat(3000);
        let filler = (0..12).map(|i| rec(&format!("f{i}"), &payload));
        s.save_sync(&run(1), filler, &[], true).await.unwrap();
        // The disk fills: the sync that meets it fails and keeps nothing.
        let big = (0..40).map(|i| rec(&format!("b{i}"), &payload));
        let full = s.save_sync(&run(2), big, &[], false).await.unwrap_err();
        assert!(full.to_string().contains("full"), "{full}");
        assert_eq!(s.feed("cma", "offer").await.unwrap().len(), 12);
        // Space comes back (the filler feed is replaced by a small one).
        s.save_sync(&run(3), vec![rec("a", "1")], &[], true)
            .await
            .unwrap();
        // A transaction the database ended on its own, as SQLite does on
        // some `SQLITE_FULL` and `SQLITE_IOERR`: the driver's rollback then
        // fails.
        let mut ended = s.begin_sync(&run(4)).await.unwrap();
        ended.write(vec![rec("a", "2")]).await.unwrap();
        sqlx::query("ROLLBACK")
            .execute(&mut *ended.tx)
            .await
            .unwrap();
        drop(ended);
        s.save_sync(&run(5), vec![rec("a", "3")], &[], true)
            .await
            .unwrap();
        // A transaction rolled back (an idempotent replay) ends.
        let mut replay = s.begin_sync(&run(6)).await.unwrap();
        replay.write(vec![rec("a", "4")]).await.unwrap();
        drop(replay);
        // Another process writes at once: no lock was left behind.
        let other = Store::open(&url).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), other.record_run(&run(7)))
            .await
            .expect("the write lock is free")
            .unwrap();
        assert_eq!(s.feed("cma", "offer").await.unwrap(), ["3"]);
    }

    #[tokio::test]
    async fn a_truncated_sync_removes_nothing() {
        let (_dir, stores) = stores().await;
        for (backend, s) in stores {
            s.save_sync(&run(1), vec![rec("a", "1"), rec("b", "1")], &[], true)
                .await
                .unwrap();
            s.save_sync(&run(2), vec![rec("a", "2")], &[], false)
                .await
                .unwrap();
            assert_eq!(
                s.feed("cma", "offer").await.unwrap(),
                ["2", "1"],
                "{backend}"
            );
        }
    }
}
