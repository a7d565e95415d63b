//! Durable, idempotent ingestion of allocations.
//!
//! A batch is one transaction: its idempotency key is claimed first (a
//! retry that arrives while the batch is still being written waits for it,
//! then replays its report), its records are checked one by one and stored
//! chunk by chunk, the campaign's aggregates are updated with what was new,
//! and the report is stored with the key. Nothing is acknowledged before the
//! commit; a batch cut short leaves nothing behind.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use passerelle_schema::allocation::Allocation;
use passerelle_schema::{AllocationInput, Opco, Rejection};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use crate::store::{Store, StoreError};

/// The most rejections a report lists one by one; `rejectedCount` counts
/// them all.
pub const MAX_LISTED_REJECTIONS: usize = 100_000;

/// Records written by one statement.
const ROWS: usize = 2_000;

/// The answer to a pushed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    /// The OPCO that pushed it.
    pub opco: String,
    /// The campaign.
    pub campaign: i32,
    /// The batch's idempotency key.
    pub idempotency_key: String,
    /// Records received.
    pub received: u64,
    /// Records stored by this batch.
    pub accepted: u64,
    /// Records whose reference this OPCO had already pushed (in an earlier
    /// batch or earlier in this one): not counted again.
    pub duplicates: u64,
    /// Records refused.
    pub rejected_count: u64,
    /// The refused records, one by one (the first [`MAX_LISTED_REJECTIONS`]).
    pub rejected: Vec<Rejection>,
    /// True when this is the stored report of an earlier push with the same
    /// key: nothing was stored this time.
    #[serde(default)]
    pub replayed: bool,
}

/// Why a batch could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store failed; nothing of the batch was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The idempotency key was used before for other content.
    #[error("the idempotency key {0:?} was already used for a different batch")]
    KeyReused(String),
}

impl From<sqlx::Error> for IngestError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// How a batch starts.
pub enum Begun {
    /// The key is new: write the batch.
    New(Batch),
    /// The key was used: the earlier batch's fingerprint and report.
    Replay {
        /// The earlier batch's content fingerprint.
        fingerprint: Option<String>,
        /// The earlier batch's report.
        report: IngestReport,
    },
}

impl Begun {
    /// Finishes a replay: the stored report if `fingerprint` matches the
    /// earlier batch's.
    pub fn replay(
        fingerprint: Option<String>,
        report: IngestReport,
        now: &str,
    ) -> Result<IngestReport, IngestError> {
        if fingerprint.as_deref() == Some(now) {
            Ok(IngestReport {
                replayed: true,
                ..report
            })
        } else {
            Err(IngestError::KeyReused(report.idempotency_key))
        }
    }
}

/// Sums to add to one line of the campaign's figures.
#[derive(Debug, Default, Clone, Copy)]
struct Delta {
    amount: i64,
    allocations: i64,
    employers: i64,
}

/// A batch being written, inside its transaction.
pub struct Batch {
    store: Store,
    tx: Transaction<'static, Any>,
    opco: Opco,
    campaign: i32,
    now: DateTime<Utc>,
    report: IngestReport,
    figures: BTreeMap<(&'static str, String), Delta>,
}

/// Claims `key` for a batch of `opco` for `campaign`.
pub async fn begin(
    store: &Store,
    opco: &Opco,
    campaign: i32,
    key: &str,
) -> Result<Begun, IngestError> {
    let now = Utc::now();
    let mut tx = store.pool()?.begin().await?;
    let claimed = sqlx::query(
        "INSERT INTO allocation_batches (opco, idempotency_key, campaign, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (opco, idempotency_key) DO NOTHING \
         RETURNING idempotency_key",
    )
    .bind(opco.as_str())
    .bind(key)
    .bind(i64::from(campaign))
    .bind(now.to_rfc3339_opts(SecondsFormat::Millis, true))
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_some() {
        return Ok(Begun::New(Batch {
            store: store.clone(),
            tx,
            opco: opco.clone(),
            campaign,
            now,
            report: IngestReport {
                opco: opco.as_str().to_owned(),
                campaign,
                idempotency_key: key.to_owned(),
                received: 0,
                accepted: 0,
                duplicates: 0,
                rejected_count: 0,
                rejected: Vec::new(),
                replayed: false,
            },
            figures: BTreeMap::new(),
        }));
    }
    tx.rollback().await?;
    let row = sqlx::query(
        "SELECT fingerprint, report FROM allocation_batches WHERE opco = $1 AND idempotency_key = $2",
    )
    .bind(opco.as_str())
    .bind(key)
    .fetch_one(store.pool()?)
    .await?;
    let fingerprint: Option<String> = row.try_get(0)?;
    let report: Option<String> = row.try_get(1)?;
    let report = report
        .and_then(|r| serde_json::from_str(&r).ok())
        .ok_or_else(|| IngestError::KeyReused(key.to_owned()))?;
    Ok(Begun::Replay {
        fingerprint,
        report,
    })
}

impl Batch {
    /// The report so far.
    pub fn report(&self) -> &IngestReport {
        &self.report
    }

    /// Records a record that could not even be read.
    pub fn reject(&mut self, rejection: Rejection) {
        self.report.received += 1;
        self.report.rejected_count += 1;
        if self.report.rejected.len() < MAX_LISTED_REJECTIONS {
            self.report.rejected.push(rejection);
        }
    }

    /// Checks and stores records (index in the batch, line in its file,
    /// input); the invalid ones are rejected alone.
    pub async fn push(
        &mut self,
        records: impl IntoIterator<Item = (u64, Option<u64>, AllocationInput)>,
    ) -> Result<(), IngestError> {
        let mut checked = Vec::new();
        let mut in_chunk = HashSet::new();
        for (index, line, input) in records {
            match Allocation::check(&input, &self.opco, self.campaign, index, self.now) {
                Ok(a) => {
                    self.report.received += 1;
                    if in_chunk.insert(a.reference.clone()) {
                        checked.push(a);
                    } else {
                        self.report.duplicates += 1;
                    }
                }
                Err(r) => self.reject(match line {
                    Some(line) => r.at_line(line),
                    None => r,
                }),
            }
            if checked.len() == ROWS {
                self.store(std::mem::take(&mut checked)).await?;
                in_chunk.clear();
            }
        }
        self.store(checked).await
    }

    /// Stores checked allocations whose references are distinct, and adds
    /// the new ones to the campaign's figures.
    async fn store(&mut self, chunk: Vec<Allocation>) -> Result<(), IngestError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let placeholders = self.store.placeholders(chunk.len(), 9);
        let sql = format!(
            "INSERT INTO allocations (opco, reference, campaign, employer_siret, employer_commune, \
             establishment_uai, amount_cents, allocated_at, batch_key) VALUES {placeholders} \
             ON CONFLICT (opco, reference) DO NOTHING RETURNING reference"
        );
        let mut q = sqlx::query(&sql).persistent(chunk.len() == ROWS);
        let campaign = i64::from(self.campaign);
        for a in &chunk {
            q = q
                .bind(a.opco.as_str())
                .bind(a.reference.as_str())
                .bind(campaign)
                .bind(a.employer_siret.as_str())
                .bind(a.employer_commune.as_str())
                .bind(a.establishment_uai.as_str())
                .bind(a.amount.0)
                .bind(a.allocated_at.to_rfc3339_opts(SecondsFormat::Secs, true))
                .bind(self.report.idempotency_key.as_str());
        }
        let stored: HashSet<String> = q
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        let new: Vec<&Allocation> = chunk
            .iter()
            .filter(|a| stored.contains(&a.reference))
            .collect();
        self.report.accepted += new.len() as u64;
        self.report.duplicates += (chunk.len() - new.len()) as u64;
        if new.is_empty() {
            return Ok(());
        }

        // Employers new to the campaign, and new to an establishment.
        let employers: BTreeMap<&str, String> = new
            .iter()
            .map(|a| {
                (
                    a.employer_siret.as_str(),
                    a.employer_commune.departement().as_str().to_owned(),
                )
            })
            .collect();
        for (siret, departement) in self
            .insert_new(
                "INSERT INTO campaign_employers (campaign, siret, departement)",
                "(campaign, siret) DO NOTHING RETURNING siret, departement",
                employers.iter().map(|(s, d)| [*s, d.as_str()]).collect(),
            )
            .await?
        {
            let _ = siret;
            self.add("total", String::new(), 0, 0, 1);
            self.add("employer_departement", departement, 0, 0, 1);
        }
        let pairs: HashSet<(&str, &str)> = new
            .iter()
            .map(|a| (a.establishment_uai.as_str(), a.employer_siret.as_str()))
            .collect();
        let mut pairs: Vec<_> = pairs.into_iter().collect();
        pairs.sort_unstable();
        for (uai, _) in self
            .insert_new(
                "INSERT INTO campaign_establishment_employers (campaign, uai, siret)",
                "(campaign, uai, siret) DO NOTHING RETURNING uai, siret",
                pairs.iter().map(|(u, s)| [*u, *s]).collect(),
            )
            .await?
        {
            self.add("establishment", uai, 0, 0, 1);
        }

        for a in new {
            let amount = a.amount.0;
            let flow = format!(
                "{}{}",
                if a.from_normandy() { 'N' } else { 'O' },
                if a.to_normandy() { 'N' } else { 'O' }
            );
            self.add("total", String::new(), amount, 1, 0);
            self.add("flow", flow, amount, 1, 0);
            self.add("opco", a.opco.as_str().to_owned(), amount, 1, 0);
            self.add(
                "employer_departement",
                a.employer_commune.departement().as_str().to_owned(),
                amount,
                1,
                0,
            );
            self.add("week", a.week(), amount, 1, 0);
            self.add(
                "establishment",
                a.establishment_uai.as_str().to_owned(),
                amount,
                1,
                0,
            );
        }
        Ok(())
    }

    /// Inserts `(campaign, a, b)` rows, skipping those already there;
    /// returns the pairs that were new.
    async fn insert_new(
        &mut self,
        insert: &str,
        conflict: &str,
        rows: Vec<[&str; 2]>,
    ) -> Result<Vec<(String, String)>, IngestError> {
        let mut out = Vec::new();
        let campaign = i64::from(self.campaign);
        for chunk in rows.chunks(ROWS) {
            let sql = format!(
                "{insert} VALUES {} ON CONFLICT {conflict}",
                self.store.placeholders(chunk.len(), 3)
            );
            // Its length varies with every chunk: not worth a prepared
            // statement kept per connection.
            let mut q = sqlx::query(&sql).persistent(chunk.len() == ROWS);
            for [a, b] in chunk {
                q = q.bind(campaign).bind(*a).bind(*b);
            }
            for row in q.fetch_all(&mut *self.tx).await? {
                out.push((row.try_get(0)?, row.try_get(1)?));
            }
        }
        Ok(out)
    }

    fn add(&mut self, dimension: &'static str, key: String, amount: i64, n: i64, employers: i64) {
        let d = self.figures.entry((dimension, key)).or_default();
        d.amount += amount;
        d.allocations += n;
        d.employers += employers;
    }

    /// Adds the batch to the campaign's figures, stores its report and
    /// fingerprint, and commits. Only then is the batch acknowledged.
    pub async fn commit(mut self, fingerprint: &str) -> Result<IngestReport, IngestError> {
        let figures: Vec<_> = std::mem::take(&mut self.figures).into_iter().collect();
        let campaign = i64::from(self.campaign);
        for chunk in figures.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO campaign_figures (campaign, dimension, key, amount_cents, allocations, employers) \
                 VALUES {} ON CONFLICT (campaign, dimension, key) DO UPDATE SET \
                 amount_cents = campaign_figures.amount_cents + excluded.amount_cents, \
                 allocations = campaign_figures.allocations + excluded.allocations, \
                 employers = campaign_figures.employers + excluded.employers",
                self.store.placeholders(chunk.len(), 6)
            );
            let mut q = sqlx::query(&sql).persistent(false);
            for ((dimension, key), d) in chunk {
                q = q
                    .bind(campaign)
                    .bind(*dimension)
                    .bind(key.as_str())
                    .bind(d.amount)
                    .bind(d.allocations)
                    .bind(d.employers);
            }
            q.execute(&mut *self.tx).await?;
        }
        let report = serde_json::to_string(&self.report).expect("a report serialises");
        sqlx::query(
            "UPDATE allocation_batches SET fingerprint = $1, report = $2 \
             WHERE opco = $3 AND idempotency_key = $4",
        )
        .bind(fingerprint)
        .bind(report)
        .bind(self.opco.as_str())
        .bind(self.report.idempotency_key.as_str())
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        self.store.data_changed();
        let r = &self.report;
        for (outcome, n) in [
            ("accepted", r.accepted),
            ("duplicate", r.duplicates),
            ("rejected", r.rejected_count),
        ] {
            metrics::counter!("passerelle_allocations_total", "opco" => r.opco.clone(), "outcome" => outcome)
                .increment(n);
        }
        Ok(self.report)
    }
}

/// Counts of what a store holds for a campaign, straight from the
/// allocations (for tests and checks, not for queries).
pub async fn stored_totals(store: &Store, campaign: i32) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM allocations WHERE campaign = $1",
    )
    .bind(i64::from(campaign))
    .fetch_one(store.pool()?)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// The idempotency keys of an OPCO's committed batches, with what each
/// stored.
pub async fn committed_batches(
    store: &Store,
    opco: &Opco,
) -> Result<HashMap<String, i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT batch_key, COUNT(*) FROM allocations WHERE opco = $1 GROUP BY batch_key",
    )
    .bind(opco.as_str())
    .fetch_all(store.pool()?)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
