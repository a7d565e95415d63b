//! The components of a calendar read as records: properties by name, their
//! parameters as `@` keys, `TZID`s as Olson names, lists of dates one value
//! each, and the lines that could not be read under [`UNREADABLE`].

use std::borrow::Cow;

use super::mend::{ical_mend, MALFORMED};
use super::text::{ical_split, ical_unescape, parser_unescaped, LIST_PROPERTIES};
use super::unfold::IcalText;
use super::zones::{ical_instant, Zones};
use crate::record::tree::{insert_child, Members};
use crate::record::{Json, PayloadError, UNREADABLE};

/// Properties whose value is a list of dates or date-times, several to a
/// line and on several lines.
const DATE_LIST_PROPERTIES: [&str; 2] = ["EXDATE", "RDATE"];

/// The components named `component` of an iCalendar document, as records
/// (see [`crate::SourceFormat::Ical`]). A `TZID` that is not an Olson name
/// is replaced by the Olson name of the zone the calendar's `VTIMEZONE`
/// defines under it; the dates of `EXDATE` and `RDATE` are one value each,
/// in UTC when given in a zone.
///
/// A component with a line that cannot be read is a record that carries
/// the line's number and why under [`UNREADABLE`], so that it is refused
/// alone; the document is refused whole only when it is no calendar at
/// all.
pub fn ical_records(text: &IcalText, component: &str) -> Result<Vec<Json<'static>>, PayloadError> {
    let unreadable = |e: String| PayloadError::Syntax {
        format: "iCalendar",
        reason: e
            .lines()
            .find(|l| !l.trim().is_empty() && l.trim() != "error:")
            .unwrap_or("unreadable")
            .trim()
            .to_owned(),
    };
    let is_calendar = text.text.lines().any(|l| {
        l.trim()
            .get(..15)
            .is_some_and(|b| b.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    });
    if !is_calendar {
        return Err(unreadable("no BEGIN:VCALENDAR".into()));
    }
    let mended;
    let calendar = match icalendar::parser::read_calendar(&text.text) {
        Ok(c) => c,
        Err(_) => {
            mended = ical_mend(&text.text, &text.lines);
            icalendar::parser::read_calendar(&mended).map_err(unreadable)?
        }
    };
    let mut zones = Zones::new(&calendar.components, &calendar.properties);
    let mut records = Vec::new();
    let mut stack: Vec<&icalendar::parser::Component<'_>> = calendar.components.iter().collect();
    while let Some(c) = stack.pop() {
        if c.name.as_str().eq_ignore_ascii_case(component) {
            let string = |v: String| Json::String(Cow::Owned(v));
            let mut members = Members::new();
            let mut malformed = Vec::new();
            for p in &c.properties {
                let name = p.name.as_str().to_ascii_uppercase();
                let raw = p.val.as_str();
                if name == MALFORMED {
                    malformed.push(raw.to_owned());
                    continue;
                }
                let param = |key: &str| {
                    p.params
                        .iter()
                        .find(|q| q.key.as_str().eq_ignore_ascii_case(key))
                        .and_then(|q| q.val.as_ref())
                        .map(|v| v.as_str().trim().trim_matches('"'))
                };
                if DATE_LIST_PROPERTIES.contains(&name.as_str()) {
                    let tzid = param("TZID");
                    let dates = raw
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| string(ical_instant(v, tzid, &mut zones)));
                    match members.iter_mut().find(|(k, _)| *k == name) {
                        Some((_, Json::Array(items))) => items.extend(dates),
                        _ => members.push((name.into(), Json::Array(dates.collect()))),
                    }
                    continue;
                }
                let text = if LIST_PROPERTIES.contains(&name.as_str()) {
                    Json::Array(ical_split(raw).into_iter().map(string).collect())
                } else if parser_unescaped(p) {
                    string(raw.to_owned())
                } else {
                    string(ical_unescape(raw))
                };
                let value = if p.params.is_empty() {
                    text
                } else {
                    let mut obj = vec![("#text".into(), text)];
                    for param in &p.params {
                        let key = param.key.as_str().to_ascii_uppercase();
                        let mut v = param
                            .val
                            .as_ref()
                            .map(|v| v.as_str().trim_matches('"').to_owned())
                            .unwrap_or_default();
                        if key == "TZID" {
                            if let Some(tz) = zones.zone(v.trim()) {
                                v = tz.name().to_owned();
                            }
                        }
                        obj.push((format!("@{key}").into(), string(v)));
                    }
                    Json::Object(obj)
                };
                insert_child(&mut members, name.into(), value);
            }
            if !malformed.is_empty() {
                members.push((UNREADABLE.into(), string(malformed.join("; "))));
            }
            records.push(Json::Object(members));
        }
        stack.extend(c.components.iter().rev());
    }
    Ok(records)
}
