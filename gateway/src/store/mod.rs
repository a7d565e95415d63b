//! The store: synced feeds and their sync history, in SQLite (embedded, the
//! default) or PostgreSQL (production), with one set of migrations.

pub mod alerts;
mod error;
mod feeds;
pub mod lease;
mod pool;
pub mod testing;
pub mod watch;

pub use crate::store::watch::StoreHealth;
pub use error::StoreError;
pub use feeds::{FeedRecord, SyncRun, SyncWrite};
pub use pool::Store;

#[cfg(test)]
mod tests;
