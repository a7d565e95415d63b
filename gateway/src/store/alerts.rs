//! The tables of offers pushed to candidates: the records already
//! announced, the batches of new offers, the saved alerts and the outbox
//! of their webhook deliveries.
//!
//! A batch of new offers is recorded in one transaction with the records
//! it marks as seen and the deliveries it owes: a crash loses all of it or
//! none, so an offer is announced once and every delivery it owes is
//! written. On PostgreSQL the same transaction notifies the other replicas
//! (`NOTIFY passerelle_offers`), which read the batch back.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// The channel replicas hear of new batches on.
pub const OFFERS_CHANNEL: &str = "passerelle_offers";

/// Rows written by one statement.
const CHUNK: usize = 200;

/// Deliveries written by one statement (five values each bound).
const DELIVERY_CHUNK: usize = 2000;

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

/// A saved alert, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// Its identifier.
    pub id: String,
    /// The OAuth client that owns it.
    pub client_id: String,
    /// The owner's reference of the candidate.
    pub candidate_ref: String,
    /// The filter, as JSON.
    pub filter: String,
    /// Where deliveries go.
    pub webhook_url: String,
    /// The signing secret, `whsec_…`.
    pub secret: String,
    /// `IMMEDIATE` or `DAILY`.
    pub digest: String,
    /// Whether deliveries are made.
    pub active: bool,
    /// Why it was disabled.
    pub disabled_why: Option<String>,
    /// When it was created, µs since the epoch.
    pub created_us: i64,
}

/// A delivery of the outbox, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    /// Its `webhook-id`.
    pub id: String,
    /// The alert.
    pub alert_id: String,
    /// The offers it carries, for a delivery written before sets were:
    /// batch and place in its rendered offers.
    pub refs: Vec<(i64, u32)>,
    /// The offers it carries: batch and set of the batch.
    pub sets: Vec<(i64, u32)>,
    /// How many offers it carries.
    pub offers: i64,
    /// `pending`, `delivered`, `dead` or `cancelled`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was written, µs.
    pub created_us: i64,
    /// When it is tried next, µs.
    pub due_us: i64,
    /// When it was first due, µs: retries stop `retry_for` after.
    pub first_due_us: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was delivered, µs.
    pub delivered_us: Option<i64>,
    /// The replica that delivered it.
    pub delivered_by: Option<String>,
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

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Attempted {
    /// The receiver took it.
    Delivered {
        /// Its status.
        status: i64,
    },
    /// It failed; try again at `due_us`.
    Retry {
        /// The status, when the receiver answered.
        status: Option<i64>,
        /// Why.
        error: String,
        /// When to try next.
        due_us: i64,
    },
    /// It failed for the last time.
    Dead {
        /// The status, when the receiver answered.
        status: Option<i64>,
        /// Why.
        error: String,
    },
    /// The receiver is gone (410): the alert is disabled and its pending
    /// deliveries cancelled.
    Gone,
}

fn alert_from(r: &AnyRow) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        candidate_ref: r.try_get("candidate_ref")?,
        filter: r.try_get("filter")?,
        webhook_url: r.try_get("webhook_url")?,
        secret: r.try_get("secret")?,
        digest: r.try_get("digest")?,
        active: r.try_get::<i64, _>("active")? != 0,
        disabled_why: r.try_get("disabled_why")?,
        created_us: r.try_get("created_us")?,
    })
}

fn delivery_from(r: &AnyRow) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        id: r.try_get("id")?,
        alert_id: r.try_get("alert_id")?,
        refs: serde_json::from_str(&r.try_get::<String, _>("refs")?).unwrap_or_default(),
        sets: serde_json::from_str(&r.try_get::<String, _>("sets")?).unwrap_or_default(),
        offers: r.try_get("offers")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        created_us: r.try_get("created_us")?,
        due_us: r.try_get("due_us")?,
        first_due_us: r.try_get("first_due_us")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        delivered_us: r.try_get("delivered_us")?,
        delivered_by: r.try_get("delivered_by")?,
    })
}

const ALERT_COLUMNS: &str = "id, client_id, candidate_ref, filter, webhook_url, secret, digest, active, disabled_why, created_us";
const DELIVERY_COLUMNS: &str = "id, alert_id, refs, sets, offers, state, attempts, created_us, due_us, first_due_us, last_status, last_error, delivered_us, delivered_by";

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

    /// Saves a new alert.
    pub async fn create_alert(&self, a: &AlertRow) -> Result<(), StoreError> {
        let mut tx = self.pool()?.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO offer_alerts ({ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&a.id)
        .bind(&a.client_id)
        .bind(&a.candidate_ref)
        .bind(&a.filter)
        .bind(&a.webhook_url)
        .bind(&a.secret)
        .bind(&a.digest)
        .bind(i64::from(a.active))
        .bind(&a.disabled_why)
        .bind(a.created_us)
        .execute(&mut *tx)
        .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An alert by its identifier.
    pub async fn alert(&self, id: &str) -> Result<Option<AlertRow>, StoreError> {
        let r = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM offer_alerts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool()?)
        .await?;
        r.as_ref().map(alert_from).transpose()
    }

    /// How many alerts a client keeps.
    pub async fn count_alerts(&self, client_id: &str) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM offer_alerts WHERE client_id = $1")
            .bind(client_id)
            .fetch_one(self.pool()?)
            .await?;
        Ok(r.try_get("n")?)
    }

    /// A page of a client's alerts, oldest first: at most `limit`, those
    /// after `after` (creation time in µs, identifier) when given.
    pub async fn alerts_page(
        &self,
        client_id: &str,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let (created_us, id) = after.unwrap_or((i64::MIN, ""));
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM offer_alerts WHERE client_id = $1 \
             AND (created_us, id) > ($2, $3) ORDER BY created_us, id LIMIT $4"
        ))
        .bind(client_id)
        .bind(created_us)
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(alert_from).collect()
    }

    /// Every active alert.
    pub async fn active_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM offer_alerts WHERE active = 1"
        ))
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(alert_from).collect()
    }

    /// A number that moves whenever an alert is created, deleted or
    /// disabled.
    pub async fn alerts_generation(&self) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT n FROM offer_alerts_generation WHERE one = 1")
            .fetch_one(self.pool()?)
            .await?;
        Ok(r.try_get("n")?)
    }

    /// Deletes a client's alert and its deliveries not yet made; false when
    /// the client has no such alert.
    pub async fn delete_alert(&self, client_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool()?.begin().await?;
        let gone = sqlx::query("DELETE FROM offer_alerts WHERE id = $1 AND client_id = $2")
            .bind(id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if gone {
            sqlx::query("DELETE FROM webhook_deliveries WHERE alert_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            bump_generation(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// An alert's deliveries, newest first, at most `limit`.
    pub async fn deliveries_of(
        &self,
        alert_id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE alert_id = $1 \
             ORDER BY created_us DESC, id DESC LIMIT $2"
        ))
        .bind(alert_id)
        .bind(limit)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(delivery_from).collect()
    }

    /// Claims up to `limit` deliveries due at `now_us` for `replica`, until
    /// `until_us`: a delivery is claimed by one replica at a time, and
    /// claimed again only once that claim has lapsed (its replica died).
    pub async fn claim_deliveries(
        &self,
        now_us: i64,
        until_us: i64,
        replica: &str,
        limit: i64,
    ) -> Result<Vec<(DeliveryRow, AlertRow)>, StoreError> {
        let rows = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET claimed_us = $1, claimed_by = $2 \
             WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND due_us <= $3 \
                          AND claimed_us < $3 ORDER BY due_us LIMIT $4) \
               AND state = 'pending' AND claimed_us < $3 \
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(until_us)
        .bind(replica)
        .bind(now_us)
        .bind(limit)
        .fetch_all(self.pool()?)
        .await?;
        let claimed: Vec<DeliveryRow> = rows.iter().map(delivery_from).collect::<Result<_, _>>()?;
        // Their alerts, read together.
        let mut ids: Vec<&str> = claimed.iter().map(|d| d.alert_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut alerts: std::collections::HashMap<String, AlertRow> = Default::default();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT {ALERT_COLUMNS} FROM offer_alerts WHERE id IN {}",
                self.placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()?).await? {
                let a = alert_from(&r)?;
                alerts.insert(a.id.clone(), a);
            }
        }
        let mut out = Vec::with_capacity(claimed.len());
        for d in claimed {
            match alerts.get(&d.alert_id) {
                Some(a) => out.push((d, a.clone())),
                // Its alert was deleted meanwhile.
                None => {
                    sqlx::query("DELETE FROM webhook_deliveries WHERE id = $1")
                        .bind(&d.id)
                        .execute(self.pool()?)
                        .await?;
                }
            }
        }
        Ok(out)
    }

    /// Records what became of attempts by `replica`, each of a delivery
    /// (identifier, alert), in one transaction.
    pub async fn attempted(
        &self,
        attempts: &[(String, String, Attempted)],
        replica: &str,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool()?.begin().await?;
        for (id, alert_id, outcome) in attempts {
            record_attempt(&mut tx, id, alert_id, replica, now_us, outcome).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many deliveries are pending.
    pub async fn pending_deliveries(&self) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'pending'")
            .fetch_one(self.pool()?)
            .await?;
        Ok(r.try_get("n")?)
    }
}

/// Records one attempt in `tx`.
async fn record_attempt(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    alert_id: &str,
    replica: &str,
    now_us: i64,
    outcome: &Attempted,
) -> Result<(), StoreError> {
    match outcome {
        Attempted::Delivered { status } => {
            sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
                     last_status = $1, last_error = NULL, delivered_us = $2, delivered_by = $3, claimed_us = 0 \
                     WHERE id = $4",
                )
                .bind(status)
                .bind(now_us)
                .bind(replica)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Attempted::Retry {
            status,
            error,
            due_us,
        } => {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, \
                     last_error = $2, due_us = $3, claimed_us = 0 WHERE id = $4",
            )
            .bind(status)
            .bind(error)
            .bind(due_us)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        Attempted::Dead { status, error } => {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'dead', attempts = attempts + 1, \
                     last_status = $1, last_error = $2, claimed_us = 0 WHERE id = $3",
            )
            .bind(status)
            .bind(error)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        Attempted::Gone => {
            sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'cancelled', attempts = attempts + 1, \
                     last_status = 410, last_error = 'the receiver answered 410 Gone', claimed_us = 0 \
                     WHERE id = $1",
                )
                .bind(id)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'cancelled', last_error = 'the alert was disabled' \
                     WHERE alert_id = $1 AND state = 'pending'",
                )
                .bind(alert_id)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                    "UPDATE offer_alerts SET active = 0, disabled_why = 'the webhook answered 410 Gone' WHERE id = $1",
                )
                .bind(alert_id)
                .execute(&mut **tx)
                .await?;
            bump_generation(tx).await?;
        }
    }
    Ok(())
}

async fn bump_generation(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE offer_alerts_generation SET n = n + 1 WHERE one = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, client: &str, created_us: i64) -> AlertRow {
        AlertRow {
            id: id.into(),
            client_id: client.into(),
            candidate_ref: "cand".into(),
            filter: "{}".into(),
            webhook_url: "https://example.org/hook".into(),
            secret: "whsec_x".into(),
            digest: "IMMEDIATE".into(),
            active: true,
            disabled_why: None,
            created_us,
        }
    }

    #[tokio::test]
    async fn a_clients_alerts_are_counted_and_paged_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for (backend, url) in crate::store::testing::backends(dir.path()).await {
            let store = Store::open(&url).await.unwrap();
            // Two created in the same microsecond: the identifier orders them.
            for (id, at) in [("a3", 30), ("a1", 10), ("a2b", 20), ("a2a", 20), ("a4", 40)] {
                store.create_alert(&alert(id, "front", at)).await.unwrap();
            }
            store.create_alert(&alert("b1", "other", 15)).await.unwrap();
            assert_eq!(store.count_alerts("front").await.unwrap(), 5, "{backend}");
            assert_eq!(store.count_alerts("other").await.unwrap(), 1, "{backend}");
            assert_eq!(store.count_alerts("nobody").await.unwrap(), 0, "{backend}");
            let mut seen = Vec::new();
            let mut after: Option<(i64, String)> = None;
            loop {
                let page = store
                    .alerts_page("front", after.as_ref().map(|(t, i)| (*t, i.as_str())), 2)
                    .await
                    .unwrap();
                assert!(page.len() <= 2, "{backend}");
                let Some(last) = page.last() else { break };
                after = Some((last.created_us, last.id.clone()));
                seen.extend(page.into_iter().map(|a| a.id));
            }
            assert_eq!(seen, ["a1", "a2a", "a2b", "a3", "a4"], "{backend}");
        }
    }
}
