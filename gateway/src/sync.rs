//! Synced feeds: pulled on a schedule, stored, served from memory.
//!
//! A feed's records live in the store; the gateway serves them from a
//! snapshot in memory, loaded from the store at start and replaced after
//! each sync that changed something. A failed pull changes nothing: the
//! last good state keeps being served.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use passerelle_connectors::{FeedPull, FeedSource};
use passerelle_mappings::Entity;
use passerelle_schema::Partner;
use tokio::sync::Mutex;

use crate::health::Health;
use crate::store::{FeedRecord, Store, StoreError, SyncRun};

/// The records of a feed as served.
#[derive(Debug)]
pub struct Snapshot<E> {
    /// Bumped at every change, so derived caches can tell.
    pub version: u64,
    /// The records.
    pub records: Vec<Arc<E>>,
    /// Position of each record by its identifier at the partner.
    index: HashMap<String, usize>,
}

impl<E: Entity> Snapshot<E> {
    fn new(version: u64, records: Vec<Arc<E>>) -> Self {
        let index = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.partner_id().to_owned(), i))
            .collect();
        Self {
            version,
            records,
            index,
        }
    }

    /// The record with this identifier at the partner.
    pub fn get(&self, partner_id: &str) -> Option<&Arc<E>> {
        self.index.get(partner_id).map(|&i| &self.records[i])
    }
}

/// Rejections kept with a sync's outcome, at most.
const KEPT_REJECTS: usize = 100;

/// A synced feed of entities `E` from source `S`.
pub struct SyncedFeed<E, S> {
    source: S,
    store: Store,
    health: Arc<Health>,
    snapshot: RwLock<Arc<Snapshot<E>>>,
    running: Mutex<()>,
}

impl<E: Entity, S: FeedSource<E>> SyncedFeed<E, S> {
    /// A feed with nothing loaded yet.
    pub fn new(source: S, store: Store, health: Arc<Health>) -> Self {
        Self {
            source,
            store,
            health,
            snapshot: RwLock::new(Arc::new(Snapshot::new(0, Vec::new()))),
            running: Mutex::new(()),
        }
    }

    /// The partner.
    pub fn partner(&self) -> Partner {
        self.source.partner()
    }

    fn entity(&self) -> &'static str {
        E::KIND.name()
    }

    /// The records served now.
    pub fn snapshot(&self) -> Arc<Snapshot<E>> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    /// Loads the stored records into memory; returns how many there are.
    pub async fn load(&self) -> Result<usize, StoreError> {
        let payloads = self.store.feed(self.partner().id(), self.entity()).await?;
        let mut records = Vec::with_capacity(payloads.len());
        for p in payloads {
            match serde_json::from_str::<E>(&p) {
                Ok(r) => records.push(Arc::new(r)),
                // A stored record the current model cannot read is skipped,
                // not fatal: the next sync rewrites it.
                Err(e) => {
                    tracing::warn!(partner = %self.partner(), error = %e, "stored record unreadable")
                }
            }
        }
        let n = records.len();
        let version = self.snapshot().version + 1;
        *self.snapshot.write().expect("snapshot lock") = Arc::new(Snapshot::new(version, records));
        Ok(n)
    }

    /// Pulls the feed once and stores what changed. Concurrent calls wait
    /// for the sync under way rather than start another.
    #[tracing::instrument(name = "feed.sync", skip_all, fields(partner = self.partner().id()))]
    pub async fn sync_once(&self) -> Result<SyncRun, StoreError> {
        let _running = self.running.lock().await;
        let started = Instant::now();
        let started_at = Utc::now();
        let partner = self.partner();
        let etag = self.store.last_etag(partner.id(), self.entity()).await?;
        let mut run = SyncRun {
            id: started_at.timestamp_micros(),
            partner: partner.id().to_owned(),
            entity: self.entity().to_owned(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_ms: 0,
            outcome: String::new(),
            records: 0,
            rejected: 0,
            rejects: "[]".into(),
            error: None,
            etag: etag.clone(),
        };
        // An empty snapshot with a stored ETag (a restart) must not be
        // answered "not modified": pull unconditionally then.
        let condition = if self.snapshot().records.is_empty() {
            None
        } else {
            etag.as_deref()
        };
        let pulled = self.source.pull(condition).await;
        run.duration_ms = started.elapsed().as_millis() as i64;
        let outcome = match &pulled {
            Err(_) => "failed",
            Ok(FeedPull::NotModified) => "not_modified",
            Ok(FeedPull::Fetched { .. }) => "updated",
        };
        metrics::counter!("passerelle_sync_runs_total", "partner" => partner.id(), "outcome" => outcome).increment(1);
        metrics::histogram!("passerelle_sync_duration_seconds", "partner" => partner.id())
            .record(started.elapsed().as_secs_f64());
        match pulled {
            Err(e) => {
                tracing::warn!(partner = %partner, code = e.code(), error = %e, "sync failed, serving the last good data");
                self.health.failure(&e);
                run.outcome = "failed".into();
                run.error = Some(e.to_string());
                run.records = self.snapshot().records.len() as i64;
                self.store.record_run(&run).await?;
            }
            Ok(FeedPull::NotModified) => {
                run.outcome = "not_modified".into();
                run.records = self.snapshot().records.len() as i64;
                self.store.record_run(&run).await?;
                self.health.success(partner, Some(run.records as u64));
            }
            Ok(FeedPull::Fetched { etag, batch, bytes }) => {
                let complete = batch.truncated.is_none();
                let records = batch
                    .records
                    .iter()
                    .map(|r| FeedRecord {
                        partner_id: r.partner_id().to_owned(),
                        payload: serde_json::to_string(r).expect("entities serialize"),
                    })
                    .collect::<Vec<_>>();
                let kept: Vec<String> = batch
                    .rejected
                    .iter()
                    .filter_map(|e| e.partner_id.clone())
                    .collect();
                run.outcome = "updated".into();
                run.records = records.len() as i64;
                run.etag = etag;
                run.rejected = batch.rejected.len() as i64;
                run.rejects = serde_json::to_string(
                    &batch.rejected.iter().take(KEPT_REJECTS).collect::<Vec<_>>(),
                )
                .expect("errors serialize");
                if let Some(t) = &batch.truncated {
                    run.error = Some(format!("feed truncated: {t}"));
                    // A truncated feed cannot be trusted for the next
                    // conditional pull.
                    run.etag = None;
                }
                self.store
                    .save_sync(&run, &records, &kept, complete)
                    .await?;
                let stored = self.load().await?;
                tracing::info!(
                    partner = %partner,
                    records = stored,
                    rejected = run.rejected,
                    bytes,
                    duration_ms = run.duration_ms,
                    "feed synced"
                );
                self.health.success(partner, Some(stored as u64));
                metrics::counter!("passerelle_records_rejected_total", "partner" => partner.id())
                    .increment(run.rejected as u64);
                metrics::gauge!("passerelle_feed_records", "partner" => partner.id(), "entity" => self.entity()).set(stored as f64);
                if let Some(t) = &batch.truncated {
                    self.health.failure_with(
                        partner,
                        "PARTNER_BAD_RESPONSE",
                        format!("feed truncated: {t}"),
                    );
                }
            }
        }
        Ok(run)
    }

    /// Syncs every `interval`, for ever; the first sync starts at once, or
    /// after one interval when `wait_first`.
    pub fn spawn(
        self: Arc<Self>,
        interval: Duration,
        wait_first: bool,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let first =
                tokio::time::Instant::now() + if wait_first { interval } else { Duration::ZERO };
            let mut ticker = tokio::time::interval_at(first, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(e) = self.sync_once().await {
                    tracing::error!(partner = %self.partner(), error = %e, "sync could not be stored");
                }
            }
        })
    }
}
