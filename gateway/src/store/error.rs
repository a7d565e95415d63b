//! A failure of the store, and whether it means the store is unavailable.

use crate::store::lease::LeaseError;

/// A failure of the store. The message is for operators' logs; clients see
/// a code only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be opened or reached.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The store is known not to answer: the request was not tried.
    #[error("store unavailable: it does not answer ({0})")]
    Down(&'static str),
    /// The schema could not be brought up to date.
    #[error("store migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// The data directory could not be created.
    #[error("cannot create {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the store itself fails (unreachable, full, read-only,
    /// broken), so that the request may succeed later unchanged, rather
    /// than a statement or the data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Down(_) | StoreError::DataDir { .. } => true,
            StoreError::Query(e) => crate::store::watch::is_unavailable(e),
            StoreError::Migration(_) => false,
        }
    }
}

impl From<LeaseError> for StoreError {
    fn from(e: LeaseError) -> Self {
        StoreError::Query(e.0)
    }
}
