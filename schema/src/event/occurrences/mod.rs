//! The occurrences of an event within a window: its rule's, its added
//! dates', less its skipped dates, with its overrides in place.
//!
//! The event's rule is read once and expanded over a window longer than
//! asked (`rule`); the occurrences of a window are its rule's starts with
//! its added and skipped dates and its overrides (`window`), each lasting
//! as the event does on its zone's calendar (`calendar`). The versions and
//! overrides read from one calendar are gathered into their events first
//! (`gather`).

mod calendar;
mod gather;
mod rule;
#[cfg(test)]
mod tests;
mod window;

pub use rule::{rule_set, ReadRule};

use chrono::{DateTime, Utc};

use super::EventStatus;

/// One occurrence of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends (exclusive).
    pub end: DateTime<Utc>,
    /// Whether it lasts whole days.
    pub all_day: bool,
    /// Whether it takes place: an override's status, or the event's; every
    /// occurrence of a cancelled event is cancelled.
    pub status: EventStatus,
    /// The index in the event's `overrides` of the override it is, when it
    /// is one: its title, place and description are the override's.
    pub detail: Option<usize>,
}
