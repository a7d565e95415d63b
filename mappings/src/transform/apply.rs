//! A transform applied to a field's values, each value on its own (but
//! for the steps that work on the field's values together: `default`,
//! `derive`, `split`, `lheo_date`). A value a step leaves as it is stays
//! borrowed from the record.

use std::borrow::Cow;

use chrono::NaiveDate;
use passerelle_schema::{reference, Cents, Postcode};

use super::dates::{is_iso_date, lheo_date, parse_datetime};
use super::Transform;
use crate::record::{Texts, Tree};

impl Transform {
    /// Applies the step to a field's values; `record` is the whole record,
    /// for steps that read a second value from it. A value a step leaves
    /// as it is stays borrowed.
    pub fn apply<'a>(&'a self, values: Texts<'a>, record: &impl Tree) -> Result<Texts<'a>, String> {
        match self {
            Transform::Default(v) => {
                return Ok(if values.iter().all(|s| s.trim().is_empty()) {
                    smallvec::smallvec![Cow::Borrowed(v.as_str())]
                } else {
                    values
                })
            }
            Transform::Derive(paths) => {
                if !values.iter().all(|s| s.trim().is_empty()) {
                    return Ok(values);
                }
                use sha2::{Digest, Sha256};
                let mut digest = Sha256::new();
                for path in paths {
                    for text in path.select(record) {
                        digest.update(text.trim().as_bytes());
                        digest.update([0x1f]);
                    }
                    digest.update([0x1e]);
                }
                let id = format!("derived-{}", &hex::encode(digest.finalize())[..24]);
                return Ok(smallvec::smallvec![Cow::Owned(id)]);
            }
            Transform::Split(sep) => {
                let mut parts = Texts::new();
                for v in values {
                    match v {
                        Cow::Borrowed(v) => parts.extend(pieces(v, sep).map(Cow::Borrowed)),
                        Cow::Owned(v) => {
                            parts.extend(pieces(&v, sep).map(|p| Cow::Owned(p.to_owned())))
                        }
                    }
                }
                return Ok(parts);
            }
            _ => {}
        }
        if let Transform::LheoDate { end } = self {
            let mut dates = Texts::new();
            for v in values {
                if let Some(d) = lheo_date(&v, *end)? {
                    dates.push(d.to_string().into());
                }
            }
            return Ok(dates);
        }
        let mut values = values;
        for v in &mut values {
            *v = self.apply_one(std::mem::take(v), record)?;
        }
        Ok(values)
    }

    fn apply_one<'a>(
        &'a self,
        v: Cow<'a, str>,
        record: &impl Tree,
    ) -> Result<Cow<'a, str>, String> {
        Ok(match self {
            // The usual text needs no change: it is kept, not copied.
            Transform::Trim => trimmed(v),
            Transform::CollapseWhitespace if is_collapsed(&v) => v,
            Transform::CollapseWhitespace => {
                v.split_whitespace().collect::<Vec<_>>().join(" ").into()
            }
            Transform::Uppercase if v.chars().all(|c| unchanged(c, c.to_uppercase())) => v,
            Transform::Uppercase => v.to_uppercase().into(),
            Transform::Lowercase if v.chars().all(|c| unchanged(c, c.to_lowercase())) => v,
            Transform::Lowercase => v.to_lowercase().into(),
            Transform::DigitsOnly if v.bytes().all(|b| b.is_ascii_digit()) => v,
            Transform::DigitsOnly => Cow::Owned(v.chars().filter(char::is_ascii_digit).collect()),
            Transform::Int => {
                // Digits, with the spaces French writes between thousands
                // (`2 400 heures` → 2400), up to the first other character.
                let chars: Vec<char> = v.trim().chars().collect();
                let mut digits = String::new();
                for (i, c) in chars.iter().enumerate() {
                    if c.is_ascii_digit() {
                        digits.push(*c);
                    } else if c.is_whitespace()
                        && !digits.is_empty()
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                    {
                        continue;
                    } else {
                        break;
                    }
                }
                if digits.is_empty() {
                    return Err(format!("{v:?} does not start with a number"));
                }
                digits
                    .parse::<u64>()
                    .map_err(|_| format!("{v:?} is too large a number"))?
                    .to_string()
                    .into()
            }
            Transform::Euros => Cents::parse_euros(&v)
                .map_err(|e| e.to_string())?
                .0
                .to_string()
                .into(),
            Transform::DepartementFromPostcode => Postcode::parse(&v)
                .map_err(|e| e.to_string())?
                .departement()
                .to_string()
                .into(),
            Transform::Date(format) => {
                let date = NaiveDate::parse_from_str(v.trim(), format)
                    .map_err(|_| format!("{v:?} is not a date in the format {format:?}"))?;
                if is_iso_date(v.trim()) {
                    // Written as the unified value is: kept.
                    trimmed(v)
                } else {
                    date.to_string().into()
                }
            }
            Transform::DateTime { format, timezone } => parse_datetime(v.trim(), format, *timezone)
                .ok_or_else(|| format!("{v:?} is not a date-time in the format {format:?}"))?
                .into(),
            Transform::CodeList {
                name,
                entries,
                otherwise,
            } => entries
                .get(&reference::fold_name(&v))
                .or(otherwise.as_ref())
                .map(|code| Cow::Borrowed(code.as_str()))
                .ok_or_else(|| format!("{:?} is not in the code list {name:?}", v.trim()))?,
            // A value that is already an INSEE code, of Normandy or
            // elsewhere, current or former, is kept.
            Transform::CommuneLookup { .. }
                if passerelle_schema::CommuneCode::parse(v.trim()).is_ok() =>
            {
                trimmed(v)
            }
            Transform::CommuneLookup { postcode } => {
                let pc = postcode
                    .as_ref()
                    .and_then(|p| p.select(record).into_iter().next());
                // Names are known in Normandy only: elsewhere the commune is
                // left unknown, the place known outside by its postcode.
                let elsewhere = pc
                    .as_deref()
                    .and_then(|p| passerelle_schema::Postcode::parse(p).ok())
                    .is_some_and(|p| !p.departement().is_normandy());
                if elsewhere {
                    return Ok(Cow::Borrowed(""));
                }
                reference::find_commune(&v, pc.as_deref())
                    .map(|c| Cow::Owned(c.code.clone()))
                    .ok_or_else(|| match &pc {
                        Some(pc) => format!(
                            "no Normandy commune named {:?} with postcode {pc}",
                            v.trim()
                        ),
                        None => format!("no single Normandy commune named {:?}", v.trim()),
                    })?
            }
            Transform::Format(template) => template.replacen("{}", &v, 1).into(),
            Transform::Multiply(n) => v
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|x| x.checked_mul(*n))
                .ok_or_else(|| format!("{v:?} is not a whole number"))?
                .to_string()
                .into(),
            Transform::Default(_)
            | Transform::Derive(_)
            | Transform::Split(_)
            | Transform::LheoDate { .. } => v,
        })
    }
}

/// The parts of a text between separators, trimmed, without empty ones.
fn pieces<'a>(v: &'a str, sep: &'a str) -> impl Iterator<Item = &'a str> {
    v.split(sep).map(str::trim).filter(|s| !s.is_empty())
}

/// A text without its leading and trailing white space, borrowed or kept
/// when it has none.
fn trimmed(v: Cow<'_, str>) -> Cow<'_, str> {
    match v {
        Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
        Cow::Owned(v) if v.trim().len() == v.len() => Cow::Owned(v),
        Cow::Owned(v) => Cow::Owned(v.trim().to_owned()),
    }
}

/// Whether a character's case mapping is the character itself.
fn unchanged(c: char, mut mapped: impl Iterator<Item = char>) -> bool {
    mapped.next() == Some(c) && mapped.next().is_none()
}

/// Whether a text has no white space but single spaces between words.
fn is_collapsed(v: &str) -> bool {
    !v.starts_with(' ')
        && !v.ends_with(' ')
        && !v.contains("  ")
        && !v.chars().any(|c| c.is_whitespace() && c != ' ')
}
