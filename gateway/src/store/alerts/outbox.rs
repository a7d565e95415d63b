//! The outbox of webhook deliveries: claimed by one replica at a time,
//! each attempt recorded, retried when due.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::batches::CHUNK;
use super::saved::{alert_from, bump_generation, AlertRow, ALERT_COLUMNS};
use crate::store::{Store, StoreError};

/// Deliveries written by one statement (five values each bound).
pub(super) const DELIVERY_CHUNK: usize = 2000;

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

const DELIVERY_COLUMNS: &str = "id, alert_id, refs, sets, offers, state, attempts, created_us, due_us, first_due_us, last_status, last_error, delivered_us, delivered_by";

impl Store {
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
