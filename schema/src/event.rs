//! Orientation events and the sites that hold them.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::geo::InseeCommune;
use crate::ids::Uai;
use crate::partner::Partner;

mod occurrences;
pub use occurrences::{rule_set, Occurrence, ReadRule};

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
    /// The partner's own word for its kind (its calendar's first
    /// `CATEGORIES`), kept whether or not it is one Passerelle knows: an
    /// unknown one is `Other`.
    #[serde(default)]
    pub kind_label: Option<String>,
    /// When it starts.
    pub start: EventTime,
    /// When it ends (exclusive, as iCalendar has it): its `DTEND`, its
    /// start and `DURATION`, or by default the end of its day for an
    /// all-day event and its start for another.
    #[serde(default)]
    pub end: Option<EventTime>,
    /// Its length, when given as a `DURATION` rather than an end: each
    /// occurrence ends that long after it starts, in days of its time
    /// zone (a day across a change of time is 23 or 25 hours), then hours.
    #[serde(default)]
    pub duration: Option<EventDuration>,
    /// Whether it takes place (`STATUS`).
    #[serde(default)]
    pub status: EventStatus,
    /// Its recurrence rule, when it repeats (`FREQ=MONTHLY;BYDAY=1SA;COUNT=4`);
    /// several, one a line, when the calendar gives several `RRULE`s.
    #[serde(default)]
    pub rrule: Option<String>,
    /// Dates its recurrence adds to the rule's (`RDATE`).
    #[serde(default)]
    pub rdates: Vec<EventTime>,
    /// Of its added dates, those given as periods (`RDATE;VALUE=PERIOD`):
    /// the occurrence that starts at one ends at its period's end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<EventPeriod>,
    /// Dates its recurrence skips (`EXDATE`).
    #[serde(default)]
    pub exdates: Vec<EventTime>,
    /// For an override, the occurrence of the recurring event of the same
    /// `UID` that it replaces (`RECURRENCE-ID`).
    #[serde(default)]
    pub recurrence_id: Option<EventTime>,
    /// For an override, whether it replaces its occurrence and every later
    /// one (`RECURRENCE-ID;RANGE=THISANDFUTURE`): those are moved as it is
    /// moved, and take its length, title, place and status.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub this_and_future: bool,
    /// Its revision (`SEQUENCE`): of two versions of an event or of an
    /// override, the higher wins.
    #[serde(default)]
    pub sequence: u32,
    /// The occurrences of a recurring event that are moved, changed or
    /// cancelled: each a whole event, whose `recurrence_id` names the
    /// occurrence it replaces (see [`Event::gather`]).
    #[serde(default)]
    pub overrides: Vec<Event>,
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

/// An added occurrence given with its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPeriod {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
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

/// Whether an event takes place (iCalendar's `STATUS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// It takes place (also what an event that says nothing means).
    #[default]
    Confirmed,
    /// It may take place.
    Tentative,
    /// It does not take place.
    Cancelled,
}

impl EventStatus {
    /// Every status.
    pub const ALL: [EventStatus; 3] = [
        EventStatus::Confirmed,
        EventStatus::Tentative,
        EventStatus::Cancelled,
    ];

    /// The code mapping files use.
    pub fn code(self) -> &'static str {
        match self {
            EventStatus::Confirmed => "confirmed",
            EventStatus::Tentative => "tentative",
            EventStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == s.trim())
            .ok_or_else(|| {
                format!(
                    "{s:?} is not an event status; known: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

/// An iCalendar `DURATION`: days (weeks count seven), which are days of
/// the calendar, then seconds, which are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDuration {
    /// Whole days.
    pub days: u32,
    /// Seconds after the days.
    pub seconds: u32,
}

impl EventDuration {
    /// Parses an iCalendar duration (`PT1H30M`, `P1D`, `P2W`, `+P1DT2H`);
    /// an event's may not be negative.
    pub fn parse_ical(value: &str) -> Result<Self, String> {
        let v = value.trim();
        let bad = || format!("{v:?} is not an iCalendar duration");
        let rest = v.strip_prefix('+').unwrap_or(v);
        if rest.starts_with('-') {
            return Err(format!("{v:?} is negative"));
        }
        let rest = rest.strip_prefix('P').ok_or_else(bad)?;
        // `PT1W`, weeks written among the time's units, as calendar
        // clients read it: one week.
        let rest = match rest.strip_prefix('T') {
            Some(w)
                if w.len() > 1
                    && w.ends_with('W')
                    && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit()) =>
            {
                w
            }
            _ => rest,
        };
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        let mut out = EventDuration {
            days: 0,
            seconds: 0,
        };
        let mut parts = 0;
        let mut read = |text: &str, units: &[(char, u32, bool)]| -> Result<(), String> {
            let mut number = String::new();
            let mut allowed = units;
            for c in text.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                let i = allowed.iter().position(|u| u.0 == c).ok_or_else(bad)?;
                let (_, factor, in_days) = allowed[i];
                let n: u32 = number.parse().map_err(|_| bad())?;
                let n = n.checked_mul(factor).ok_or_else(bad)?;
                let slot = if in_days {
                    &mut out.days
                } else {
                    &mut out.seconds
                };
                *slot = slot.checked_add(n).ok_or_else(bad)?;
                number.clear();
                allowed = &allowed[i + 1..];
                parts += 1;
            }
            if number.is_empty() {
                Ok(())
            } else {
                Err(bad())
            }
        };
        read(date, &[('W', 7, true), ('D', 1, true)])?;
        if let Some(t) = time {
            read(t, &[('H', 3600, false), ('M', 60, false), ('S', 1, false)])?;
        }
        if parts == 0 {
            return Err(bad());
        }
        Ok(out)
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
