//! The time zones a calendar's `TZID`s name (Olson, Windows, or defined by
//! the calendar's `VTIMEZONE`s), and a date of a list given in one of them
//! as UTC.

/// The most `VTIMEZONE`s of one calendar read for their zone.
const MAX_DEFINED_ZONES: usize = 16;

/// Windows time zone names and the IANA zone CLDR maps each to (territory
/// 001), as `mappings/reference/README.md` says where they come from.
const WINDOWS_ZONES: &str = include_str!("../../../reference/windows-zones.csv");

/// The IANA zone of a Windows time zone name (`W. Europe Standard Time`).
fn windows_zone(name: &str) -> Option<chrono_tz::Tz> {
    WINDOWS_ZONES
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit_once(','))
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| iana.parse().ok())
}

/// The time zones named by a calendar's `TZID`s: Olson names as they are
/// (a stray colon or quotes taken off), Windows names as CLDR maps them,
/// others as the calendar's `VTIMEZONE` of that name defines them, and
/// failing all of that, the zone the calendar says it is in
/// (`X-WR-TIMEZONE`, as Google and Apple write it).
pub(super) struct Zones<'c> {
    defined: Vec<(&'c str, &'c icalendar::parser::Component<'c>)>,
    read: Vec<(String, Option<chrono_tz::Tz>)>,
    calendar: Option<chrono_tz::Tz>,
}

impl<'c> Zones<'c> {
    pub(super) fn new(
        calendar: &'c [icalendar::parser::Component<'c>],
        properties: &'c [icalendar::parser::Property<'c>],
    ) -> Self {
        let mut defined = Vec::new();
        let x_wr = |props: &[icalendar::parser::Property<'_>]| {
            props
                .iter()
                .find(|p| p.name.as_str().eq_ignore_ascii_case("X-WR-TIMEZONE"))
                .and_then(|p| p.val.as_str().trim().parse::<chrono_tz::Tz>().ok())
        };
        let mut own = x_wr(properties);
        let mut stack: Vec<&icalendar::parser::Component<'_>> = calendar.iter().collect();
        while let Some(c) = stack.pop() {
            if c.name.as_str().eq_ignore_ascii_case("VCALENDAR") {
                own = own.or_else(|| x_wr(&c.properties));
            }
            if c.name.as_str().eq_ignore_ascii_case("VTIMEZONE") {
                let tzid = c
                    .properties
                    .iter()
                    .find(|p| p.name.as_str().eq_ignore_ascii_case("TZID"))
                    .map(|p| p.val.as_str().trim());
                if let Some(tzid) = tzid {
                    defined.push((tzid, c));
                }
            } else {
                stack.extend(c.components.iter());
            }
        }
        Self {
            defined,
            read: Vec::new(),
            calendar: own,
        }
    }

    /// The zone `tzid` names, if any.
    pub(super) fn zone(&mut self, tzid: &str) -> Option<chrono_tz::Tz> {
        if let Ok(tz) = tzid.parse() {
            return Some(tz);
        }
        if let Some((_, tz)) = self.read.iter().find(|(t, _)| t == tzid) {
            return *tz;
        }
        if self.read.len() >= MAX_DEFINED_ZONES {
            return None;
        }
        let plain = tzid.trim().trim_matches('"').trim_end_matches(':').trim();
        let tz = plain
            .parse()
            .ok()
            .or_else(|| windows_zone(plain))
            .or_else(|| {
                self.defined
                    .iter()
                    .find(|(t, _)| *t == tzid || t.trim_end_matches(':').trim() == plain)
                    .and_then(|(_, c)| crate::vtimezone::defined_zone(c))
            })
            .or(self.calendar);
        self.read.push((tzid.to_owned(), tz));
        tz
    }
}

/// A date-time of a list, given in `tz`, as UTC (`20270403T080000Z`); a
/// date, a date-time already in UTC, or one in no zone, as it is; a
/// period's start and end so (`20270403T080000Z/20270403T100000Z`), or
/// its start so and its duration as it is. One in a zone that cannot be
/// read is given with it (`TZID=Mars/Olympus:20270403T100000`), for the
/// mapping to refuse.
pub(super) fn ical_instant(value: &str, tzid: Option<&str>, zones: &mut Zones<'_>) -> String {
    let mut in_utc = |at: &str| match tzid {
        Some(tzid) if at.len() == 15 => {
            let naive = chrono::NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%S").ok();
            match (zones.zone(tzid), naive) {
                (Some(tz), Some(naive)) => {
                    use chrono::TimeZone;
                    tz.from_local_datetime(&naive)
                        .earliest()
                        .map(|t| t.naive_utc().format("%Y%m%dT%H%M%SZ").to_string())
                }
                _ => None,
            }
            .unwrap_or_else(|| format!("TZID={tzid}:{at}"))
        }
        _ => at.to_owned(),
    };
    match value.split_once('/') {
        Some((start, end)) => format!("{}/{}", in_utc(start), in_utc(end)),
        None => in_utc(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_windows_zone_of_the_table_is_an_iana_zone() {
        let rows: Vec<&str> = WINDOWS_ZONES.lines().skip(1).collect();
        assert!(rows.len() > 100, "{}", rows.len());
        for row in rows {
            let (windows, iana) = row.rsplit_once(',').unwrap();
            assert!(iana.parse::<chrono_tz::Tz>().is_ok(), "{row}");
            assert_eq!(windows_zone(windows), iana.parse().ok(), "{row}");
        }
        assert_eq!(
            windows_zone("romance standard time"),
            Some(chrono_tz::Europe::Paris)
        );
    }
}
