//! The saved alerts: created, read, paged by client, deleted, and the
//! generation that tells replicas to reload them.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::store::{Store, StoreError};

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

pub(super) fn alert_from(r: &AnyRow) -> Result<AlertRow, StoreError> {
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

pub(super) const ALERT_COLUMNS: &str = "id, client_id, candidate_ref, filter, webhook_url, secret, digest, active, disabled_why, created_us";

impl Store {
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
}

pub(super) async fn bump_generation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE offer_alerts_generation SET n = n + 1 WHERE one = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}
