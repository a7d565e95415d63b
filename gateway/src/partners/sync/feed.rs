//! A synced feed: loaded from the store, pulled when due under its lease,
//! its records stored and its snapshot replaced; retried after a failure.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use passerelle_connectors::{ConnectorError, FeedPiece, FeedPull, FeedRecords, FeedSource};
use passerelle_mappings::Entity;
use passerelle_schema::Partner;
use tokio::sync::Mutex;

use super::snapshot::{InMemory, Snapshot};
use crate::partners::health::Health;
use crate::store::{FeedRecord, Store, StoreError, SyncRun};

/// A record as the store keeps it.
fn row<E: Entity>(r: &E) -> FeedRecord {
    FeedRecord {
        partner_id: r.partner_id().to_owned(),
        payload: serde_json::to_string(r).expect("entities serialize"),
    }
}

/// Rejections kept with a sync's outcome, at most.
const KEPT_REJECTS: usize = 100;

/// How often a replica tries again for a lease another one holds.
const LEASE_POLL: Duration = Duration::from_millis(100);

/// The first wait before a sync the store failed is tried again; it
/// doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// The share of the interval after which a feed synced by any replica is
/// due again: a little less than the whole, so that ticks that drift do
/// not skip a turn.
const DUE_AFTER: f64 = 0.9;

/// How recent a sync by any replica must be for a turn to follow it rather
/// than pull, given the feed's interval.
pub fn fresh_for(interval: Duration) -> Duration {
    interval.mul_f64(DUE_AFTER)
}

/// A synced feed of entities `E`.
pub struct SyncedFeed<E: InMemory> {
    source: Arc<dyn FeedSource<E>>,
    store: Store,
    health: Arc<Health>,
    snapshot: RwLock<Arc<Snapshot<E>>>,
    running: Mutex<()>,
    /// The version of the snapshot served, for those who wait for a new one.
    installed: tokio::sync::watch::Sender<u64>,
}

impl<E: InMemory> SyncedFeed<E> {
    /// A feed of `source` with nothing loaded yet.
    pub fn new(source: impl FeedSource<E>, store: Store, health: Arc<Health>) -> Self {
        Self::of(Arc::new(source), store, health)
    }

    /// A feed of a shared `source` with nothing loaded yet.
    pub fn of(source: Arc<dyn FeedSource<E>>, store: Store, health: Arc<Health>) -> Self {
        Self {
            source,
            store,
            health,
            snapshot: RwLock::new(Arc::new(Snapshot::new(0, None, Vec::new()))),
            running: Mutex::new(()),
            installed: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The partner.
    pub fn partner(&self) -> Partner {
        self.source.partner()
    }

    fn entity(&self) -> &'static str {
        E::KIND.name()
    }

    /// Told of each new snapshot's version as it is served.
    pub fn installed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.installed.subscribe()
    }

    /// The records served now.
    pub fn snapshot(&self) -> Arc<Snapshot<E>> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    /// Loads the stored records into memory; returns how many there are.
    pub async fn load(&self) -> Result<usize, StoreError> {
        let last = self
            .store
            .last_update(self.partner().id(), self.entity())
            .await?;
        self.load_sync(last.map(|(id, _)| id)).await
    }

    /// Loads the stored records, those of sync `sync_id` or later, reading
    /// them one at a time.
    async fn load_sync(&self, sync_id: Option<i64>) -> Result<usize, StoreError> {
        let mut records = Vec::new();
        let mut arena = E::Arena::default();
        let partner = self.partner();
        self.store
            .each_in_feed(partner.id(), self.entity(), |p| {
                match serde_json::from_str::<E>(p) {
                    Ok(r) => records.push(r.hold(&mut arena)),
                    // A stored record the current model cannot read is
                    // skipped, not fatal: the next sync rewrites it.
                    Err(e) => {
                        tracing::warn!(partner = %partner, error = %e, "stored record unreadable")
                    }
                }
            })
            .await?;
        Ok(self.install(sync_id, records))
    }

    /// Serves `records`, those of sync `sync_id`; returns how many.
    fn install(&self, sync_id: Option<i64>, mut records: Vec<E::Record>) -> usize {
        // In identifier order, whatever the store's collation, so that
        // every replica serves the same order.
        records.sort_unstable_by(|a, b| E::record_id(a).cmp(E::record_id(b)));
        // Records kept from the pulled ones may sit in the pulled batch's
        // allocation (collected in place), sized for the larger entities:
        // a feed of 100,000 offers would hold 20 MB it does not use.
        records.shrink_to_fit();
        let n = records.len();
        let version = self.snapshot().version + 1;
        *self.snapshot.write().expect("snapshot lock") =
            Arc::new(Snapshot::new(version, sync_id, records));
        self.store.data_changed();
        self.installed.send_replace(version);
        crate::memory::give_back_freed_memory();
        n
    }

    /// Pulls the feed now, after the sync under way in this replica or
    /// another, if any, and stores what changed.
    pub async fn sync_once(&self) -> Result<SyncRun, StoreError> {
        Ok(self
            .sync(None)
            .await?
            .expect("a sync without a freshness bound pulls"))
    }

    /// Pulls the feed unless a replica sharing the store synced it less
    /// than `fresh` ago; this one then serves what that one stored.
    /// Returns the run when this replica pulled.
    pub async fn sync_if_due(&self, fresh: Duration) -> Result<Option<SyncRun>, StoreError> {
        self.sync(Some(fresh)).await
    }

    #[tracing::instrument(name = "feed.sync", skip_all, fields(partner = self.partner().id()))]
    async fn sync(&self, fresh: Option<Duration>) -> Result<Option<SyncRun>, StoreError> {
        let _running = self.running.lock().await;
        let name = format!("sync:{}:{}", self.partner().id(), self.entity());
        let lease = self.store.leases().acquire(&name, LEASE_POLL).await?;
        let outcome = self.sync_leased(fresh).await;
        if let Err(e) = lease.release().await {
            // The lease connection is gone, and the lease with it.
            tracing::warn!(lease = name, error = %e, "lease not released");
        }
        outcome
    }

    /// The sync, its lease held.
    async fn sync_leased(&self, fresh: Option<Duration>) -> Result<Option<SyncRun>, StoreError> {
        let partner = self.partner();
        // Catch up with what another replica stored, so that a conditional
        // pull is answered against the records served.
        let last_update = self.store.last_update(partner.id(), self.entity()).await?;
        let stored_id = last_update.as_ref().map(|(id, _)| *id);
        if stored_id != self.snapshot().sync_id {
            let n = self.load_sync(stored_id).await?;
            tracing::info!(partner = %partner, records = n, "feed loaded as another replica stored it");
        }
        if let Some(fresh) = fresh {
            if let Some(last) = self.store.runs(partner.id(), self.entity(), 1).await?.pop() {
                let age = Utc::now().timestamp_micros() - last.id;
                // A recent failure is not followed by a replica with
                // nothing to serve: it tries again rather than wait an
                // interval unready.
                let nothing_to_serve =
                    last.outcome == "failed" && self.snapshot().records.is_empty();
                if u128::try_from(age).unwrap_or(0) < fresh.as_micros() && !nothing_to_serve {
                    self.follow(&last);
                    return Ok(None);
                }
            }
        }
        self.pull(last_update.and_then(|(_, etag)| etag))
            .await
            .map(Some)
    }

    /// Reports a sync another replica ran, as if this one had.
    fn follow(&self, run: &SyncRun) {
        let partner = self.partner();
        tracing::debug!(partner = %partner, replica = run.replica, outcome = run.outcome, "feed synced by another replica");
        if run.outcome != "failed" {
            self.health
                .success(partner, Some(self.snapshot().records.len() as u64));
        }
        if run.outcome == "updated" {
            self.health
                .rejections(partner, rejected_count(run.rejected));
        }
        if let Some(code) = &run.error_code {
            let code = passerelle_connectors::ConnectorError::CODES
                .iter()
                .find(|c| *c == code)
                .copied()
                .unwrap_or("PARTNER_UNAVAILABLE");
            self.health
                .failure_with(partner, code, run.error.clone().unwrap_or_default());
        }
    }

    /// Pulls the feed once and stores what changed; `etag` is the stored
    /// feed's.
    async fn pull(&self, etag: Option<String>) -> Result<SyncRun, StoreError> {
        let started = Instant::now();
        let started_at = Utc::now();
        let partner = self.partner();
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
            notes: "[]".into(),
            error: None,
            error_code: None,
            etag: etag.clone(),
            replica: Some(crate::store::lease::replica().to_owned()),
        };
        // An empty snapshot with a stored ETag (a restart) must not be
        // answered "not modified": pull unconditionally then.
        let condition = if self.snapshot().records.is_empty() {
            None
        } else {
            etag.as_deref()
        };
        let pulled = match self.source.pull(condition).await {
            Ok(FeedPull::NotModified) => Ok(None),
            Ok(FeedPull::Fetched { etag, batch, bytes }) => {
                Ok(Some((etag, FeedRecords::whole(partner, batch, bytes))))
            }
            Ok(FeedPull::Streamed { etag, records }) => Ok(Some((etag, records))),
            Err(e) => Err(e),
        };
        let stored = match pulled {
            Ok(Some((etag, records))) => {
                self.store_pulled(&mut run, etag, records, started).await?
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match stored {
            Err(e) => {
                run.duration_ms = started.elapsed().as_millis() as i64;
                tracing::warn!(partner = %partner, code = e.code(), error = %e, "sync failed, serving the last good data");
                self.health.failure(&e);
                run.outcome = "failed".into();
                run.error = Some(e.to_string());
                run.error_code = Some(e.code().into());
                run.records = self.snapshot().records.len() as i64;
                self.store.record_run(&run).await?;
            }
            Ok(None) => {
                run.duration_ms = started.elapsed().as_millis() as i64;
                run.outcome = "not_modified".into();
                run.records = self.snapshot().records.len() as i64;
                self.store.record_run(&run).await?;
                self.health.success(partner, Some(run.records as u64));
            }
            Ok(Some(stored)) => {
                self.health.success(partner, Some(stored as u64));
                // One rule for every partner: `DEGRADED` while its latest
                // answer had records rejected.
                self.health
                    .rejections(partner, rejected_count(run.rejected));
                metrics::counter!("passerelle_records_rejected_total", "partner" => partner.id())
                    .increment(run.rejected as u64);
                metrics::gauge!("passerelle_feed_records", "partner" => partner.id(), "entity" => self.entity()).set(stored as f64);
                if let Some(t) = &run.error {
                    self.health
                        .failure_with(partner, "PARTNER_BAD_RESPONSE", t.clone());
                }
            }
        }
        metrics::counter!("passerelle_sync_runs_total", "partner" => partner.id(), "outcome" => run.outcome.clone()).increment(1);
        metrics::histogram!("passerelle_sync_duration_seconds", "partner" => partner.id())
            .record(started.elapsed().as_secs_f64());
        Ok(run)
    }

    /// Stores a pulled feed's records as they come, and serves them with
    /// those of the records served until now that are kept (rejected this
    /// time, or all of them when the feed was truncated).
    ///
    /// Each chunk of records is written to the store and packed for the
    /// snapshot as it comes, so that the feed is held neither whole as
    /// records nor as JSON. The store's transaction is committed, and the
    /// new snapshot served, only once the feed was read to its end: a
    /// download that breaks off stores nothing and changes nothing served
    /// (`Ok(Err(..))`). Fills in `run` when the records were stored, and
    /// returns how many are served (`Ok(Ok(Some(..)))`).
    async fn store_pulled(
        &self,
        run: &mut SyncRun,
        etag: Option<String>,
        mut feed: FeedRecords<E>,
        started: Instant,
    ) -> Result<Result<Option<usize>, ConnectorError>, StoreError> {
        let mut sync = self.store.begin_sync(run).await?;
        let mut arena = E::Arena::default();
        let mut records: Vec<E::Record> = Vec::new();
        let mut rejected = Vec::new();
        let end = loop {
            match feed.next().await {
                Ok(FeedPiece::Records(chunk)) => {
                    sync.write(chunk.records.iter().map(row::<E>)).await?;
                    records.extend(chunk.records.into_iter().map(|r| r.hold(&mut arena)));
                    rejected.extend(chunk.rejected);
                }
                Ok(FeedPiece::End(end)) => break end,
                // The transaction is dropped: rolled back.
                Err(e) => return Ok(Err(e)),
            }
        };
        let complete = end.truncated.is_none();
        let kept: Vec<String> = rejected
            .iter()
            .filter_map(|e: &passerelle_mappings::RecordError| e.partner_id.clone())
            .collect();
        run.outcome = "updated".into();
        run.etag = etag;
        run.rejected = rejected.len() as i64;
        run.rejects =
            serde_json::to_string(&rejected.iter().take(KEPT_REJECTS).collect::<Vec<_>>())
                .expect("errors serialize");
        run.notes = serde_json::to_string(&end.notices).expect("sentences serialize");
        if let Some(t) = &end.truncated {
            run.error = Some(format!("feed truncated: {t}"));
            run.error_code = Some("PARTNER_BAD_RESPONSE".into());
            // A truncated feed cannot be trusted for the next conditional
            // pull.
            run.etag = None;
        }
        run.records = records.len() as i64;
        run.duration_ms = started.elapsed().as_millis() as i64;
        sync.commit(run, &kept, complete).await?;
        // What the store now holds, built from what was pulled rather than
        // read back: the records pulled, and of the records served until
        // now those kept.
        let carried: Vec<E::Record> = {
            let pulled: std::collections::HashSet<&str> =
                records.iter().map(|r| E::record_id(r)).collect();
            let kept: std::collections::HashSet<&str> = kept.iter().map(String::as_str).collect();
            self.snapshot()
                .records
                .iter()
                .filter(|r| {
                    !pulled.contains(E::record_id(r))
                        && (!complete || kept.contains(E::record_id(r)))
                })
                .cloned()
                .collect()
        };
        records.extend(carried);
        let stored = self.install(Some(run.id), records);
        tracing::info!(
            partner = %self.partner(),
            records = stored,
            rejected = run.rejected,
            bytes = end.bytes,
            duration_ms = run.duration_ms,
            "feed synced"
        );
        Ok(Ok(Some(stored)))
    }

    /// Syncs every `interval` (unless another replica just did), for ever;
    /// the first turn comes at once, or after one interval when
    /// `wait_first`.
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
                // A sync the store failed (a restart, a failover, a full
                // disk) is tried again soon, more slowly each time, rather
                // than at the next turn, an interval away.
                let mut retry = RETRY_FIRST;
                while let Err(e) = self.sync_if_due(fresh_for(interval)).await {
                    if retry >= interval {
                        tracing::error!(partner = %self.partner(), error = %e, "sync could not be stored");
                        break;
                    }
                    tracing::error!(partner = %self.partner(), error = %e, retry_in_s = retry.as_secs(), "sync could not be stored; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(RETRY_MAX);
                }
            }
        })
    }
}

/// A sync's rejected records, as the partner's health counts them.
fn rejected_count(rejected: i64) -> Option<usize> {
    usize::try_from(rejected).ok().filter(|&n| n > 0)
}
