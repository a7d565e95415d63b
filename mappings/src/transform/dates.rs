//! Dates and date-times as partners write them: `strftime` formats checked
//! and read (a date-time without an offset in the mapping's zone, given in
//! UTC), LHÉO's `AAAAMMJJ` with its unknown, open, month and year dates,
//! and the ISO dates the unified values are.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A LHÉO date (see [`Transform::LheoDate`](super::Transform::LheoDate)); `None` for a date unknown
/// or open.
pub(super) fn lheo_date(v: &str, end: bool) -> Result<Option<NaiveDate>, String> {
    let t = v.trim();
    let bad = || format!("{t:?} is not a LHÉO date (AAAAMMJJ)");
    if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if t == "00000000" || t == "99999999" {
        return Ok(None);
    }
    let (y, m, d): (i32, u32, u32) = (
        t[..4].parse().map_err(|_| bad())?,
        t[4..6].parse().map_err(|_| bad())?,
        t[6..].parse().map_err(|_| bad())?,
    );
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
    let date = match (m, d) {
        (0, 0) if end => NaiveDate::from_ymd_opt(y, 12, 31),
        (0, 0) => first_of(y, 1),
        (0, _) => None,
        (m, 0) if end => first_of(y, m)
            .and_then(|f| f.checked_add_months(chrono::Months::new(1)))
            .and_then(|n| n.pred_opt()),
        (m, 0) => first_of(y, m),
        (m, d) => NaiveDate::from_ymd_opt(y, m, d),
    };
    date.map(Some).ok_or_else(bad)
}

/// Whether a text is a date written `YYYY-MM-DD`, as dates are unified.
pub(super) fn is_iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

pub(super) fn check_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if format == "rfc3339" {
        return Ok(());
    }
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(format!("{format:?} is not a valid date format"));
    }
    Ok(())
}

pub(super) fn parse_datetime(v: &str, format: &str, tz: Tz) -> Option<String> {
    let utc = if format == "rfc3339" {
        chrono::DateTime::parse_from_rfc3339(v).ok()?.to_utc()
    } else if let Ok(dt) = chrono::DateTime::parse_from_str(v, format) {
        dt.to_utc()
    } else {
        let naive = NaiveDateTime::parse_from_str(v, format).ok().or_else(|| {
            NaiveDate::parse_from_str(v, format)
                .ok()?
                .and_hms_opt(0, 0, 0)
        })?;
        tz.from_local_datetime(&naive).earliest()?.to_utc()
    };
    Some(utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}
