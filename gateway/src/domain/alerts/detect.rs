//! Detecting new offers: the merged offers of every exchange, compared
//! with the records already announced. An offer is new when none of its
//! records has been seen: one published on the CCI and the CMA is one new
//! offer, and a copy appearing later on another exchange is not new.
//!
//! One replica detects at a time (a lease, as syncs take turns); it records
//! the batch, what it marks as seen and the deliveries it owes in one
//! transaction, then hands the offers to its live subscribers. The other
//! replicas hear of the batch (PostgreSQL `LISTEN`) and hand it to theirs.
//! The first detection on an empty store only records what exists: a new
//! gateway does not announce the whole catalogue.

use std::hash::Hasher;
use std::sync::Arc;

use chrono::Utc;
use passerelle_schema::{Offer, OfferStatus, Partner};
use rustc_hash::FxHasher;
use tokio::sync::Notify;

use super::live::LiveSubscribers;
use super::saved::SavedAlerts;
use crate::domain::offers::OfferService;
use crate::partners::packed::{OfferSummary, Sources};
use crate::store::alerts::NewBatch;
use crate::store::{Store, StoreError};

/// How a webhook shows an offer.
pub type RenderOffer = Arc<dyn Fn(&Offer) -> serde_json::Value + Send + Sync>;

/// Records marked seen at once from which the memory a detection used is
/// given back to the system (a baseline, a new feed).
const LARGE_BATCH: usize = 10_000;

/// The lease detections take turns on.
const LEASE: &str = "offers.detect";

/// Detects new offers and announces them.
pub struct Detector {
    offers: Arc<OfferService>,
    store: Store,
    live: Arc<LiveSubscribers>,
    saved: SavedAlerts,
    render: RenderOffer,
    digest_hour_utc: u32,
    seen: tokio::sync::Mutex<Seen>,
    /// The last batch handed to this process's subscribers.
    published: std::sync::Mutex<i64>,
    /// Wakes a detection at once (a feed's new snapshot).
    kick: Notify,
    /// When the detection was last asked for.
    kicked_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Woken when deliveries were written.
    pub deliveries_written: Arc<Notify>,
}

/// The records already announced, by hash, and the last batch read.
#[derive(Default)]
struct Seen {
    keys: SeenKeys,
    last_batch: i64,
}

/// Hashes of records, kept sorted: 8 bytes a record, half what a hash set
/// takes for the catalogue's 100,000, and looked up as fast for a
/// detection that reads each record once.
#[derive(Default)]
struct SeenKeys(Vec<u64>);

impl SeenKeys {
    fn contains(&self, key: u64) -> bool {
        self.0.binary_search(&key).is_ok()
    }

    /// Adds `keys`, keeping the list sorted and without repeats.
    fn extend(&mut self, keys: impl IntoIterator<Item = u64>) {
        self.0.extend(keys);
        self.0.sort_unstable();
        self.0.dedup();
        self.0.shrink_to_fit();
    }
}

/// What a detection found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The batch recorded, if any.
    pub batch: Option<i64>,
    /// New offers announced.
    pub offers: usize,
    /// Deliveries written to the outbox (digests included).
    pub deliveries: usize,
    /// Offers handed to live subscribers.
    pub notified: usize,
    /// Whether this was the first detection, which announces nothing.
    pub baseline: bool,
}

/// The hash a record is known by: of its exchange and its identifier
/// there, as `source_key` writes them, hashed without writing them.
fn source_hash(partner: &str, partner_id: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(partner.as_bytes());
    h.write_u8(b':');
    h.write(partner_id.as_bytes());
    h.finish()
}

/// The hash of a record stored as seen, `partner:identifier`.
fn key_hash(key: &str) -> u64 {
    let (partner, partner_id) = key.split_once(':').unwrap_or((key, ""));
    source_hash(partner, partner_id)
}

/// A record as stored seen: `partner:identifier`.
fn source_key(partner: Partner, partner_id: &str) -> String {
    format!("{partner}:{partner_id}")
}

impl Detector {
    /// A detector over the offers of every exchange.
    pub fn new(
        offers: Arc<OfferService>,
        store: Store,
        live: Arc<LiveSubscribers>,
        render: RenderOffer,
        digest_hour_utc: u32,
    ) -> Self {
        Self {
            offers,
            store,
            live,
            saved: SavedAlerts::default(),
            render,
            digest_hour_utc,
            seen: Default::default(),
            published: std::sync::Mutex::new(0),
            kick: Notify::new(),
            kicked_at: std::sync::Mutex::new(None),
            deliveries_written: Arc::new(Notify::new()),
        }
    }

    /// Asks for a detection now (a feed's snapshot changed).
    pub fn kick(&self) {
        self.kicked_at
            .lock()
            .expect("kick lock")
            .get_or_insert_with(std::time::Instant::now);
        self.kick.notify_one();
    }

    /// The live subscribers.
    pub fn live(&self) -> &Arc<LiveSubscribers> {
        &self.live
    }

    /// Detects, if no other replica is: `None` when another holds the
    /// lease.
    pub async fn detect_once(&self) -> Result<Option<Detected>, StoreError> {
        let Some(lease) = self.store.leases().try_acquire(LEASE).await? else {
            return Ok(None);
        };
        let detected = self.detect_held().await;
        lease.release().await?;
        detected.map(Some)
    }

    async fn detect_held(&self) -> Result<Detected, StoreError> {
        let started = self
            .kicked_at
            .lock()
            .expect("kick lock")
            .take()
            .unwrap_or_else(std::time::Instant::now);
        let mut seen = self.seen.lock().await;
        // What other replicas announced since this one last looked (all of
        // it after a restart), hashed as the rows come.
        let mut read = Vec::new();
        let last = self
            .store
            .seen_after(seen.last_batch, |k| read.push(key_hash(k)))
            .await?;
        seen.keys.extend(read);
        seen.last_batch = seen.last_batch.max(last);
        let last_batch = self.store.last_batch().await?;
        // The first detection on an empty store only records what exists:
        // no offer of it is announced, so none is taken out of its packed
        // form.
        let baseline = last_batch == 0;
        let searched_at = std::time::Instant::now();
        let mut new: Vec<Arc<Offer>> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        // Every offer once, as the exchanges hold it: no list of the
        // catalogue is built for this.
        self.offers
            .each_offer(|s, whole| {
                if s.status != OfferStatus::Active {
                    return;
                }
                // Records are compared by hash, their keys written only
                // for those not seen yet.
                let unseen = |p: Partner, id: &str| !seen.keys.contains(source_hash(p.id(), id));
                match s.sources {
                    Sources::One(p) => {
                        if unseen(p, s.partner_id) {
                            sources.push(source_key(p, s.partner_id));
                            if !baseline {
                                new.push(whole());
                            }
                        }
                    }
                    Sources::Many(all) => {
                        let before = sources.len();
                        sources.extend(
                            all.iter()
                                .filter(|x| unseen(x.partner, &x.partner_id))
                                .map(|x| source_key(x.partner, &x.partner_id)),
                        );
                        let added = sources.len() - before;
                        // New when none of its records was seen.
                        if added > 0 && added == all.len() && !baseline {
                            new.push(whole());
                        }
                    }
                }
            })
            .await;
        // Announced newest first, as searches answer.
        new.sort_by(|a, b| {
            OfferSummary::of(a)
                .order_key()
                .cmp(&OfferSummary::of(b).order_key())
        });
        if sources.is_empty() {
            return Ok(Detected::default());
        }
        let search_ms = searched_at.elapsed().as_secs_f64() * 1000.0;
        let matched_at = std::time::Instant::now();
        let now = Utc::now();
        let id = now.timestamp_micros().max(last_batch + 1);
        let owed = self
            .saved
            .owed(&self.store, id, now, &new, self.digest_hour_utc)
            .await?;
        let rendered: Vec<serde_json::Value> = new.iter().map(|o| (self.render)(o)).collect();
        let batch = NewBatch {
            id,
            detected_at: now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            replica: crate::store::lease::replica().to_owned(),
            offers: serde_json::to_string(&new).expect("offers serialize"),
            rendered: serde_json::to_string(&rendered).expect("offers serialize"),
            sources,
            sets: owed.sets,
            deliveries: owed.deliveries,
            digests: owed.digests,
        };
        let match_ms = matched_at.elapsed().as_secs_f64() * 1000.0;
        let written_at = std::time::Instant::now();
        self.store.record_batch(&batch).await?;
        let write_ms = written_at.elapsed().as_secs_f64() * 1000.0;
        seen.keys.extend(batch.sources.iter().map(|k| key_hash(k)));
        seen.last_batch = id;
        drop(seen);
        let large = batch.sources.len() >= LARGE_BATCH;
        let written = batch.deliveries.len() + batch.digests.len();
        drop(batch);
        if large {
            // The catalogue's records named as text, the SQL written for
            // them: freed, and given back rather than kept by the
            // allocator.
            crate::memory::give_back_freed_memory();
        }
        if written > 0 {
            self.deliveries_written.notify_one();
        }
        let published_at = std::time::Instant::now();
        let notified = self.publish_local(id, &new);
        let publish_ms = published_at.elapsed().as_secs_f64() * 1000.0;
        metrics::counter!("passerelle_offers_new_total").increment(new.len() as u64);
        // From the snapshot that asked for it (or the poll) to every
        // subscriber handed its offers and the outbox written.
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        metrics::histogram!("passerelle_offers_detection_seconds").record(elapsed_ms / 1000.0);
        tracing::info!(
            batch = id,
            offers = new.len(),
            deliveries = written,
            notified,
            baseline,
            elapsed_ms,
            search_ms,
            match_ms,
            write_ms,
            publish_ms,
            "new offers detected"
        );
        Ok(Detected {
            batch: Some(id),
            offers: new.len(),
            deliveries: written,
            notified,
            baseline,
        })
    }

    /// Hands batch `id` to this process's subscribers, once.
    fn publish_local(&self, id: i64, offers: &[Arc<Offer>]) -> usize {
        let mut published = self.published.lock().expect("published lock");
        if id <= *published {
            return 0;
        }
        *published = id;
        self.live.publish(offers).notified
    }

    /// Hands this process's subscribers the batches other replicas
    /// recorded since the last one handed.
    pub async fn follow_once(&self) -> Result<usize, StoreError> {
        let from = *self.published.lock().expect("published lock");
        let mut notified = 0;
        for (id, offers) in self.store.batches_after(from).await? {
            let offers: Vec<Arc<Offer>> = match serde_json::from_str::<Vec<Offer>>(&offers) {
                Ok(o) => o.into_iter().map(Arc::new).collect(),
                Err(e) => {
                    tracing::error!(batch = id, error = %e, "a batch of new offers does not read back");
                    Vec::new()
                }
            };
            notified += self.publish_local(id, &offers);
        }
        Ok(notified)
    }

    /// Starts after the batches already recorded: a subscriber is told of
    /// offers detected from now on.
    pub async fn start_from_now(&self) -> Result<(), StoreError> {
        let last = self.store.last_batch().await?;
        let mut published = self.published.lock().expect("published lock");
        *published = (*published).max(last);
        Ok(())
    }

    /// Detects every `interval`, or at once when kicked.
    pub async fn run(self: Arc<Self>, interval: std::time::Duration) {
        match self.saved.warm(&self.store).await {
            Ok((alerts, filters)) => tracing::info!(alerts, filters, "saved alerts indexed"),
            Err(e) => {
                tracing::warn!(error = %e, "saved alerts unreadable; indexed at the first batch")
            }
        }
        loop {
            if let Err(e) = self.detect_once().await {
                tracing::error!(error = %e, "new offers could not be detected");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.kick.notified() => {}
            }
        }
    }

    /// Follows the batches other replicas record (PostgreSQL), checking
    /// also every `interval` in case a notification was lost.
    pub async fn follow(self: Arc<Self>, interval: std::time::Duration) {
        loop {
            let mut listener = match self.store.listen_for_batches().await {
                Ok(Some(l)) => l,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for new offers; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            loop {
                if let Err(e) = self.follow_once().await {
                    tracing::warn!(error = %e, "new offers of other replicas unreadable");
                }
                match tokio::time::timeout(interval, listener.recv()).await {
                    Ok(Ok(_)) | Err(_) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "the listener of new offers broke; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}
