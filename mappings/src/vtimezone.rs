//! The Olson time zone a calendar's `VTIMEZONE` defines, for the calendars
//! whose `TZID`s are not Olson names (Outlook's `Romance Standard Time`,
//! Lotus Notes' `(GMT+01:00) Paris`, prefixed names such as
//! `/mozilla.org/20050126_1/Europe/Paris`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::parser::Component;

/// The most `STANDARD` and `DAYLIGHT` parts, and dates of each, read.
const MAX_PARTS: usize = 16;
const MAX_DATES: usize = 100;

/// The years over which a definition is compared with the Olson zones.
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2035;

/// Years a zone must fit in one of, to be compared over every year: the
/// rules of a definition are those of the time it was written (Lotus
/// Notes' `Eastern` of 2005 has the United States' rules before 2007).
const SAMPLE_YEARS: [i32; 4] = [1995, 2005, 2015, 2025];

/// The Olson zone whose offsets from UTC are those `vtimezone` gives, at
/// and between its changes of time, in the most years of [`YEARS`]: Paris
/// when no other fits more years, or the first in the database's order.
/// `None` when the definition cannot be read or no zone fits a year.
pub(crate) fn defined_zone(vtimezone: &Component<'_>) -> Option<Tz> {
    let changes = changes(vtimezone)?;
    let offset_at = |t: i64| {
        let i = changes.partition_point(|c| c.0 <= t);
        match i {
            0 => changes[0].1,
            i => changes[i - 1].2,
        }
    };
    // Noon mid-season, and three hours either side of each change: the
    // zone must change within them.
    let probes = |y: i32| -> Vec<i64> {
        let mut probes: Vec<i64> = [(1, 15), (4, 15), (7, 15), (10, 15)]
            .iter()
            .filter_map(|&(m, d)| NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(12, 0, 0))
            .map(|t| t.and_utc().timestamp())
            .collect();
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(y, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)),
            NaiveDate::from_ymd_opt(y, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59)),
        ) else {
            return probes;
        };
        let (first, last) = (first.and_utc().timestamp(), last.and_utc().timestamp());
        for &(t, _, _) in changes.iter().filter(|c| c.0 >= first && c.0 <= last) {
            probes.extend([t - 3 * 3600, t + 3 * 3600]);
        }
        probes
    };
    let by_year: Vec<(i32, Vec<i64>)> = YEARS.map(|y| (y, probes(y))).collect();
    let fits = |zone: &Tz, probes: &[i64]| {
        probes.iter().all(|&t| {
            DateTime::<Utc>::from_timestamp(t, 0).is_some_and(|at| {
                zone.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc()
                    == offset_at(t)
            })
        })
    };
    let fits_year = |zone: &Tz, year: i32| {
        by_year
            .iter()
            .find(|(y, _)| *y == year)
            .is_some_and(|(_, p)| fits(zone, p))
    };
    let mut best: Option<(usize, Tz)> = None;
    let candidates = std::iter::once(&chrono_tz::Europe::Paris)
        .chain(chrono_tz::TZ_VARIANTS.iter())
        .filter(|z| SAMPLE_YEARS.iter().any(|&y| fits_year(z, y)));
    for zone in candidates {
        let years = by_year.iter().filter(|(_, p)| fits(zone, p)).count();
        if best.is_none_or(|(most, _)| years > most) {
            best = Some((years, *zone));
        }
    }
    best.map(|(_, zone)| zone)
}

/// The changes of time a `VTIMEZONE`'s `STANDARD` and `DAYLIGHT` parts
/// give, as (instant, offset before, offset after) in seconds, in order.
fn changes(vtimezone: &Component<'_>) -> Option<Vec<(i64, i32, i32)>> {
    let mut out = Vec::new();
    let parts = vtimezone.components.iter().filter(|part| {
        let name = part.name.as_str();
        name.eq_ignore_ascii_case("STANDARD") || name.eq_ignore_ascii_case("DAYLIGHT")
    });
    for part in parts.take(MAX_PARTS) {
        let prop = |key: &str| {
            part.properties
                .iter()
                .find(|p| p.name.as_str().eq_ignore_ascii_case(key))
                .map(|p| p.val.as_str().trim())
        };
        let to = prop("TZOFFSETTO").and_then(offset)?;
        let from = prop("TZOFFSETFROM").and_then(offset).unwrap_or(to);
        let start = prop("DTSTART").and_then(local)?;
        let mut onsets = vec![start];
        if let Some(rule) = prop("RRULE") {
            onsets.extend(yearly(start, rule));
        }
        for p in part
            .properties
            .iter()
            .filter(|p| p.name.as_str().eq_ignore_ascii_case("RDATE"))
        {
            onsets.extend(p.val.as_str().split(',').filter_map(local));
        }
        onsets.truncate(2 * MAX_DATES);
        for onset in onsets {
            // An onset is a local time before the change.
            let at = onset.and_utc().timestamp() - i64::from(from);
            out.push((at, from, to));
        }
    }
    if out.is_empty() {
        return None;
    }
    out.sort_unstable();
    Some(out)
}

/// An offset from UTC (`+0100`, `-0500`, `+013045`), in seconds.
fn offset(v: &str) -> Option<i32> {
    let (sign, digits) = match v.as_bytes().first()? {
        b'+' => (1, &v[1..]),
        b'-' => (-1, &v[1..]),
        _ => return None,
    };
    if !matches!(digits.len(), 4 | 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i32>().ok());
    let seconds = n(0..2)? * 3600 + n(2..4)? * 60 + n(4..6).unwrap_or(0);
    (seconds < 24 * 3600).then_some(sign * seconds)
}

/// A local date-time (`19701025T030000`).
fn local(v: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(v.trim(), "%Y%m%dT%H%M%S").ok()
}

/// The onsets of a yearly rule within [`YEARS`] (a time zone's rules are
/// yearly; others are not read), from its start on.
fn yearly(start: NaiveDateTime, rule: &str) -> Vec<NaiveDateTime> {
    // A rule is ASCII; the parser panics on other characters in BYDAY.
    if !rule.is_ascii() || !rule.to_ascii_uppercase().contains("FREQ=YEARLY") {
        return Vec::new();
    }
    // Outlook starts its rules in 1601: the rule is the same from the
    // first year compared.
    let first = *YEARS.start() - 1;
    let start = match start.year() < first {
        true => start.with_year(first).unwrap_or(start),
        false => start,
    };
    let text = format!("DTSTART:{}Z\nRRULE:{rule}", start.format("%Y%m%dT%H%M%S"));
    let Ok(set) = text.parse::<rrule::RRuleSet>() else {
        return Vec::new();
    };
    let bound = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().with_timezone(&rrule::Tz::UTC))
    };
    let (Some(after), Some(before)) = (bound(*YEARS.start() - 1), bound(*YEARS.end() + 2)) else {
        return Vec::new();
    };
    set.after(after)
        .before(before)
        .all(MAX_DATES as u16)
        .dates
        .into_iter()
        .map(|d| d.naive_utc())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(text: &str) -> Option<Tz> {
        let calendar = icalendar::parser::read_calendar(text).unwrap();
        let tz = calendar
            .components
            .iter()
            .flat_map(|c| std::iter::once(c).chain(c.components.iter()))
            .find(|c| c.name.as_str() == "VTIMEZONE")
            .unwrap();
        defined_zone(tz)
    }

    #[test]
    fn outlook_s_romance_standard_time_is_paris() {
        // As Outlook writes it: rules from 1601.
        let text = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Romance Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        assert_eq!(zone(text), Some(chrono_tz::Europe::Paris));
    }

    #[test]
    fn a_definition_is_the_zone_whose_rules_it_gives_in_the_most_years() {
        let offset_on = |tz: Tz, y, m, d| {
            let at = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap();
            tz.offset_from_utc_datetime(&at).fix().local_minus_utc() / 3600
        };
        // Lotus Notes 6 (2005): the United States' rules before 2007.
        let lotus = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Eastern\nBEGIN:STANDARD\nDTSTART:19501029T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nRRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:19500402T020000\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nRRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=1SU;BYMONTH=4\nEND:DAYLIGHT\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        let tz = zone(lotus).unwrap();
        assert_eq!(offset_on(tz, 2005, 4, 11), -4);
        assert_eq!(offset_on(tz, 2005, 1, 11), -5);
        // Outlook 2003's "Canberra, Melbourne, Sydney" (rules of 2008): not
        // Macquarie Island, which kept summer time through 2010.
        let outlook = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Canberra, Melbourne, Sydney\nBEGIN:STANDARD\nDTSTART:20080406T030000\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=4\nTZOFFSETFROM:+1100\nTZOFFSETTO:+1000\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:20081005T020000\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=10\nTZOFFSETFROM:+1000\nTZOFFSETTO:+1100\nEND:DAYLIGHT\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        let tz = zone(outlook).unwrap();
        assert_eq!(offset_on(tz, 2010, 6, 1), 10, "{tz}");
        assert_eq!(offset_on(tz, 2027, 1, 1), 11, "{tz}");
    }

    #[test]
    fn a_zone_is_known_by_its_rules_not_its_name() {
        // RFC 5545's own example (3.6.5), US Eastern since 2007.
        let text = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Fictitious\nBEGIN:DAYLIGHT\nDTSTART:20070311T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nTZNAME:EDT\nEND:DAYLIGHT\nBEGIN:STANDARD\nDTSTART:20071104T020000\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nTZNAME:EST\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        let tz = zone(text).unwrap();
        let summer = chrono::NaiveDate::from_ymd_opt(2027, 7, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            tz.offset_from_utc_datetime(&summer).fix().local_minus_utc(),
            -4 * 3600
        );
        assert_eq!(
            chrono_tz::America::New_York
                .offset_from_utc_datetime(&summer)
                .fix(),
            tz.offset_from_utc_datetime(&summer).fix()
        );
        // Réunion keeps +04:00 all year.
        let fixed = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:(GMT+04:00) Saint-Denis\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0400\nTZOFFSETTO:+0400\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        let tz = zone(fixed).unwrap();
        assert_eq!(
            tz.offset_from_utc_datetime(&summer).fix().local_minus_utc(),
            4 * 3600
        );
        let unicode = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:x\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYDAY=-1S\u{52b}\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        assert!(zone(unicode).is_some(), "the rule is ignored, not a panic");
        let nonsense = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:x\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETTO:+0117\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        assert_eq!(zone(nonsense), None);
        assert_eq!(offset("0100"), None);
        assert_eq!(offset("+2500"), None);
    }
}
