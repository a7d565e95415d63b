//! Synced feeds: pulled on a schedule, stored, served from memory.
//!
//! A feed's records live in the store; the gateway serves them from a
//! snapshot in memory, loaded from the store at start and replaced after
//! each sync that changed something. A failed pull changes nothing: the
//! last good state keeps being served.
//!
//! Replicas sharing a store take turns: a sync holds the feed's lease (see
//! [`crate::store::lease`]), and a replica whose turn comes less than an interval
//! after another's sync does not pull but loads what that one stored. So a
//! feed is pulled once per interval whatever the number of replicas.

mod feed;
mod lookup;
mod snapshot;

pub use feed::{fresh_for, SyncedFeed};
pub use lookup::{record_at, record_of, records_of, AnyFeed};
pub use snapshot::{InMemory, Snapshot};
