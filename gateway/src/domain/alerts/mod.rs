//! Offers pushed to candidates (the plan's action 9): new offers detected
//! once across every exchange, handed live to subscribers and written in
//! the outbox of the saved alerts they match, whose webhooks are then
//! delivered.

pub mod detect;
pub mod index;
pub mod live;
pub mod saved;
pub mod target;
pub mod webhook;

use std::sync::Arc;

pub use crate::config::AlertSettings;

/// What the API needs to push offers: the live subscribers, the guard
/// of webhook targets and how many alerts a client keeps.
pub struct Alerting {
    /// The live subscribers of this process.
    pub live: Arc<live::LiveSubscribers>,
    /// Which webhook targets are allowed.
    pub guard: target::TargetGuard,
    /// The most saved alerts one client keeps (`alerts.max_per_client`).
    pub max_per_client: usize,
}

/// Microseconds since the epoch, now.
pub(crate) fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
