//! The batches of new offers: recorded in one transaction with the records
//! they mark as seen and the deliveries they owe, heard of by the other
//! replicas, read back and pruned.

use sqlx::Row;

use super::outbox::DELIVERY_CHUNK;
use crate::store::{Store, StoreError};

/// The channel replicas hear of new batches on.
pub const OFFERS_CHANNEL: &str = "passerelle_offers";

/// Rows written by one statement.
pub(super) const CHUNK: usize = 200;

/// A batch of new offers to record.
#[derive(Debug, Default)]
pub struct NewBatch {
    /// Its identifier, increasing.
    pub id: i64,
    /// When it was detected, RFC 3339.
    pub detected_at: String,
    /// The replica that detected it.
    pub replica: String,
    /// The new offers, as a JSON array.
    pub offers: String,
    /// The new offers as webhooks show them, as a JSON array.
    pub rendered: String,
    /// The records it marks as seen, `partner:identifier`.
    pub sources: Vec<String>,
    /// The sets of offers its deliveries carry, as places in `rendered`.
    pub sets: Vec<Vec<u32>>,
    /// The deliveries it owes at once.
    pub deliveries: Vec<NewDelivery>,
    /// The offers it adds to daily digests.
    pub digests: Vec<DigestAddition>,
}

/// A delivery to write in the outbox.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Its `webhook-id`.
    pub id: String,
    /// The alert.
    pub alert_id: String,
    /// The offers it carries: batch and set of the batch.
    pub sets: Vec<(i64, u32)>,
    /// How many.
    pub offers: u32,
    /// When it may first be tried, µs since the epoch.
    pub due_us: i64,
}

/// Offers added to an alert's digest of the day.
#[derive(Debug, Clone)]
pub struct DigestAddition {
    /// The digest's `webhook-id`, the same all day.
    pub id: String,
    /// The alert.
    pub alert_id: String,
    /// The offers to add: batch and set of the batch.
    pub sets: Vec<(i64, u32)>,
    /// How many.
    pub offers: u32,
    /// When the digest is due.
    pub due_us: i64,
}

/// A batch as deliveries read it.
#[derive(Debug, Clone)]
pub struct RenderedRow {
    /// When it was detected, RFC 3339.
    pub detected_at: String,
    /// Its offers as webhooks show them, a JSON array.
    pub rendered: String,
    /// The sets of them deliveries carry, a JSON array of arrays of places.
    pub sets: String,
}

impl Store {
    /// Listens for the batches other replicas record, on PostgreSQL;
    /// `None` for SQLite, which one process alone uses.
    pub async fn listen_for_batches(
        &self,
    ) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        if !self.numbered {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(OFFERS_CHANNEL).await?;
        Ok(Some(listener))
    }

    /// Hands `each` the records marked seen by batches after `batch`, as
    /// the rows come; returns the last batch's identifier (`batch` for
    /// none).
    pub async fn seen_after(
        &self,
        batch: i64,
        mut each: impl FnMut(&str),
    ) -> Result<i64, StoreError> {
        use futures::TryStreamExt;
        let mut rows = sqlx::query("SELECT source, batch FROM offers_seen WHERE batch > $1")
            .bind(batch)
            .fetch(self.pool()?);
        let mut last = batch;
        while let Some(r) = rows.try_next().await? {
            last = last.max(r.try_get::<i64, _>(1)?);
            each(r.try_get::<&str, _>(0)?);
        }
        Ok(last)
    }

    /// The identifier of the last batch recorded, 0 for none.
    pub async fn last_batch(&self) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT COALESCE(MAX(id), 0) AS last FROM offer_batches")
            .fetch_one(self.pool()?)
            .await?;
        Ok(r.try_get("last")?)
    }

    /// A batch's detection time (RFC 3339), its offers as webhooks show
    /// them (a JSON array) and the sets of them its deliveries carry.
    pub async fn batch_rendered(&self, batch: i64) -> Result<Option<RenderedRow>, StoreError> {
        let r = sqlx::query("SELECT detected_at, rendered, sets FROM offer_batches WHERE id = $1")
            .bind(batch)
            .fetch_optional(self.pool()?)
            .await?;
        r.map(|r| {
            Ok(RenderedRow {
                detected_at: r.try_get("detected_at")?,
                rendered: r.try_get("rendered")?,
                sets: r.try_get("sets")?,
            })
        })
        .transpose()
    }

    /// Forgets the batches detected before `before_us` and the deliveries
    /// ended (delivered, dead or cancelled) before then; returns how many
    /// rows went.
    pub async fn prune_alerts(&self, before_us: i64) -> Result<u64, StoreError> {
        let mut tx = self.pool()?.begin().await?;
        let batches = sqlx::query(
            "DELETE FROM offer_batches WHERE id < $1 AND id < (SELECT COALESCE(MAX(id), 0) FROM offer_batches)",
        )
        .bind(before_us)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let deliveries = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_us < $1",
        )
        .bind(before_us)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(batches + deliveries)
    }

    /// The batches after `batch`, oldest first: identifier and offers.
    pub async fn batches_after(&self, batch: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query("SELECT id, offers FROM offer_batches WHERE id > $1 ORDER BY id")
            .bind(batch)
            .fetch_all(self.pool()?)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("offers")?)))
            .collect()
    }

    /// Records a batch: its offers, the records it marks seen and the
    /// deliveries it owes, in one transaction; on PostgreSQL the other
    /// replicas are told at commit.
    pub async fn record_batch(&self, batch: &NewBatch) -> Result<(), StoreError> {
        let mut tx = self.pool()?.begin().await?;
        for chunk in batch.sources.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO offers_seen (source, batch) VALUES {} ON CONFLICT (source) DO NOTHING",
                self.placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(&sql);
            for s in chunk {
                q = q.bind(s).bind(batch.id);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO offer_batches (id, detected_at, replica, offers, rendered, sets) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(batch.id)
        .bind(&batch.detected_at)
        .bind(&batch.replica)
        .bind(&batch.offers)
        .bind(&batch.rendered)
        .bind(serde_json::to_string(&batch.sets).expect("sets serialize"))
        .execute(&mut *tx)
        .await?;
        // A large batch owes tens of thousands: few statements, and only
        // what varies bound.
        for chunk in batch.deliveries.chunks(DELIVERY_CHUNK) {
            let mut values = String::with_capacity(chunk.len() * 48);
            for (i, _) in chunk.iter().enumerate() {
                if i > 0 {
                    values.push(',');
                }
                let p = |k: usize| {
                    if self.numbered {
                        format!("${}", i * 5 + k)
                    } else {
                        "?".to_owned()
                    }
                };
                values.push_str(&format!(
                    "({}, {}, '[]', {}, {}, 'pending', 0, {}, {}, {}, 0)",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    batch.id,
                    p(5),
                    if self.numbered { p(5) } else { "?".to_owned() }
                ));
            }
            let sql = format!(
                "INSERT INTO webhook_deliveries (id, alert_id, refs, sets, offers, state, attempts, created_us, due_us, first_due_us, claimed_us) VALUES {values} \
                 ON CONFLICT (id) DO NOTHING"
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q
                    .bind(&d.id)
                    .bind(&d.alert_id)
                    .bind(serde_json::to_string(&d.sets).expect("sets serialize"))
                    .bind(i64::from(d.offers))
                    .bind(d.due_us);
                if !self.numbered {
                    q = q.bind(d.due_us);
                }
            }
            q.execute(&mut *tx).await?;
        }
        for d in &batch.digests {
            let held = sqlx::query(
                "SELECT sets, offers FROM webhook_deliveries WHERE id = $1 AND state = 'pending' AND attempts = 0",
            )
            .bind(&d.id)
            .fetch_optional(&mut *tx)
            .await?;
            match held {
                Some(r) => {
                    let mut sets: Vec<(i64, u32)> =
                        serde_json::from_str(&r.try_get::<String, _>("sets")?).unwrap_or_default();
                    sets.extend(d.sets.iter().copied());
                    sqlx::query(
                        "UPDATE webhook_deliveries SET sets = $1, offers = $2 WHERE id = $3",
                    )
                    .bind(serde_json::to_string(&sets).expect("sets serialize"))
                    .bind(r.try_get::<i64, _>("offers")? + i64::from(d.offers))
                    .bind(&d.id)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    // A digest already tried is closed: the offers wait for
                    // the next one, under a new identifier.
                    sqlx::query(
                        "INSERT INTO webhook_deliveries (id, alert_id, refs, sets, offers, state, attempts, created_us, due_us, first_due_us, claimed_us) \
                         VALUES ($1, $2, '[]', $3, $4, 'pending', 0, $5, $6, $6, 0) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&d.id)
                    .bind(&d.alert_id)
                    .bind(serde_json::to_string(&d.sets).expect("sets serialize"))
                    .bind(i64::from(d.offers))
                    .bind(batch.id)
                    .bind(d.due_us)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        if self.numbered {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(OFFERS_CHANNEL)
                .bind(batch.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
