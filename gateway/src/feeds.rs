//! The synced feeds of partners other than the offer exchanges.

use std::sync::Arc;

use passerelle_schema::Partner;

use crate::events::{EventsFeed, SitesFeed};
use crate::formations::CarifFeed;
use crate::mobility::ErasmusFeed;

/// Every configured synced feed.
#[derive(Default)]
pub struct Feeds {
    /// The training catalogue.
    pub carif: Option<Arc<CarifFeed>>,
    /// The Erasmus+ export.
    pub erasmus: Option<Arc<ErasmusFeed>>,
    /// The directory of orientation sites.
    pub sites: Option<Arc<SitesFeed>>,
    /// The sites' events.
    pub events: Option<Arc<EventsFeed>>,
}

/// A synced feed, for health and readiness: its partner, entity and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedSize {
    /// The partner.
    pub partner: Partner,
    /// The entity its records are.
    pub entity: &'static str,
    /// Records served.
    pub records: usize,
}

impl Feeds {
    /// The size of every configured feed.
    pub fn sizes(&self) -> Vec<FeedSize> {
        let mut out = Vec::new();
        if let Some(f) = &self.carif {
            out.push(FeedSize {
                partner: Partner::Carif,
                entity: "formation",
                records: f.snapshot().records.len(),
            });
        }
        if let Some(f) = &self.erasmus {
            out.push(FeedSize {
                partner: Partner::Erasmus,
                entity: "mobility",
                records: f.snapshot().records.len(),
            });
        }
        if let Some(f) = &self.events {
            out.push(FeedSize {
                partner: Partner::Spro,
                entity: "event",
                records: f.snapshot().records.len(),
            });
        }
        out
    }
}
