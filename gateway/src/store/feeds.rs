//! Synced feeds and their history: a sync's records stored in one
//! transaction with its outcome, read back, and the runs of every sync.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::store::{Store, StoreError};

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

/// Rows written by one statement when a feed is stored.
const CHUNK: usize = 200;

impl Store {
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
    pub(super) store: &'s Store,
    pub(super) tx: sqlx::Transaction<'static, sqlx::Any>,
    pub(super) partner: String,
    pub(super) entity: String,
    pub(super) id: i64,
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
