//! A field's texts parsed into typed values, as the entities read them:
//! dates, date-times, whole numbers, coordinates, yes/no flags and digit
//! codes, and list fields parsed value by value or element by element. An
//! error says what the text is not, and which transform would help.

use chrono::{DateTime, NaiveDate, Utc};

use super::Values;
use crate::error::FieldError;

pub(super) fn datetime(v: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.to_utc())
        .map_err(|_| format!("{v:?} is not an RFC 3339 date-time (add a `datetime` transform)"))
}

pub(super) fn date(v: &str) -> Result<NaiveDate, String> {
    v.parse()
        .map_err(|_| format!("{v:?} is not an ISO date (add a `date` transform)"))
}

pub(super) fn number<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{v:?} is not a whole number in range"))
}

pub(super) fn coordinate(v: &str) -> Result<f64, String> {
    let t = v.trim();
    // A decimal comma, as French writes it, is read as a point.
    let read = if t.contains(',') {
        t.replace(',', ".").parse()
    } else {
        t.parse()
    };
    read.map_err(|_| format!("{v:?} is not a coordinate"))
}

pub(super) fn flag(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "oui" => Ok(true),
        "false" | "0" | "no" | "non" => Ok(false),
        other => Err(format!(
            "{other:?} is not a yes/no value (add a `code_list`)"
        )),
    }
}

/// Parses every value of a list field.
pub(super) fn each<T>(
    v: &Values<'_>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, FieldError> {
    v.all(field)
        .iter()
        .map(|x| parse(x).map_err(|e| FieldError::new(field, e)))
        .collect()
}

/// A field's values parsed, one per element with the element's group:
/// from its slots when it is read `each` element, else its values, in
/// group 0.
pub(super) fn column<T>(
    v: &Values<'_>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<(usize, Option<T>)>, FieldError> {
    let parse = |x: &str| parse(x).map_err(|e| FieldError::new(field, e));
    match v.slots(field) {
        Some(slots) => slots
            .iter()
            .map(|(g, x)| Ok((*g, x.as_deref().map(parse).transpose()?)))
            .collect(),
        None => v
            .all(field)
            .iter()
            .map(|x| Ok((0, Some(parse(x)?))))
            .collect(),
    }
}

/// The value of element `i` of a column, if any.
pub(super) fn at<T: Clone>(column: &[(usize, Option<T>)], i: usize) -> Option<T> {
    column.get(i).and_then(|(_, v)| v.clone())
}

pub(super) fn text(v: &str) -> Result<String, String> {
    Ok(v.to_owned())
}

/// A code of digits only, of `min` to `max` of them.
pub(super) fn digits(
    kind: &'static str,
    min: usize,
    max: usize,
) -> impl Fn(&str) -> Result<String, String> {
    move |v: &str| {
        let t = v.trim();
        if (min..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(t.to_owned())
        } else {
            Err(format!(
                "{t:?} is not a {kind} code ({min} to {max} digits)"
            ))
        }
    }
}
