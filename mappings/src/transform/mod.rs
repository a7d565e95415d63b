//! Transforms: the steps between a partner's text and a unified value.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use passerelle_schema::{reference, Cents, Postcode};

use crate::record::{Path, Texts, Tree};

/// One step of a field's pipeline. Each works on every value of the field
/// (a field may carry a list, such as ROME codes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Transform {
    /// Removes leading and trailing white space.
    Trim,
    /// Trims and folds every run of white space into one space.
    CollapseWhitespace,
    /// Upper case.
    Uppercase,
    /// Lower case.
    Lowercase,
    /// Keeps the digits only (`732 829 320 00074` → `73282932000074`).
    DigitsOnly,
    /// The leading whole number (`24 mois` → `24`).
    Int,
    /// Euros written the French way → integer cents.
    Euros,
    /// A postcode → its département code.
    DepartementFromPostcode,
    /// A date in the given `strftime` format → ISO 8601 (`2027-09-01`).
    Date(String),
    /// A date as LHÉO writes it, `AAAAMMJJ` → ISO 8601. `00000000` and
    /// `99999999` (a date unknown, or open) give no value; `AAAAMM00` (a
    /// month) and `AAAA0000` (a year) give their first day, or their last
    /// when `end` is set (`{ lheo_date = "end" }`).
    LheoDate { end: bool },
    /// A date-time in the given format (or `rfc3339`), read in `timezone`
    /// when it carries no offset → RFC 3339 in UTC. A date alone is read as
    /// midnight.
    DateTime { format: String, timezone: Tz },
    /// A partner's code → the unified code, by a named list (compared
    /// without case or accents); a code not in the list is `otherwise`,
    /// or an error without it.
    CodeList {
        name: String,
        entries: BTreeMap<String, String>,
        otherwise: Option<String>,
    },
    /// The value used when the field has none.
    Default(String),
    /// When the field has no value, one derived from these paths' values
    /// in the record (`derived-` and 24 hex digits of their SHA-256): the
    /// same record gives the same one at every read, as an identity that
    /// a re-sync finds again.
    Derive(Vec<crate::record::Path>),
    /// Splits each value on a separator.
    Split(String),
    /// A commune's name → its INSEE code, helped by the postcode found at
    /// `postcode` in the same record; an INSEE code is kept as it is.
    CommuneLookup { postcode: Option<Path> },
    /// Puts the value into a template at `{}` (`https://x/offres/{}`).
    Format(String),
    /// Multiplies a whole number (`4` weeks × 7 → `28` days).
    Multiply(u64),
}

impl Transform {
    /// Reads a transform as written in a mapping file: a bare name, or a
    /// one-key table with the transform's argument.
    pub fn parse(
        raw: &toml::Value,
        code_lists: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Self, String> {
        const KNOWN: &str = "trim, collapse_whitespace, uppercase, lowercase, digits_only, int, euros, \
             departement_from_postcode, date, lheo_date, datetime, code_list, default, derive, split, commune_lookup, format, multiply";
        let (name, arg) = match raw {
            toml::Value::String(s) => (s.as_str(), None),
            toml::Value::Table(t) if t.len() == 1 => {
                let (k, v) = t.iter().next().expect("one entry");
                (k.as_str(), Some(v))
            }
            _ => return Err("a transform is a name or a table with one key".into()),
        };
        let text_arg = |what: &str| -> Result<String, String> {
            match arg {
                Some(toml::Value::String(s)) => Ok(s.clone()),
                _ => Err(format!("transform `{name}` takes {what}")),
            }
        };
        Ok(match name {
            "trim" => Transform::Trim,
            "collapse_whitespace" => Transform::CollapseWhitespace,
            "uppercase" => Transform::Uppercase,
            "lowercase" => Transform::Lowercase,
            "digits_only" => Transform::DigitsOnly,
            "int" => Transform::Int,
            "euros" => Transform::Euros,
            "departement_from_postcode" => Transform::DepartementFromPostcode,
            "date" => {
                let format = text_arg("a date format such as \"%d/%m/%Y\"")?;
                check_format(&format)?;
                Transform::Date(format)
            }
            "lheo_date" => match arg {
                None => Transform::LheoDate { end: false },
                Some(toml::Value::String(s)) if s == "start" => Transform::LheoDate { end: false },
                Some(toml::Value::String(s)) if s == "end" => Transform::LheoDate { end: true },
                Some(_) => return Err("transform `lheo_date` takes \"start\" or \"end\"".into()),
            },
            "datetime" => match arg {
                Some(toml::Value::String(format)) => {
                    check_format(format)?;
                    Transform::DateTime {
                        format: format.clone(),
                        timezone: Tz::Europe__Paris,
                    }
                }
                Some(toml::Value::Table(t)) => {
                    let format = t
                        .get("format")
                        .and_then(toml::Value::as_str)
                        .ok_or("transform `datetime` needs a `format`")?;
                    check_format(format)?;
                    let timezone = match t.get("timezone").and_then(toml::Value::as_str) {
                        Some(tz) => tz
                            .parse()
                            .map_err(|_| format!("unknown time zone {tz:?}"))?,
                        None => Tz::Europe__Paris,
                    };
                    Transform::DateTime {
                        format: format.to_owned(),
                        timezone,
                    }
                }
                _ => return Err("transform `datetime` takes a format or {format, timezone}".into()),
            },
            "code_list" => {
                // A list's name, or `{ list, otherwise }`: the code of any
                // value the list does not hold, rather than a refusal.
                let (list, otherwise) = match arg {
                    Some(toml::Value::Table(t)) => {
                        let list = t
                            .get("list")
                            .and_then(toml::Value::as_str)
                            .ok_or("transform `code_list` needs a `list`")?;
                        let otherwise = match t.get("otherwise") {
                            Some(toml::Value::String(o)) => Some(o.clone()),
                            None => None,
                            Some(_) => return Err("`otherwise` of `code_list` is a code".into()),
                        };
                        if let Some(k) = t
                            .keys()
                            .find(|k| !matches!(k.as_str(), "list" | "otherwise"))
                        {
                            return Err(format!("transform `code_list` has no setting `{k}`"));
                        }
                        (list.to_owned(), otherwise)
                    }
                    _ => (
                        text_arg("the name of a code list, or { list, otherwise }")?,
                        None,
                    ),
                };
                let entries = code_lists
                    .get(&list)
                    .ok_or_else(|| format!("code list {list:?} is not defined in [code_lists]"))?;
                Transform::CodeList {
                    entries: entries
                        .iter()
                        .map(|(k, v)| (reference::fold_name(k), v.clone()))
                        .collect(),
                    name: list,
                    otherwise,
                }
            }
            "default" => Transform::Default(text_arg("the default value")?),
            "derive" => match arg {
                Some(toml::Value::Array(paths)) if !paths.is_empty() => Transform::Derive(
                    paths
                        .iter()
                        .map(|p| p.as_str().map(crate::record::Path::parse))
                        .collect::<Option<_>>()
                        .ok_or("transform `derive` takes a list of paths")?,
                ),
                _ => return Err("transform `derive` takes a list of paths".into()),
            },
            "multiply" => match arg {
                Some(toml::Value::Integer(n)) if *n > 0 => Transform::Multiply(*n as u64),
                _ => return Err("transform `multiply` takes a positive whole number".into()),
            },
            "split" => Transform::Split(text_arg("the separator")?),
            "format" => {
                let template = text_arg("a template with {}")?;
                if !template.contains("{}") {
                    return Err("transform `format` needs {} in its template".into());
                }
                Transform::Format(template)
            }
            "commune_lookup" => match arg {
                None => Transform::CommuneLookup { postcode: None },
                Some(toml::Value::Table(t)) => Transform::CommuneLookup {
                    postcode: t
                        .get("postcode")
                        .and_then(toml::Value::as_str)
                        .map(Path::parse),
                },
                Some(_) => {
                    return Err("transform `commune_lookup` takes {postcode = \"path\"}".into())
                }
            },
            other => {
                return Err(format!(
                    "unknown transform `{other}`; known transforms: {KNOWN}"
                ))
            }
        })
    }

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

/// A LHÉO date (see [`Transform::LheoDate`]); `None` for a date unknown
/// or open.
fn lheo_date(v: &str, end: bool) -> Result<Option<NaiveDate>, String> {
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

/// Whether a text is a date written `YYYY-MM-DD`, as dates are unified.
fn is_iso_date(v: &str) -> bool {
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

fn check_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if format == "rfc3339" {
        return Ok(());
    }
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err(format!("{format:?} is not a valid date format"));
    }
    Ok(())
}

fn parse_datetime(v: &str, format: &str, tz: Tz) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(raw: &str) -> Transform {
        let v: toml::Table = toml::from_str(&format!("t = {raw}")).unwrap();
        let mut lists = BTreeMap::new();
        lists.insert(
            "d".to_owned(),
            BTreeMap::from([("Brevet Professionnel".to_owned(), "4".to_owned())]),
        );
        Transform::parse(&v["t"], &lists).unwrap()
    }

    /// The transform's result, the same whether the text it is given is
    /// borrowed or owned.
    fn run(tr: &Transform, v: &str) -> Result<Vec<String>, String> {
        let record = json!({"cp": "50000"});
        let mut results = [Cow::Borrowed(v), Cow::Owned(v.to_owned())].map(|v| {
            tr.apply(smallvec::smallvec![v], &record)
                .map(|t| t.into_iter().map(Cow::into_owned).collect::<Vec<_>>())
        });
        assert_eq!(results[0], results[1], "{tr:?} on {v:?}");
        std::mem::replace(&mut results[0], Ok(Vec::new()))
    }

    #[test]
    fn each_transform_does_what_it_says() {
        assert_eq!(
            run(&t("\"collapse_whitespace\""), "  a \n b ").unwrap(),
            ["a b"]
        );
        assert_eq!(
            run(&t("\"digits_only\""), "732 829 320 00074").unwrap(),
            ["73282932000074"]
        );
        assert_eq!(run(&t("\"int\""), "24 mois").unwrap(), ["24"]);
        assert_eq!(run(&t("\"int\""), "2\u{a0}400 heures").unwrap(), ["2400"]);
        assert_eq!(run(&t("\"euros\""), "1 234,50").unwrap(), ["123450"]);
        assert_eq!(
            run(&t("\"departement_from_postcode\""), "76600").unwrap(),
            ["76"]
        );
        assert_eq!(
            run(&t("{date = \"%d/%m/%Y\"}"), "01/09/2027").unwrap(),
            ["2027-09-01"]
        );
        assert_eq!(
            run(&t("{datetime = \"%d/%m/%Y %H:%M\"}"), "15/11/2026 09:12").unwrap(),
            ["2026-11-15T08:12:00Z"]
        );
        assert_eq!(
            run(&t("{datetime = \"%d/%m/%Y\"}"), "15/07/2027").unwrap(),
            ["2027-07-14T22:00:00Z"]
        );
        assert_eq!(
            run(&t("{code_list = \"d\"}"), "brevet professionnel").unwrap(),
            ["4"]
        );
        assert_eq!(
            run(&t("{commune_lookup = {postcode = \"cp\"}}"), "ST LO").unwrap(),
            ["50502"]
        );
        assert_eq!(run(&t("{multiply = 7}"), "4").unwrap(), ["28"]);
        assert_eq!(
            run(&t("{format = \"https://x/{}\"}"), "7").unwrap(),
            ["https://x/7"]
        );
        assert_eq!(
            t("{split = \",\"}")
                .apply(smallvec::smallvec!["a, b,".into()], &json!({}))
                .unwrap()
                .into_vec(),
            ["a", "b"]
        );
        assert_eq!(run(&t("{split = \",\"}"), " a ,, b").unwrap(), ["a", "b"]);
        assert_eq!(
            run(&t("{date = \"%Y-%m-%d\"}"), " 2027-09-01 ").unwrap(),
            ["2027-09-01"]
        );
        assert_eq!(
            t("{default = \"1\"}")
                .apply(Texts::new(), &json!({}))
                .unwrap()
                .into_vec(),
            ["1"]
        );
    }

    #[test]
    fn lheo_dates_unknown_and_open_give_no_value_months_and_years_a_day() {
        let start = t("\"lheo_date\"");
        let end = t("{lheo_date = \"end\"}");
        assert_eq!(run(&start, "20260901").unwrap(), ["2026-09-01"]);
        assert_eq!(run(&end, "99999999").unwrap(), Vec::<String>::new());
        assert_eq!(run(&start, "00000000").unwrap(), Vec::<String>::new());
        assert_eq!(run(&start, "20260900").unwrap(), ["2026-09-01"]);
        assert_eq!(run(&end, "20280200").unwrap(), ["2028-02-29"]);
        assert_eq!(run(&start, "20270000").unwrap(), ["2027-01-01"]);
        assert_eq!(run(&end, "20270000").unwrap(), ["2027-12-31"]);
        for bad in ["2026-09-01", "20261301", "20260231", "2026090", "20260001"] {
            let e = run(&start, bad).unwrap_err();
            assert!(e.contains("not a LHÉO date"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_values_say_why() {
        let e = run(&t("{date = \"%d/%m/%Y\"}"), "2027-09-01").unwrap_err();
        assert!(e.contains("not a date"), "{e}");
        let e = run(&t("{code_list = \"d\"}"), "CAPA").unwrap_err();
        assert!(e.contains("not in the code list"), "{e}");
        let e = run(&t("{commune_lookup = {postcode = \"cp\"}}"), "Paris").unwrap_err();
        assert!(e.contains("no Normandy commune"), "{e}");
    }

    #[test]
    fn derive_gives_a_missing_value_from_the_record_and_keeps_a_given_one() {
        let lists = BTreeMap::new();
        let v: toml::Table = toml::from_str("t = {derive = [\"a\", \"b\"]}").unwrap();
        let derive = Transform::parse(&v["t"], &lists).unwrap();
        let record = json!({ "a": "x", "b": "y" });
        let given = derive
            .apply(smallvec::smallvec![Cow::Borrowed("uid-1")], &record)
            .unwrap();
        assert_eq!(given.as_slice(), ["uid-1"]);
        let derived = |record: &serde_json::Value| {
            derive
                .apply(smallvec::smallvec![Cow::Borrowed(" ")], record)
                .unwrap()[0]
                .to_string()
        };
        let one = derived(&record);
        assert!(one.starts_with("derived-") && one.len() == 32, "{one}");
        assert_eq!(derived(&record), one, "the same at every read");
        assert_ne!(derived(&json!({ "a": "x", "b": "z" })), one);
        // Values moved from one path to the next are another record.
        assert_ne!(derived(&json!({ "a": "xy", "b": "" })), one);
        for bad in [
            "t = {derive = []}",
            "t = {derive = \"a\"}",
            "t = {derive = [1]}",
        ] {
            let v: toml::Table = toml::from_str(bad).unwrap();
            assert!(Transform::parse(&v["t"], &lists).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_code_list_may_give_a_code_to_what_it_does_not_hold() {
        let mut lists = BTreeMap::new();
        lists.insert(
            "k".to_owned(),
            BTreeMap::from([("Forum".to_owned(), "forum".to_owned())]),
        );
        let parse = |text: &str| {
            let v: toml::Table = toml::from_str(&format!("t = {text}")).unwrap();
            Transform::parse(&v["t"], &lists)
        };
        let otherwise = parse("{code_list = {list = \"k\", otherwise = \"other\"}}").unwrap();
        assert_eq!(run(&otherwise, "forum").unwrap(), ["forum"]);
        assert_eq!(run(&otherwise, "Salon").unwrap(), ["other"]);
        let strict = parse("{code_list = {list = \"k\"}}").unwrap();
        assert!(run(&strict, "Salon").is_err());
        for bad in [
            "{code_list = {otherwise = \"other\"}}",
            "{code_list = {list = \"k\", otherwise = 3}}",
            "{code_list = {list = \"k\", else = \"x\"}}",
            "{code_list = {list = \"nope\"}}",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_transforms_are_refused_with_the_known_ones() {
        let v: toml::Table = toml::from_str("t = \"trimm\"").unwrap();
        let e = Transform::parse(&v["t"], &BTreeMap::new()).unwrap_err();
        assert!(e.contains("known transforms"), "{e}");
        let v: toml::Table = toml::from_str("t = {code_list = \"nope\"}").unwrap();
        assert!(Transform::parse(&v["t"], &BTreeMap::new()).is_err());
    }
}
