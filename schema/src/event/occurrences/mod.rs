//! The occurrences of an event within a window: its rule's, its added
//! dates', less its skipped dates, with its overrides in place.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Event, EventDuration, EventStatus, EventTime};

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
fn days_after(at: DateTime<Utc>, days: u32, tz: Tz) -> DateTime<Utc> {
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

impl Event {
    /// The occurrences that start within `[from, to)`, soonest first: the
    /// event itself, or each repetition of its rule, computed in its own
    /// time zone (an open day at 10:00 in Paris stays at 10:00 across
    /// daylight-saving changes), and each of its added dates, less its
    /// skipped dates and the occurrences its overrides replace, plus the
    /// overrides that start within the window (wherever the occurrence they
    /// replace was). Cancelled occurrences are given, with their status.
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        let start = self.start.instant();
        let all_day = self.start.is_date();
        let mut starts: Vec<DateTime<Utc>> = match &self.rrule {
            None => vec![start],
            Some(rule) => self.expand(rule, from, to).unwrap_or_else(|| vec![start]),
        };
        starts.extend(self.rdates.iter().map(|d| d.instant()));
        let skipped: Vec<EventTime> = self
            .exdates
            .iter()
            .chain(
                self.overrides
                    .iter()
                    .filter_map(|o| o.recurrence_id.as_ref()),
            )
            .copied()
            .collect();
        starts.retain(|s| {
            *s >= from && *s < to && !skipped.iter().any(|k| self.names_occurrence(*k, *s))
        });
        starts.sort_unstable();
        starts.dedup();
        // Overrides of an occurrence and every later one, by the
        // occurrence they start from.
        let mut futures: Vec<(DateTime<Utc>, usize)> = self
            .overrides
            .iter()
            .enumerate()
            .filter(|(_, o)| o.this_and_future)
            .filter_map(|(i, o)| Some((o.recurrence_id?.instant(), i)))
            .collect();
        futures.sort_unstable();
        let mut out: Vec<Occurrence> = starts
            .into_iter()
            .map(|s| {
                let future = futures.partition_point(|(from, _)| *from < s);
                match future.checked_sub(1).map(|f| futures[f]) {
                    Some((from, i)) => {
                        let o = &self.overrides[i];
                        let moved = s + (o.start.instant() - from);
                        Occurrence {
                            start: moved,
                            end: o.end_after(moved),
                            all_day: o.start.is_date(),
                            status: self.status_with(o),
                            detail: Some(i),
                        }
                    }
                    None => Occurrence {
                        start: s,
                        end: self
                            .periods
                            .iter()
                            .find(|p| p.start == s)
                            .map_or_else(|| self.end_after(s), |p| p.end),
                        all_day,
                        status: self.status,
                        detail: None,
                    },
                }
            })
            .collect();
        for (i, o) in self.overrides.iter().enumerate() {
            let s = o.start.instant();
            if s >= from && s < to {
                out.push(Occurrence {
                    start: s,
                    end: o.end_after(s),
                    all_day: o.start.is_date(),
                    status: self.status_with(o),
                    detail: Some(i),
                });
            }
        }
        out.sort_by_key(|o| o.start);
        out
    }

    /// Whether a skipped date or an override's `RECURRENCE-ID` names the
    /// occurrence starting at `start`: the same instant, or the same day
    /// when either is a day (Outlook names an all-day occurrence by
    /// midnight in its own zone, `RECURRENCE-ID;TZID=GMT Standard
    /// Time:20200416T000000`; some name a timed one by its date).
    fn names_occurrence(&self, named: EventTime, start: DateTime<Utc>) -> bool {
        let day_of = |t: EventTime| match t {
            EventTime::Date { date } => date,
            EventTime::DateTime { at, tz } => at.with_timezone(&tz).date_naive(),
        };
        match (self.start, named) {
            (EventTime::Date { .. }, _) | (_, EventTime::Date { .. }) => {
                day_of(named) == start.with_timezone(&self.start.zone()).date_naive()
            }
            (EventTime::DateTime { .. }, EventTime::DateTime { at, .. }) => at == start,
        }
    }

    /// The status of an occurrence that override `o` replaces: every
    /// occurrence of a cancelled event is cancelled.
    fn status_with(&self, o: &Event) -> EventStatus {
        match self.status {
            EventStatus::Cancelled => EventStatus::Cancelled,
            _ => o.status,
        }
    }

    /// The event or override whose title, place and description an
    /// occurrence of this event has.
    pub fn details(&self, occurrence: &Occurrence) -> &Event {
        occurrence
            .detail
            .and_then(|i| self.overrides.get(i))
            .unwrap_or(self)
    }

    /// Whether it repeats, by a rule or added dates.
    pub fn is_recurring(&self) -> bool {
        self.rrule.is_some() || !self.rdates.is_empty()
    }

    /// When an occurrence starting at `start` ends: as long after as its
    /// `DURATION` says, or as its end is after its start (in days for an
    /// all-day event), or by default at the end of its day for an all-day
    /// event and at once for another.
    fn end_after(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        let tz = self.start.zone();
        match (self.duration, self.end) {
            (Some(d), _) => {
                let end = days_after(start, d.days, tz);
                end.checked_add_signed(chrono::Duration::seconds(d.seconds.into()))
                    .unwrap_or(end)
            }
            (None, Some(EventTime::Date { date: end })) if self.start.is_date() => {
                let EventTime::Date { date } = self.start else {
                    unreachable!("checked by the guard")
                };
                let days = (end - date).num_days().clamp(0, u32::MAX.into());
                days_after(start, u32::try_from(days).unwrap_or(u32::MAX), tz)
            }
            (None, Some(end)) => start + (end.instant() - self.start.instant()),
            (None, None) if self.start.is_date() => days_after(start, 1, tz),
            (None, None) => start,
        }
    }

    /// The starts of the rule's occurrences within `[from, to)`, read from
    /// the last expansion when it covers the window.
    fn expand(
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

    /// Gathers the events read from one calendar: of the versions of an
    /// event (the same site and `UID`), the one of the highest `SEQUENCE`
    /// (the later of equals); each override (an event with a
    /// `RECURRENCE-ID`) into its event's `overrides`, the highest
    /// `SEQUENCE` again winning among those that replace the same
    /// occurrence. An override whose event is not in the calendar stands
    /// for itself, with the later ones of its `UID` as its overrides.
    pub fn gather(events: Vec<Event>) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::with_capacity(events.len());
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut overrides = Vec::new();
        for e in events {
            if e.recurrence_id.is_some() {
                overrides.push(e);
                continue;
            }
            match index.get(&(e.site.clone(), e.partner_id.clone())) {
                Some(&i) if out[i].sequence <= e.sequence => out[i] = e,
                Some(_) => {}
                None => {
                    index.insert((e.site.clone(), e.partner_id.clone()), out.len());
                    out.push(e);
                }
            }
        }
        for o in overrides {
            let key = (o.site.clone(), o.partner_id.clone());
            let Some(&i) = index.get(&key) else {
                index.insert(key, out.len());
                out.push(o);
                continue;
            };
            let replaced = o.recurrence_id.map(EventTime::instant);
            let master = &mut out[i];
            match master
                .overrides
                .iter_mut()
                .find(|x| x.recurrence_id.map(EventTime::instant) == replaced)
            {
                Some(x) if x.sequence <= o.sequence => *x = o,
                Some(_) => {}
                None => master.overrides.push(o),
            }
        }
        for e in &mut out {
            e.overrides
                .sort_by_key(|o| o.recurrence_id.map(EventTime::instant));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, EventPeriod};
    use crate::partner::examples;

    fn paris(t: &str) -> EventTime {
        EventTime::parse_ical(t, Some("Europe/Paris")).unwrap()
    }

    fn event(start: &str, rrule: Option<&str>) -> Event {
        Event {
            partner: examples::partner("cci"),
            partner_id: "e".into(),
            site: "s".into(),
            title: "Portes ouvertes".into(),
            description: None,
            kind: EventKind::OpenDay,
            kind_label: None,
            start: paris(start),
            end: Some(paris("20270306T160000")),
            duration: None,
            status: EventStatus::Confirmed,
            rrule: rrule.map(str::to_owned),
            rdates: Vec::new(),
            periods: Vec::new(),
            this_and_future: false,
            exdates: Vec::new(),
            recurrence_id: None,
            sequence: 0,
            overrides: Vec::new(),
            location: None,
            url: None,
            read_rule: Default::default(),
        }
    }

    fn starts(e: &Event, from: &str, to: &str) -> Vec<String> {
        e.occurrences(from.parse().unwrap(), to.parse().unwrap())
            .iter()
            .map(|o| o.start.to_rfc3339())
            .collect()
    }

    #[test]
    fn ical_times_are_read_in_their_zone() {
        let t = EventTime::parse_ical("20270306T100000", Some("Europe/Paris")).unwrap();
        assert_eq!(t.instant().to_rfc3339(), "2027-03-06T09:00:00+00:00");
        let d = EventTime::parse_ical("20270306", None).unwrap();
        assert!(d.is_date());
        assert!(EventTime::parse_ical("2027-03-06", None).is_err());
        assert!(EventTime::parse_ical("20270306T100000", Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn recurring_open_days_are_expanded_within_the_window_across_dst() {
        // First Saturday of each month, four times: March to June 2027.
        let e = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=1SA;COUNT=4"));
        let from = "2027-03-01T00:00:00Z".parse().unwrap();
        let to = "2027-12-31T00:00:00Z".parse().unwrap();
        let all = e.occurrences(from, to);
        let starts: Vec<String> = all.iter().map(|o| o.start.to_rfc3339()).collect();
        // 10:00 in Paris: 09:00 UTC in winter, 08:00 UTC in summer.
        assert_eq!(
            starts,
            [
                "2027-03-06T09:00:00+00:00",
                "2027-04-03T08:00:00+00:00",
                "2027-05-01T08:00:00+00:00",
                "2027-06-05T08:00:00+00:00"
            ]
        );
        assert_eq!(all[0].end - all[0].start, chrono::Duration::hours(6));
        let april = e.occurrences(
            "2027-04-01T00:00:00Z".parse().unwrap(),
            "2027-05-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(april.len(), 1);
    }

    #[test]
    fn windows_read_from_an_earlier_expansion_are_those_of_a_fresh_one() {
        // A weekly rule, and one cut short at the most occurrences (twice a
        // day gives 800 in the 400 days expanded at once).
        for rule in ["FREQ=WEEKLY;BYDAY=WE", "FREQ=HOURLY;INTERVAL=12"] {
            let e = event("20270306T100000", Some(rule));
            let start: DateTime<Utc> = "2027-03-01T00:00:00Z".parse().unwrap();
            for (from_days, to_days) in [(0, 90), (3, 93), (10, 30), (200, 290), (5, 395), (0, 400)]
            {
                let from = start + chrono::Duration::days(from_days);
                let to = start + chrono::Duration::days(to_days);
                let kept = e.occurrences(from, to);
                let fresh = e.clone().occurrences(from, to);
                assert_eq!(kept, fresh, "{rule} from day {from_days} to {to_days}");
                assert!(!kept.is_empty());
            }
        }
    }

    #[test]
    fn rules_are_read_against_their_own_start_as_calendar_software_writes_them() {
        // A series that ended in 2019: its occurrences then, none after.
        let mut past = event(
            "20190107T090000",
            Some("FREQ=WEEKLY;UNTIL=20190121T080000Z"),
        );
        past.end = Some(paris("20190107T100000"));
        assert_eq!(
            starts(&past, "2019-01-01T00:00:00Z", "2019-12-31T00:00:00Z"),
            [
                "2019-01-07T08:00:00+00:00",
                "2019-01-14T08:00:00+00:00",
                "2019-01-21T08:00:00+00:00"
            ]
        );
        assert!(starts(&past, "2027-01-01T00:00:00Z", "2027-12-31T00:00:00Z").is_empty());
        // Outlook's UNTIL in local time, inclusive; spaces between values.
        let mut outlook = event(
            "20270104T090000",
            Some("FREQ=WEEKLY;BYDAY=MO, WE;UNTIL=20270113T090000"),
        );
        outlook.end = Some(paris("20270104T100000"));
        assert_eq!(
            starts(&outlook, "2027-01-01T00:00:00Z", "2027-12-31T00:00:00Z"),
            [
                "2027-01-04T08:00:00+00:00",
                "2027-01-06T08:00:00+00:00",
                "2027-01-11T08:00:00+00:00",
                "2027-01-13T08:00:00+00:00"
            ]
        );
        // Google's day event until a date: that day included.
        let mut google = event("20250320T000000", Some("FREQ=YEARLY;UNTIL=20280320"));
        google.start = EventTime::parse_ical("20250320", None).unwrap();
        google.end = Some(EventTime::parse_ical("20250321", None).unwrap());
        assert_eq!(
            starts(&google, "2025-01-01T00:00:00Z", "2030-01-01T00:00:00Z").len(),
            4
        );
        assert!(rule_set(past.start, "FREQ=SOMETIMES").is_none());
    }

    #[test]
    fn a_duration_lasts_days_of_the_calendar_then_exact_hours() {
        assert_eq!(
            EventDuration::parse_ical("P1DT2H30M"),
            Ok(EventDuration {
                days: 1,
                seconds: 9000
            })
        );
        assert_eq!(EventDuration::parse_ical("P2W").unwrap().days, 14);
        // Weeks among the time's units, as calendar clients read them.
        assert_eq!(EventDuration::parse_ical("PT1W").unwrap().days, 7);
        assert_eq!(EventDuration::parse_ical("+PT15M").unwrap().seconds, 900);
        for bad in [
            "PT",
            "P",
            "1H",
            "PT1H2D",
            "P1H",
            "PTM",
            "-PT1H",
            "P99999999999D",
        ] {
            assert!(EventDuration::parse_ical(bad).is_err(), "{bad}");
        }
        // Saturday 27 March 2027, 10:00 in Paris, for a day: Sunday 10:00,
        // 23 hours later, the clocks having moved forward.
        let mut e = event("20270327T100000", None);
        e.end = None;
        e.duration = Some(EventDuration::parse_ical("P1D").unwrap());
        let o = e.occurrences(
            "2027-03-01T00:00:00Z".parse().unwrap(),
            "2027-04-01T00:00:00Z".parse().unwrap(),
        )[0];
        assert_eq!(o.end.to_rfc3339(), "2027-03-28T08:00:00+00:00");
        assert_eq!(o.end - o.start, chrono::Duration::hours(23));
    }

    #[test]
    fn without_end_or_duration_a_day_lasts_the_day_and_a_time_an_instant() {
        let mut timed = event("20270306T100000", None);
        timed.end = None;
        let window = (
            "2027-03-01T00:00:00Z".parse().unwrap(),
            "2027-04-01T00:00:00Z".parse().unwrap(),
        );
        let o = timed.occurrences(window.0, window.1)[0];
        assert_eq!(o.end, o.start);
        let mut day = event("20270306T100000", None);
        day.start = EventTime::parse_ical("20270306", None).unwrap();
        day.end = None;
        let o = day.occurrences(window.0, window.1)[0];
        assert!(o.all_day);
        assert_eq!(o.end.to_rfc3339(), "2027-03-06T23:00:00+00:00");
    }

    #[test]
    fn skipped_and_added_dates_change_the_rule_s_occurrences() {
        let mut e = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=1SA;COUNT=4"));
        e.exdates = vec![paris("20270403T100000")];
        e.rdates = vec![paris("20270410T100000")];
        assert_eq!(
            starts(&e, "2027-03-01T00:00:00Z", "2027-07-01T00:00:00Z"),
            [
                "2027-03-06T09:00:00+00:00",
                "2027-04-10T08:00:00+00:00",
                "2027-05-01T08:00:00+00:00",
                "2027-06-05T08:00:00+00:00"
            ]
        );
        // Added dates alone repeat an event, with its own start first.
        let mut once = event("20270306T100000", None);
        once.rdates = vec![paris("20270313T100000")];
        assert!(once.is_recurring());
        assert_eq!(
            starts(&once, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z"),
            ["2027-03-06T09:00:00+00:00", "2027-03-13T09:00:00+00:00"]
        );
    }

    #[test]
    fn overrides_move_or_cancel_one_occurrence() {
        let master = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=1SA;COUNT=4"));
        let mut moved = event("20270410T140000", None);
        moved.recurrence_id = Some(paris("20270403T100000"));
        moved.end = Some(paris("20270410T170000"));
        moved.title = "Portes ouvertes (reportées)".into();
        let mut cancelled = event("20270501T100000", None);
        cancelled.recurrence_id = Some(paris("20270501T100000"));
        cancelled.status = EventStatus::Cancelled;
        let gathered = Event::gather(vec![cancelled, master, moved]);
        assert_eq!(gathered.len(), 1);
        let e = &gathered[0];
        let all = e.occurrences(
            "2027-03-01T00:00:00Z".parse().unwrap(),
            "2027-07-01T00:00:00Z".parse().unwrap(),
        );
        let seen: Vec<(String, EventStatus, &str)> = all
            .iter()
            .map(|o| (o.start.to_rfc3339(), o.status, e.details(o).title.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "2027-03-06T09:00:00+00:00".into(),
                    EventStatus::Confirmed,
                    "Portes ouvertes"
                ),
                (
                    "2027-04-10T12:00:00+00:00".into(),
                    EventStatus::Confirmed,
                    "Portes ouvertes (reportées)"
                ),
                (
                    "2027-05-01T08:00:00+00:00".into(),
                    EventStatus::Cancelled,
                    "Portes ouvertes"
                ),
                (
                    "2027-06-05T08:00:00+00:00".into(),
                    EventStatus::Confirmed,
                    "Portes ouvertes"
                ),
            ]
        );
        assert_eq!(all[1].end - all[1].start, chrono::Duration::hours(3));
        // Moved out of the window, an occurrence leaves it.
        assert_eq!(
            starts(e, "2027-04-01T00:00:00Z", "2027-04-05T00:00:00Z"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_override_of_this_and_future_occurrences_moves_every_later_one() {
        // Weekly on Wednesdays at 10:00; from the third, moved to 14:00 for
        // two hours and renamed.
        let mut master = event("20270303T100000", Some("FREQ=WEEKLY;COUNT=5"));
        master.end = Some(paris("20270303T160000"));
        let mut later = event("20270317T140000", None);
        later.recurrence_id = Some(paris("20270317T100000"));
        later.this_and_future = true;
        later.end = Some(paris("20270317T160000"));
        later.title = "Atelier (nouvel horaire)".into();
        let e = &Event::gather(vec![master, later])[0];
        let all = e.occurrences(
            "2027-03-01T00:00:00Z".parse().unwrap(),
            "2027-05-01T00:00:00Z".parse().unwrap(),
        );
        let seen: Vec<(String, i64, &str)> = all
            .iter()
            .map(|o| {
                (
                    o.start.to_rfc3339(),
                    (o.end - o.start).num_hours(),
                    e.details(o).title.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("2027-03-03T09:00:00+00:00".into(), 6, "Portes ouvertes"),
                ("2027-03-10T09:00:00+00:00".into(), 6, "Portes ouvertes"),
                (
                    "2027-03-17T13:00:00+00:00".into(),
                    2,
                    "Atelier (nouvel horaire)"
                ),
                (
                    "2027-03-24T13:00:00+00:00".into(),
                    2,
                    "Atelier (nouvel horaire)"
                ),
                // After the change of time: still 14:00 in Paris.
                (
                    "2027-03-31T12:00:00+00:00".into(),
                    2,
                    "Atelier (nouvel horaire)"
                ),
            ]
        );
    }

    #[test]
    fn an_added_period_ends_at_its_own_end() {
        let mut e = event("20270303T100000", None);
        e.end = Some(paris("20270303T160000"));
        e.rdates = vec![paris("20270310T090000")];
        e.periods = vec![EventPeriod {
            start: paris("20270310T090000").instant(),
            end: paris("20270310T093000").instant(),
        }];
        let all = e.occurrences(
            "2027-03-01T00:00:00Z".parse().unwrap(),
            "2027-04-01T00:00:00Z".parse().unwrap(),
        );
        let lengths: Vec<i64> = all
            .iter()
            .map(|o| (o.end - o.start).num_minutes())
            .collect();
        assert_eq!(lengths, [360, 30]);
    }

    #[test]
    fn a_rule_that_is_not_ascii_gives_the_event_once_not_a_panic() {
        // Found by the spro_ical fuzz target: the rrule crate slices BYDAY
        // inside a character.
        let e = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=MO,WE\u{52b}"));
        assert_eq!(
            starts(&e, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z"),
            ["2027-03-06T09:00:00+00:00"]
        );
    }

    #[test]
    fn a_cancelled_event_cancels_every_occurrence() {
        let mut e = event("20270306T100000", Some("FREQ=WEEKLY;COUNT=3"));
        e.status = EventStatus::Cancelled;
        let mut moved = event("20270314T100000", None);
        moved.recurrence_id = Some(paris("20270313T100000"));
        e.overrides.push(moved);
        let all = e.occurrences(
            "2027-03-01T00:00:00Z".parse().unwrap(),
            "2027-04-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|o| o.status == EventStatus::Cancelled));
    }

    #[test]
    fn the_highest_sequence_wins_among_versions_and_overrides() {
        let mut old = event("20270306T100000", None);
        old.title = "v1".into();
        old.sequence = 1;
        let mut new = event("20270306T100000", None);
        new.title = "v2".into();
        new.sequence = 2;
        let mut stale = event("20270306T100000", None);
        stale.title = "v0".into();
        let mut other_site = event("20270306T100000", None);
        other_site.site = "t".into();
        let mut o1 = event("20270313T100000", None);
        o1.recurrence_id = Some(paris("20270306T100000"));
        o1.sequence = 3;
        o1.title = "o3".into();
        let mut o2 = o1.clone();
        o2.sequence = 2;
        o2.title = "o2".into();
        let gathered = Event::gather(vec![old, new, stale, other_site, o1, o2]);
        assert_eq!(gathered.len(), 2);
        assert_eq!(gathered[0].title, "v2");
        assert_eq!(gathered[0].overrides.len(), 1);
        assert_eq!(gathered[0].overrides[0].title, "o3");
        // An override alone stands for itself.
        let mut orphan = event("20270313T100000", None);
        orphan.recurrence_id = Some(paris("20270306T100000"));
        let alone = Event::gather(vec![orphan]);
        assert_eq!(
            starts(&alone[0], "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z"),
            ["2027-03-13T09:00:00+00:00"]
        );
    }
}
