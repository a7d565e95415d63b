//! Saved alerts, indexed for matching: the index is rebuilt when an alert
//! is created, deleted or disabled on any replica (the store's generation
//! moves), and the deliveries a batch of new offers owes are computed from
//! it, one per alert matched (all its offers of the batch), or one digest
//! per alert and day. Alerts with the same filter are matched once, and
//! the offers a delivery carries are a set of places in its batch, stored
//! once for every delivery that carries the same ones: the outbox stays
//! small however many alerts an offer matches.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use passerelle_schema::Offer;
use rustc_hash::FxHashMap;

use super::index::{FilterIndex, Group};
use crate::domain::offers::OfferFilter;
use crate::store::alerts::{AlertRow, DigestAddition, NewDelivery};
use crate::store::{Store, StoreError};

/// How an alert is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// A delivery per batch of new offers matched.
    Immediate,
    /// One delivery a day, of the day before's offers.
    Daily,
}

impl Digest {
    /// Its stored name.
    pub fn name(self) -> &'static str {
        match self {
            Digest::Immediate => "IMMEDIATE",
            Digest::Daily => "DAILY",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "IMMEDIATE" => Some(Digest::Immediate),
            "DAILY" => Some(Digest::Daily),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Indexed {
    id: String,
    digest: Digest,
}

/// Active alerts, indexed.
#[derive(Debug, Default)]
struct AlertIndex {
    index: FilterIndex<u32>,
    alerts: Vec<Indexed>,
}

/// The saved alerts, as the detecting replica matches them.
#[derive(Debug, Default)]
pub struct SavedAlerts {
    cached: tokio::sync::Mutex<Option<(i64, Arc<AlertIndex>)>>,
}

/// What a batch of new offers owes the alerts it matches.
#[derive(Debug, Default)]
pub struct Owed {
    /// The sets of offers the deliveries carry, as places in the batch;
    /// a delivery names one by its place here.
    pub sets: Vec<Vec<u32>>,
    /// Deliveries due at once.
    pub deliveries: Vec<NewDelivery>,
    /// Offers added to digests.
    pub digests: Vec<DigestAddition>,
}

impl SavedAlerts {
    /// Builds the index now, so that the first batch does not wait for it:
    /// how many alerts, and how many distinct filters they have.
    pub async fn warm(&self, store: &Store) -> Result<(usize, usize), StoreError> {
        let index = self.current(store).await?;
        Ok((index.alerts.len(), index.index.groups()))
    }

    async fn current(&self, store: &Store) -> Result<Arc<AlertIndex>, StoreError> {
        let generation = store.alerts_generation().await?;
        let mut cached = self.cached.lock().await;
        if let Some((g, index)) = cached.as_ref() {
            if *g == generation {
                return Ok(index.clone());
            }
        }
        let rows = store.active_alerts().await?;
        let index = Arc::new(build(&rows));
        *cached = Some((generation, index.clone()));
        Ok(index)
    }

    /// The deliveries batch `batch` (detected at `at`) owes: for each
    /// alert matched, the positions of its offers in the batch.
    pub async fn owed(
        &self,
        store: &Store,
        batch: i64,
        at: DateTime<Utc>,
        offers: &[Arc<Offer>],
        digest_hour_utc: u32,
    ) -> Result<Owed, StoreError> {
        let mut owed = Owed::default();
        if offers.is_empty() {
            return Ok(owed);
        }
        let index = self.current(store).await?;
        if index.alerts.is_empty() {
            return Ok(owed);
        }
        // Matching is the work of a large batch: off the runtime, on every
        // core.
        let per_offer = {
            let index = index.clone();
            let offers = offers.to_vec();
            tokio::task::spawn_blocking(move || match_all(&index.index, &offers))
                .await
                .expect("matching does not panic")
        };
        // The places of the offers each group of alerts matches, in order.
        let mut matched: FxHashMap<Group, Vec<u32>> = FxHashMap::default();
        for (j, groups) in (0u32..).zip(per_offer) {
            for g in groups {
                matched.entry(g).or_default().push(j);
            }
        }
        let day = at.date_naive();
        let digest_due = (day + Duration::days(1))
            .and_time(NaiveTime::from_hms_opt(digest_hour_utc.min(23), 0, 0).expect("an hour"))
            .and_utc()
            .timestamp_micros();
        let mut groups: Vec<(Group, Vec<u32>)> = matched.into_iter().collect();
        groups.sort_unstable_by_key(|(g, _)| *g);
        let mut set_of: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        for (g, places) in groups {
            let count = places.len() as u32;
            let set = match set_of.get(&places) {
                Some(&n) => n,
                None => {
                    let n = owed.sets.len() as u32;
                    owed.sets.push(places.clone());
                    set_of.insert(places, n);
                    n
                }
            };
            for &k in index.index.keys(g) {
                let alert = &index.alerts[k as usize];
                match alert.digest {
                    Digest::Immediate => owed.deliveries.push(NewDelivery {
                        id: format!("msg_{batch}_{}", alert.id),
                        alert_id: alert.id.clone(),
                        sets: vec![(batch, set)],
                        offers: count,
                        due_us: batch,
                    }),
                    Digest::Daily => owed.digests.push(DigestAddition {
                        id: format!("msg_digest_{}_{}", alert.id, day.format("%Y%m%d")),
                        alert_id: alert.id.clone(),
                        sets: vec![(batch, set)],
                        offers: count,
                        due_us: digest_due,
                    }),
                }
            }
        }
        Ok(owed)
    }
}

/// The groups of alerts each offer matches, the offers split between the
/// cores.
fn match_all(index: &FilterIndex<u32>, offers: &[Arc<Offer>]) -> Vec<Vec<Group>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = offers.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = offers
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|o| index.matching(o)).collect::<Vec<_>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("matching does not panic"))
            .collect()
    })
}

fn build(rows: &[AlertRow]) -> AlertIndex {
    let mut out = AlertIndex::default();
    for row in rows {
        let (Ok(filter), Some(digest)) = (
            serde_json::from_str::<OfferFilter>(&row.filter),
            Digest::parse(&row.digest),
        ) else {
            tracing::warn!(alert = %row.id, "a saved alert does not read back: skipped");
            continue;
        };
        let k = out.alerts.len() as u32;
        out.alerts.push(Indexed {
            id: row.id.clone(),
            digest,
        });
        out.index.insert(k, filter);
    }
    out
}
