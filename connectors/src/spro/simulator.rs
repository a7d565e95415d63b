//! A simulator of the SPRO's directory and the sites' calendars: the
//! executable specification of their formats.
//!
//! - `GET /api/sites` answers `{"sites": [...]}`: CIOs, Missions locales, the
//!   Cité des métiers and every CFA, with addresses and the URL of each
//!   site's calendar.
//! - `GET /agenda/{site}.ics` answers the site's iCalendar feed (RFC 5545):
//!   CRLF lines folded at 75 octets, `TZID=Europe/Paris` times, all-day
//!   events, escaped commas, and recurring open days (`RRULE`); and shapes
//!   of real exports: the Missions locales' calendars come from Outlook
//!   (`TZID=Romance Standard Time`, defined by a `VTIMEZONE`), some
//!   information meetings end by a `DURATION`, some CIOs' workshops skip a
//!   week (`EXDATE`), some CFAs cancel their second open day (an override
//!   with `RECURRENCE-ID` and `STATUS:CANCELLED`), and the Cité des
//!   métiers' company visit is cancelled (`STATUS:CANCELLED`).
//!
//! Both carry a strong `ETag`. The `malformed_rate` fault breaks that share
//! of events (a date in the wrong form, a recurrence rule that is not one,
//! an end before the start, a line that is no property), and makes the first site's
//! calendar an HTML page, as a web server's error page served with 200.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use passerelle_schema::reference::{self, Commune};
use serde_json::json;

use crate::sandbox::cfas::Cfa;
use crate::sandbox::document;
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::{is_malformed, DatasetSettings};

/// The directory's path.
pub const DIRECTORY_PATH: &str = "/api/sites";

/// A simulated site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Its identifier.
    pub id: String,
    /// `CIO`, `Mission locale`, `Cité des métiers`, `CFA`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Its town.
    pub commune: &'static Commune,
    /// Its street.
    pub street: String,
    /// Its UAI, for a CFA.
    pub uai: Option<String>,
}

/// A simulated event, before it is written as iCalendar.
#[derive(Debug, Clone)]
pub struct SimEvent {
    /// Its number, for the malformed share.
    pub seq: usize,
    /// `UID`.
    pub uid: String,
    /// `SUMMARY`.
    pub summary: String,
    /// `DESCRIPTION`.
    pub description: String,
    /// `CATEGORIES`.
    pub category: &'static str,
    /// Start: a day, or a day and local Paris time.
    pub start: (NaiveDate, Option<(u32, u32)>),
    /// End, likewise.
    pub end: (NaiveDate, Option<(u32, u32)>),
    /// `RRULE`.
    pub rrule: Option<String>,
    /// `LOCATION`.
    pub location: String,
    /// What real exports add.
    pub quirks: Quirks,
}

/// What real calendar exports add to an event.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// Its end written as a `DURATION`.
    pub duration: bool,
    /// A date it skips (`EXDATE`), at its time of day.
    pub exdate: Option<NaiveDate>,
    /// The date of an occurrence cancelled by an override (`RECURRENCE-ID`).
    pub cancelled: Option<NaiveDate>,
    /// `STATUS`.
    pub status: Option<&'static str>,
}

/// The sites: a CIO and a Mission locale in each of the main towns, the
/// Cité des métiers in Rouen, and every CFA.
pub fn sites(cfas: &[Cfa]) -> Vec<Site> {
    let mut towns: Vec<&'static Commune> = reference::communes()
        .iter()
        .filter(|c| c.coordinates.is_some())
        .collect();
    towns.sort_by_key(|c| std::cmp::Reverse(c.population));
    towns.truncate(12);
    let mut out = Vec::new();
    for (i, t) in towns.iter().enumerate() {
        out.push(Site {
            id: format!("cio-{}", t.code),
            kind: "CIO",
            name: format!("CIO de {}", t.name),
            commune: t,
            street: format!("{} place de la Mairie", i + 2),
            uai: None,
        });
        if i % 4 != 3 {
            out.push(Site {
                id: format!("ml-{}", t.code),
                kind: "Mission locale",
                name: format!("Mission locale de {}", t.name),
                commune: t,
                street: format!("{} avenue de la Jeunesse", i + 10),
                uai: None,
            });
        }
    }
    if let Some(rouen) = reference::commune("76540") {
        out.push(Site {
            id: "cdm-76540".into(),
            kind: "Cité des métiers",
            name: "Cité des métiers de Normandie".into(),
            commune: rouen,
            street: "Quai de Boisguilbert".into(),
            uai: None,
        });
    }
    for c in cfas {
        out.push(Site {
            id: format!("cfa-{}", c.uai),
            kind: "CFA",
            name: c.name.clone(),
            commune: c.commune,
            street: c.street.clone(),
            uai: Some(c.uai.clone()),
        });
    }
    out
}

/// The first `weekday` of the month of `d`.
fn first(weekday: Weekday, year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 1).expect("every month has one")
}

/// The events of a site, as of the reference date.
pub fn events(site: &Site, index: usize, s: &DatasetSettings) -> Vec<SimEvent> {
    let r = s.reference_date;
    let next_year = r.year() + 1;
    let place = format!("{}, {}", site.street, site.commune.name);
    let mut out = Vec::new();
    let mut push = |e: SimEvent| out.push(e);
    let seq = index * 10;
    match site.kind {
        "CFA" => {
            let month = 1 + (index % 3) as u32;
            push(SimEvent {
                seq,
                uid: format!("jpo-{}-{next_year}@spro.example", site.id),
                summary: format!("Portes ouvertes — {}", site.name),
                description: format!(
                    "Découvrez nos formations en apprentissage, rencontrez les formateurs, les apprentis et les entreprises partenaires de {}.",
                    site.commune.name
                ),
                category: "Journée portes ouvertes",
                start: (first(Weekday::Sat, next_year, month), Some((if index.is_multiple_of(2) { 9 } else { 10 }, 0))),
                end: (first(Weekday::Sat, next_year, month), Some((16, 0))),
                rrule: Some(format!("FREQ=MONTHLY;BYDAY=1SA;COUNT={}", 3 + index % 3)),
                location: place.clone(),
                quirks: Quirks {
                    // The second open day, a month after the first.
                    cancelled: (index % 7 == 3)
                        .then(|| first(Weekday::Sat, next_year, month + 1)),
                    ..Quirks::default()
                },
            });
            push(SimEvent {
                seq: seq + 1,
                uid: format!("info-{}-{next_year}@spro.example", site.id),
                summary: "Réunion d'information, inscriptions et contrats".into(),
                description:
                    "Comment trouver une entreprise; signer un contrat; financer sa formation."
                        .into(),
                category: "Réunion d'information",
                start: (r + Duration::days(10 + index as i64 % 20), Some((17, 30))),
                end: (r + Duration::days(10 + index as i64 % 20), Some((19, 0))),
                rrule: None,
                location: place.clone(),
                quirks: Quirks {
                    duration: index.is_multiple_of(2),
                    ..Quirks::default()
                },
            });
        }
        "CIO" => {
            // The Quinzaine de l'apprentissage: two weeks, all day.
            let start = first(Weekday::Mon, next_year, 2);
            push(SimEvent {
                seq,
                uid: format!("quinzaine-{}-{next_year}@spro.example", site.id),
                summary: format!("Quinzaine de l'apprentissage, {}", site.commune.name),
                description: "Information, ateliers CV et lettres, rencontres avec des CFA et des employeurs.".into(),
                category: "Quinzaine de l'apprentissage",
                start: (start, None),
                end: (start + Duration::days(14), None),
                rrule: None,
                location: place.clone(),
                quirks: Quirks::default(),
            });
            push(SimEvent {
                seq: seq + 1,
                uid: format!("atelier-{}-{next_year}@spro.example", site.id),
                summary: "Atelier : trouver son entreprise d'accueil".into(),
                description: "Chaque mercredi après-midi, sur inscription.".into(),
                category: "Atelier",
                start: (first(Weekday::Wed, next_year, 1), Some((14, 0))),
                end: (first(Weekday::Wed, next_year, 1), Some((16, 0))),
                rrule: Some("FREQ=WEEKLY;BYDAY=WE;COUNT=6".into()),
                location: place.clone(),
                quirks: Quirks {
                    // The third Wednesday.
                    exdate: index
                        .is_multiple_of(3)
                        .then(|| first(Weekday::Wed, next_year, 1) + Duration::days(14)),
                    ..Quirks::default()
                },
            });
        }
        _ => {
            let day = first(Weekday::Sat, next_year, 3) + Duration::days(7 * (index % 3) as i64);
            push(SimEvent {
                seq,
                uid: format!("forum-{}-{next_year}@spro.example", site.id),
                summary: format!("Forum de l'alternance, {}", site.commune.name),
                description: "Offres d'apprentissage, CFA, employeurs; venez avec votre CV.".into(),
                category: "Forum",
                start: (day, None),
                end: (day + Duration::days(1), None),
                rrule: None,
                location: place.clone(),
                quirks: Quirks::default(),
            });
            push(SimEvent {
                seq: seq + 1,
                uid: format!("visite-{}-{next_year}@spro.example", site.id),
                summary: format!("Visite d'entreprise : ateliers de {}", site.commune.name),
                description: "Visite guidée d'un atelier qui forme des apprentis.".into(),
                category: "Visite d'entreprise",
                start: (r + Duration::days(21), Some((9, 30))),
                end: (r + Duration::days(21), Some((12, 0))),
                rrule: None,
                location: place,
                quirks: Quirks {
                    status: (site.kind == "Cité des métiers").then_some("CANCELLED"),
                    ..Quirks::default()
                },
            });
        }
    }
    out
}

/// Escapes a TEXT value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Writes a content line, folded at 75 octets without splitting a character.
fn line(out: &mut String, content: &str) {
    let mut rest = content;
    let mut limit = 75;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = 74;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

fn time(
    prop: &str,
    (day, at): (NaiveDate, Option<(u32, u32)>),
    tzid: &str,
    broken: bool,
) -> String {
    match (at, broken) {
        (_, true) => format!("{prop}:{}", day.format("%Y-%m-%d")),
        (None, false) => format!("{prop};VALUE=DATE:{}", day.format("%Y%m%d")),
        (Some((h, m)), false) => {
            format!("{prop};TZID={tzid}:{}T{h:02}{m:02}00", day.format("%Y%m%d"))
        }
    }
}

/// Paris as Outlook names and defines it.
const OUTLOOK_PARIS: [&str; 15] = [
    "BEGIN:VTIMEZONE",
    "TZID:Romance Standard Time",
    "BEGIN:STANDARD",
    "DTSTART:16010101T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:16010101T020000",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
];

/// Renders a site's calendar.
pub fn render(site: &Site, events: &[SimEvent], malformed_rate: f64) -> String {
    let mut out = String::new();
    let outlook = site.kind == "Mission locale";
    let tzid = if outlook {
        "Romance Standard Time"
    } else {
        "Europe/Paris"
    };
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SPRO Normandie//Agenda//FR",
        "CALSCALE:GREGORIAN",
    ] {
        line(&mut out, l);
    }
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(&site.name)));
    line(&mut out, "X-WR-TIMEZONE:Europe/Paris");
    if outlook {
        for l in OUTLOOK_PARIS {
            line(&mut out, l);
        }
    }
    for e in events {
        let broken = is_malformed(e.seq, malformed_rate).then_some(e.seq % 4);
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", e.uid));
        line(&mut out, "DTSTAMP:20261101T080000Z");
        line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        line(&mut out, &format!("DESCRIPTION:{}", escape(&e.description)));
        line(
            &mut out,
            &format!("CATEGORIES:{},Apprentissage", escape(e.category)),
        );
        line(&mut out, &time("DTSTART", e.start, tzid, broken == Some(0)));
        match (e.quirks.duration, e.start, e.end) {
            // The day before it starts.
            _ if broken == Some(2) => {
                let before = e.start.0.pred_opt().unwrap_or(e.start.0);
                line(&mut out, &time("DTEND", (before, e.start.1), tzid, false));
            }
            (true, (d0, Some((h0, m0))), (d1, Some((h1, m1)))) if d0 == d1 => {
                let minutes = (h1 * 60 + m1).saturating_sub(h0 * 60 + m0);
                line(
                    &mut out,
                    &format!("DURATION:PT{}H{}M", minutes / 60, minutes % 60),
                );
            }
            _ => line(&mut out, &time("DTEND", e.end, tzid, false)),
        }
        if let Some(rule) = &e.rrule {
            line(
                &mut out,
                &format!(
                    "RRULE:{}",
                    if broken == Some(1) {
                        "FREQ=SOMETIMES"
                    } else {
                        rule
                    }
                ),
            );
        }
        if let Some(day) = e.quirks.exdate {
            line(&mut out, &time("EXDATE", (day, e.start.1), tzid, false));
        }
        if let Some(status) = e.quirks.status {
            line(&mut out, &format!("STATUS:{status}"));
        }
        line(&mut out, &format!("LOCATION:{}", escape(&e.location)));
        if broken == Some(3) {
            // A line pasted into the export, no property.
            line(&mut out, "Entrée côté parking");
        }
        line(&mut out, "END:VEVENT");
        if let Some(day) = e.quirks.cancelled {
            // The occurrence, cancelled: its own VEVENT, a later SEQUENCE.
            line(&mut out, "BEGIN:VEVENT");
            line(&mut out, &format!("UID:{}", e.uid));
            line(&mut out, "DTSTAMP:20261115T080000Z");
            line(
                &mut out,
                &time("RECURRENCE-ID", (day, e.start.1), tzid, false),
            );
            line(&mut out, "SEQUENCE:1");
            line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
            line(
                &mut out,
                &format!("CATEGORIES:{},Apprentissage", escape(e.category)),
            );
            line(&mut out, &time("DTSTART", (day, e.start.1), tzid, false));
            line(&mut out, &time("DTEND", (day, e.end.1), tzid, false));
            line(&mut out, "STATUS:CANCELLED");
            line(&mut out, "END:VEVENT");
        }
    }
    line(&mut out, "END:VCALENDAR");
    out
}

struct Sim {
    sites: Vec<Site>,
    settings: DatasetSettings,
    faults: Faults,
}

/// The simulator's routes.
pub fn router(cfas: &[Cfa], settings: &DatasetSettings, faults: Faults) -> Router {
    let sim = Arc::new(Sim {
        sites: sites(cfas),
        settings: settings.clone(),
        faults: faults.clone(),
    });
    faulty(
        Router::new()
            .route(DIRECTORY_PATH, get(directory))
            .route("/agenda/{file}", get(calendar))
            .with_state(sim),
        faults,
    )
}

async fn directory(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let sites: Vec<_> = sim
        .sites
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "type": s.kind,
                "nom": s.name,
                "uai": s.uai,
                "adresse": { "ligne": s.street, "code_postal": s.commune.postcodes[0], "commune": s.commune.name, "code_insee": s.commune.code },
                "agenda": format!("http://{host}/agenda/{}.ics", s.id),
            })
        })
        .collect();
    let body = json!({ "sites": sites }).to_string();
    let tag = document::etag(body.as_bytes());
    document::conditional(&headers, body.into(), &tag, "application/json")
}

async fn calendar(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file.strip_suffix(".ics") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some((index, site)) = sim.sites.iter().enumerate().find(|(_, s)| s.id == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let malformed_rate = sim.faults.malformed_rate();
    if index == 0 && malformed_rate > 0.0 {
        let page = "<html><body><h1>Agenda indisponible</h1></body></html>";
        return ([(CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    let body = render(site, &events(site, index, &sim.settings), malformed_rate);
    let tag = document::etag(body.as_bytes());
    document::conditional(&headers, body.into(), &tag, "text/calendar; charset=utf-8")
}

impl crate::sandbox::FeedSimulator for super::Spro {
    const PATH: &'static str = DIRECTORY_PATH;

    fn router(data: &crate::sandbox::SandboxData, faults: Faults) -> Router {
        router(&data.cfas, &data.settings.data, faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_folded_at_75_octets_between_characters() {
        let mut out = String::new();
        line(&mut out, &format!("DESCRIPTION:{}", "é".repeat(60)));
        let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= 75));
        assert!(lines[1..].iter().all(|l| l.starts_with(' ')));
    }
}
