//! An event's recurrence rule: read as calendar software writes it,
//! against the event's own start, kept once read, and expanded over a
//! window longer than asked so that the next windows are read from it.

use chrono::{DateTime, TimeZone, Utc};

use crate::event::{Event, EventTime};

/// An event's recurrence rule as read, kept once read (reading it took most
/// of the time of listing an event's occurrences), and its last expansion.
/// Not part of the event's data: any two are equal, and a copy starts
/// empty.
#[derive(Debug, Default)]
pub struct ReadRule {
    rule: std::sync::OnceLock<Option<rrule::RRuleSet>>,
    expanded: std::sync::Mutex<Option<Expansion>>,
}

/// The starts of a rule's occurrences over a window, all of them.
#[derive(Debug)]
struct Expansion {
    from: DateTime<Utc>,
    /// Exclusive.
    to: DateTime<Utc>,
    starts: Vec<DateTime<Utc>>,
}

impl Clone for ReadRule {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for ReadRule {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The most occurrences one event gives in a window.
const MAX_OCCURRENCES: u16 = 500;

/// The days an event's occurrences are expanded over at once, at least.
const EXPANDED_DAYS: i64 = 400;

/// The recurrence set `rule` makes from `start`, as occurrences are
/// expanded: in the start's zone (Paris for a day), from its local time.
/// Rules written on several lines (RFC 2445 allowed several) each add
/// their occurrences.
/// `None` when it is not a rule; a rule is checked so, against its own
/// start, since what it may hold depends on it (an `UNTIL` before 2027 is
/// a rule of a past series, not a wrong one).
pub fn rule_set(start: EventTime, rule: &str) -> Option<rrule::RRuleSet> {
    let local = match start {
        EventTime::Date { date } => date.and_hms_opt(0, 0, 0)?,
        EventTime::DateTime { at, tz } => at.with_timezone(&tz).naive_local(),
    };
    // The parser panics on characters that are not ASCII (RFC 5545 rules
    // are ASCII, 3.3.10).
    if !rule.is_ascii() {
        return None;
    }
    let mut text = format!(
        "DTSTART;TZID={}:{}",
        start.zone().name(),
        local.format("%Y%m%dT%H%M%S")
    );
    for one in rule.lines().filter(|l| !l.trim().is_empty()) {
        text.push_str("\nRRULE:");
        text.push_str(&as_written_for(start, one));
    }
    text.parse().ok()
}

/// `rule` as the recurrence parser takes it, read as calendar clients read
/// what calendar software writes: without the spaces some put between
/// values (`BYDAY=MO, WE`), and an `UNTIL` in the start's own form. A
/// start in a zone wants an `UNTIL` in UTC (RFC 5545, 3.3.10); Outlook
/// writes it in local time (`UNTIL=20200101T000000`) and Google, for a
/// day's event, as a date: read in the start's zone, a date from the
/// start of its day (a day's event on that day is its last; a timed one
/// that day is not), as the reference implementations do.
fn as_written_for(start: EventTime, rule: &str) -> String {
    let zone = start.zone();
    rule.split(';')
        .map(|part| {
            let part: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            let Some(until) = part
                .strip_prefix("UNTIL=")
                .or_else(|| part.strip_prefix("until="))
            else {
                return part;
            };
            let local = match until.len() {
                8 => chrono::NaiveDate::parse_from_str(until, "%Y%m%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0)),
                15 => chrono::NaiveDateTime::parse_from_str(until, "%Y%m%dT%H%M%S").ok(),
                _ => None,
            };
            match local.and_then(|l| zone.from_local_datetime(&l).earliest()) {
                Some(at) => format!("UNTIL={}", at.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ")),
                None => part,
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

impl Event {
    /// The starts of the rule's occurrences within `[from, to)`, read from
    /// the last expansion when it covers the window.
    pub(super) fn expand(
        &self,
        rule: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<Vec<DateTime<Utc>>> {
        let tz = self.start.zone();
        let starts_within = |e: &Expansion| {
            let first = e.starts.partition_point(|s| *s < from);
            let end = e.starts.partition_point(|s| *s < to);
            e.starts[first..end].to_vec()
        };
        let mut expanded = self
            .read_rule
            .expanded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = expanded.as_ref().filter(|e| e.from <= from && to <= e.to) {
            return Some(starts_within(e));
        }
        let set = self
            .read_rule
            .rule
            .get_or_init(|| rule_set(self.start, rule));
        // Expanded over a longer window than asked, so that the windows of
        // the next requests, which start a little later, are read from it.
        let until = to.max(from + chrono::Duration::days(EXPANDED_DAYS));
        let rtz = rrule::Tz::Tz(tz);
        let result = set
            .clone()?
            .after(from.with_timezone(&rtz) - chrono::Duration::seconds(1))
            .before(until.with_timezone(&rtz))
            .all(MAX_OCCURRENCES);
        let starts: Vec<DateTime<Utc>> = result
            .dates
            .into_iter()
            .map(|d| d.with_timezone(&Utc))
            .filter(|s| *s >= from && *s < until)
            .collect();
        // Cut short at the most occurrences, the expansion holds every one
        // before its last.
        let covered = match starts.last() {
            Some(last) if result.limited => *last,
            _ => until,
        };
        let e = expanded.insert(Expansion {
            from,
            to: covered,
            starts,
        });
        if to <= e.to {
            Some(starts_within(e))
        } else {
            // The window asked holds more than the most occurrences: the
            // first of them.
            Some(e.starts.clone())
        }
    }
}
