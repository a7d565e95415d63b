//! Orientation events and the sites that hold them.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::geo::InseeCommune;
use crate::ids::Uai;
use crate::partner::Partner;

/// An event of an orientation site: an open day, a forum, the Quinzaine de
/// l'apprentissage, a company visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The system it comes from.
    pub partner: Partner,
    /// Its identifier there (the iCalendar `UID`).
    pub partner_id: String,
    /// The site holding it.
    pub site: String,
    /// Its title.
    pub title: String,
    /// What it is about.
    #[serde(default)]
    pub description: Option<String>,
    /// What kind of event it is.
    pub kind: EventKind,
    /// When it starts.
    pub start: EventTime,
    /// When it ends (exclusive, as iCalendar has it).
    #[serde(default)]
    pub end: Option<EventTime>,
    /// Its recurrence rule, when it repeats (`FREQ=MONTHLY;BYDAY=1SA;COUNT=4`).
    #[serde(default)]
    pub rrule: Option<String>,
    /// Where it takes place.
    #[serde(default)]
    pub location: Option<String>,
    /// Its page.
    #[serde(default)]
    pub url: Option<String>,
    /// Its recurrence rule as read, once read.
    #[serde(skip)]
    pub read_rule: ReadRule,
}

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

/// When an event starts or ends: a day (all-day events) or an instant, with
/// the time zone its recurrences follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventTime {
    /// A whole day.
    Date {
        /// The day.
        date: NaiveDate,
    },
    /// An instant.
    DateTime {
        /// The instant.
        at: DateTime<Utc>,
        /// The time zone it was given in.
        tz: Tz,
    },
}

impl EventTime {
    /// The instant it starts: midnight in Paris for a day.
    pub fn instant(self) -> DateTime<Utc> {
        match self {
            EventTime::Date { date } => chrono_tz::Europe::Paris
                .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
                .earliest()
                .map_or_else(
                    || date.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                    |d| d.to_utc(),
                ),
            EventTime::DateTime { at, .. } => at,
        }
    }

    /// Whether it is a whole day.
    pub fn is_date(self) -> bool {
        matches!(self, EventTime::Date { .. })
    }

    /// Parses an iCalendar date or date-time value (`20270304`,
    /// `20270304T100000Z`, or a local `20270304T100000` in `tzid`, Paris
    /// when none is given).
    pub fn parse_ical(value: &str, tzid: Option<&str>) -> Result<Self, String> {
        let v = value.trim();
        if v.len() == 8 {
            return NaiveDate::parse_from_str(v, "%Y%m%d")
                .map(|date| EventTime::Date { date })
                .map_err(|_| format!("{v:?} is not an iCalendar date"));
        }
        if let Some(utc) = v.strip_suffix('Z') {
            let naive = chrono::NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                .map_err(|_| format!("{v:?} is not an iCalendar date-time"))?;
            return Ok(EventTime::DateTime {
                at: naive.and_utc(),
                tz: Tz::UTC,
            });
        }
        let tz: Tz = match tzid {
            Some(t) => t.parse().map_err(|_| format!("unknown time zone {t:?}"))?,
            None => chrono_tz::Europe::Paris,
        };
        let naive = chrono::NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
            .map_err(|_| format!("{v:?} is not an iCalendar date-time"))?;
        let at = tz
            .from_local_datetime(&naive)
            .earliest()
            .ok_or_else(|| format!("{v:?} does not exist in {tz}"))?
            .to_utc();
        Ok(EventTime::DateTime { at, tz })
    }
}

/// Kinds of orientation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A CFA's or lycée's open day.
    OpenDay,
    /// A forum of apprenticeship, jobs or training.
    Forum,
    /// The Quinzaine de l'apprentissage.
    Quinzaine,
    /// A visit of a company.
    CompanyVisit,
    /// Anything else (information meetings, workshops).
    Other,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 5] = [
        EventKind::OpenDay,
        EventKind::Forum,
        EventKind::Quinzaine,
        EventKind::CompanyVisit,
        EventKind::Other,
    ];

    /// The code mapping files use.
    pub fn code(self) -> &'static str {
        match self {
            EventKind::OpenDay => "open_day",
            EventKind::Forum => "forum",
            EventKind::Quinzaine => "quinzaine",
            EventKind::CompanyVisit => "company_visit",
            EventKind::Other => "other",
        }
    }

    /// Reads a code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == s.trim())
            .ok_or_else(|| {
                format!(
                    "{s:?} is not an event kind; known: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

/// One occurrence of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: Option<DateTime<Utc>>,
    /// Whether it lasts whole days.
    pub all_day: bool,
}

/// The most occurrences one event gives in a window.
const MAX_OCCURRENCES: u16 = 500;

/// The days an event's occurrences are expanded over at once, at least.
const EXPANDED_DAYS: i64 = 400;

impl Event {
    /// The occurrences that start within `[from, to)`: the event itself, or
    /// each repetition of its rule, computed in its own time zone (an open
    /// day at 10:00 in Paris stays at 10:00 across daylight-saving changes).
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        let start = self.start.instant();
        let length = self.end.map(|e| e.instant() - start);
        let all_day = self.start.is_date();
        let starts: Vec<DateTime<Utc>> = match &self.rrule {
            None => vec![start],
            Some(rule) => self.expand(rule, from, to).unwrap_or_else(|| vec![start]),
        };
        starts
            .into_iter()
            .filter(|s| *s >= from && *s < to)
            .map(|s| Occurrence {
                start: s,
                end: length.map(|l| s + l),
                all_day,
            })
            .collect()
    }

    fn expand(
        &self,
        rule: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<Vec<DateTime<Utc>>> {
        let tz = match self.start {
            EventTime::Date { .. } => chrono_tz::Europe::Paris,
            EventTime::DateTime { tz, .. } => tz,
        };
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
        let set = self.read_rule.rule.get_or_init(|| {
            let local = match self.start {
                EventTime::Date { date } => date.and_hms_opt(0, 0, 0)?,
                EventTime::DateTime { at, tz } => at.with_timezone(&tz).naive_local(),
            };
            let text = format!(
                "DTSTART;TZID={}:{}\nRRULE:{}",
                tz.name(),
                local.format("%Y%m%dT%H%M%S"),
                rule
            );
            text.parse().ok()
        });
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

/// An orientation site: a CIO, a Mission locale, the Cité des métiers, a CFA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrientationSite {
    /// The system it comes from.
    pub partner: Partner,
    /// Its identifier in the directory.
    pub partner_id: String,
    /// Its name.
    pub name: String,
    /// What kind of site it is.
    pub kind: SiteKind,
    /// Its street address.
    #[serde(default)]
    pub address: Option<String>,
    /// Its commune.
    pub commune: InseeCommune,
    /// Its UAI, for a CFA.
    #[serde(default)]
    pub uai: Option<Uai>,
    /// The URL of its iCalendar feed of events.
    #[serde(default)]
    pub calendar_url: Option<String>,
}

/// Kinds of orientation site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// A Centre d'information et d'orientation.
    Cio,
    /// A Mission locale.
    MissionLocale,
    /// The Cité des métiers.
    CiteDesMetiers,
    /// A CFA.
    Cfa,
}

impl SiteKind {
    /// Every kind.
    pub const ALL: [SiteKind; 4] = [
        SiteKind::Cio,
        SiteKind::MissionLocale,
        SiteKind::CiteDesMetiers,
        SiteKind::Cfa,
    ];

    /// The code mapping files use.
    pub fn code(self) -> &'static str {
        match self {
            SiteKind::Cio => "cio",
            SiteKind::MissionLocale => "mission_locale",
            SiteKind::CiteDesMetiers => "cite_des_metiers",
            SiteKind::Cfa => "cfa",
        }
    }

    /// Reads a code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == s.trim())
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a site kind; known: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(start: &str, rrule: Option<&str>) -> Event {
        Event {
            partner: Partner::Cci,
            partner_id: "e".into(),
            site: "s".into(),
            title: "Portes ouvertes".into(),
            description: None,
            kind: EventKind::OpenDay,
            start: EventTime::parse_ical(start, Some("Europe/Paris")).unwrap(),
            end: Some(EventTime::parse_ical("20270306T160000", Some("Europe/Paris")).unwrap()),
            rrule: rrule.map(str::to_owned),
            location: None,
            url: None,
            read_rule: Default::default(),
        }
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
        assert_eq!(
            all[0].end.unwrap() - all[0].start,
            chrono::Duration::hours(6)
        );
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
}
