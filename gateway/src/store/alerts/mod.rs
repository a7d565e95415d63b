//! The tables of offers pushed to candidates: the records already
//! announced, the batches of new offers, the saved alerts and the outbox
//! of their webhook deliveries.
//!
//! A batch of new offers is recorded in one transaction with the records
//! it marks as seen and the deliveries it owes: a crash loses all of it or
//! none, so an offer is announced once and every delivery it owes is
//! written. On PostgreSQL the same transaction notifies the other replicas
//! (`NOTIFY passerelle_offers`), which read the batch back.

mod batches;
mod outbox;
mod saved;

pub use batches::{DigestAddition, NewBatch, NewDelivery, RenderedRow, OFFERS_CHANNEL};
pub use outbox::{Attempted, DeliveryRow};
pub use saved::AlertRow;

#[cfg(test)]
mod tests;
