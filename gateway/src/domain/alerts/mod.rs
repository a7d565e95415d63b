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

pub use crate::config::AlertSettings;

/// Microseconds since the epoch, now.
pub(crate) fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
