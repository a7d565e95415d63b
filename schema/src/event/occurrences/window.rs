//! The occurrences of an event that start within a window: its rule's
//! and its added dates', less its skipped dates and the occurrences its
//! overrides replace, plus its overrides, each with its end and status.

use chrono::{DateTime, Utc};

use super::calendar::days_after;
use super::Occurrence;
use crate::event::{Event, EventStatus, EventTime};

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
}
