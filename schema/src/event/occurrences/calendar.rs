//! Times on the calendar of an event's zone: the zone an event time
//! follows, where an event ends by default or after a duration, and days
//! after an instant at the same local time across changes of time.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::event::{EventDuration, EventTime};

impl EventTime {
    /// The time zone its recurrences follow: Paris for a day.
    pub fn zone(self) -> Tz {
        match self {
            EventTime::Date { .. } => chrono_tz::Europe::Paris,
            EventTime::DateTime { tz, .. } => tz,
        }
    }
}

impl EventTime {
    /// When an event starting at it ends by default (RFC 5545, 3.6.1):
    /// the next day for a day, at once for an instant.
    pub fn default_end(self) -> EventTime {
        match self {
            EventTime::Date { date } => EventTime::Date {
                date: date.succ_opt().unwrap_or(date),
            },
            instant => instant,
        }
    }
}

impl EventDuration {
    /// When an event starting at `start` and lasting this long ends: a day
    /// for whole days after a day.
    pub fn after(self, start: EventTime) -> EventTime {
        match start {
            EventTime::Date { date } if self.seconds == 0 => EventTime::Date {
                date: date
                    .checked_add_days(chrono::Days::new(self.days.into()))
                    .unwrap_or(date),
            },
            _ => EventTime::DateTime {
                at: {
                    let end = days_after(start.instant(), self.days, start.zone());
                    end.checked_add_signed(chrono::Duration::seconds(self.seconds.into()))
                        .unwrap_or(end)
                },
                tz: start.zone(),
            },
        }
    }
}

/// `days` days of `tz`'s calendar after `at`, at the same local time (or
/// the first that exists, across a change of time).
pub(super) fn days_after(at: DateTime<Utc>, days: u32, tz: Tz) -> DateTime<Utc> {
    let days = chrono::Days::new(days.into());
    let Some(local) = at.with_timezone(&tz).naive_local().checked_add_days(days) else {
        return DateTime::<Utc>::MAX_UTC;
    };
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| at.checked_add_days(days).unwrap_or(at), |d| d.to_utc())
}
