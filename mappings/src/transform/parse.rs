//! A transform read as a mapping file writes it: a bare name, or a
//! one-key table with its argument, checked (date formats, time zones,
//! code lists defined in the file) so that a bad one is refused at load.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use passerelle_schema::reference;

use super::dates::check_format;
use super::Transform;
use crate::record::Path;

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
}
