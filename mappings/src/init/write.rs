//! The first mapping file written: the sample's source, each field with
//! its best path and the transforms its kind needs, the fields no path
//! fits left as comments, and a test case of the sample's first record.

use std::fmt::Write as _;

use crate::entity::EntityKind;
use crate::Mapping;

use super::fit::{date_format, datetime_format, kind_of, score, Kind};
use super::Sample;

/// A field and the path chosen for it.
struct Chosen {
    field: &'static str,
    path: String,
    share: f64,
    transforms: String,
}

/// The text of a first mapping of `partner`'s `entity` from `sample` (read
/// from `input`), for a person to finish.
pub fn first_mapping(partner: &str, entity: EntityKind, sample: &Sample, input: &str) -> String {
    let paths = sample.paths();
    let fields = entity.fields();
    // Every (field, path) that fits, best first; each field and each path
    // taken once.
    let mut candidates: Vec<(f64, usize, &String)> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        for (path, values) in &paths {
            if let Some(s) = score(f.name, path, values) {
                candidates.push((s, i, path));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    let mut chosen: Vec<Option<Chosen>> = fields.iter().map(|_| None).collect();
    let mut taken: Vec<&String> = Vec::new();
    for (s, i, path) in candidates {
        if chosen[i].is_some() || taken.contains(&path) {
            continue;
        }
        taken.push(path);
        let values: Vec<&str> = paths[path].iter().flatten().map(String::as_str).collect();
        let share = paths[path].iter().filter(|t| !t.is_empty()).count() as f64
            / sample.records.len() as f64;
        chosen[i] = Some(Chosen {
            field: fields[i].name,
            path: path.clone(),
            share: share.min(s),
            transforms: transforms(kind_of(fields[i].name), &values),
        });
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# A first mapping of {partner}'s {entity}s, written by `passerelle mapping init`\n\
         # from {input} ({n} records read). Each field is the path whose values fit it\n\
         # best: check each against the partner's documentation, say where the\n\
         # fields left as comments are, and run `passerelle mapping test`.",
        entity = entity.name(),
        n = sample.records.len(),
    );
    let _ = writeln!(out, "partner = {}", quoted(partner));
    let _ = writeln!(out, "entity = {}", quoted(entity.name()));
    let _ = writeln!(
        out,
        "description = {}",
        quoted(&format!("{partner}'s {}s.", entity.name()))
    );
    let _ = writeln!(out, "\n[source]");
    for line in &sample.source {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\n[fields]");
    for c in chosen.iter().flatten() {
        let _ = writeln!(
            out,
            "{} = {{ from = {}{} }}   # in {:.0} % of the records",
            key(c.field),
            quoted(&c.path),
            c.transforms,
            c.share * 100.0
        );
    }
    let missing: Vec<_> = fields
        .iter()
        .zip(&chosen)
        .filter(|(_, c)| c.is_none())
        .map(|(f, _)| f)
        .collect();
    let required: Vec<_> = missing.iter().filter(|f| f.required).collect();
    if !required.is_empty() {
        let _ = writeln!(
            out,
            "# Required, and no path of the sample fits: say where each is, or give\n# it a value (`{{ value = \"…\" }}`)."
        );
        for f in required {
            let _ = writeln!(out, "# {} = {{ from = \"…\" }}", key(f.name));
        }
    }
    let optional: Vec<&str> = missing
        .iter()
        .filter(|f| !f.required)
        .map(|f| f.name)
        .collect();
    if !optional.is_empty() {
        let _ = writeln!(out, "# Not found in the sample: {}.", optional.join(", "));
    }

    // A test case: the first record, and what this file maps it to.
    if !sample.first_raw.is_empty() && !sample.source[0].contains("ical") {
        let expect = expected(&out, &sample.records[0], &chosen);
        let _ = writeln!(out, "\n[[test]]\nname = \"the sample's first record\"");
        if sample.first_raw.contains("'''") {
            let _ = writeln!(out, "input = {}", quoted(&sample.first_raw));
        } else {
            let _ = writeln!(out, "input = '''\n{}\n'''", sample.first_raw);
        }
        if !expect.is_empty() {
            let _ = writeln!(out, "[test.expect]");
            for (field, value) in expect {
                let _ = writeln!(out, "{} = {}", key(field), value);
            }
        }
    }
    out
}

/// The transforms a field of `kind` needs for these values, as the rest of
/// an inline table (`, transforms = […]`).
fn transforms(kind: Kind, values: &[&str]) -> String {
    let most = |f: fn(&str) -> Option<&'static str>| {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for v in values {
            if let Some(fmt) = f(v) {
                match counts.iter_mut().find(|(x, _)| *x == fmt) {
                    Some(c) => c.1 += 1,
                    None => counts.push((fmt, 1)),
                }
            }
        }
        counts.into_iter().max_by_key(|c| c.1).map(|c| c.0)
    };
    let list = match kind {
        Kind::Id | Kind::Commune | Kind::Postcode | Kind::LongText | Kind::Uai => {
            "\"trim\"".to_owned()
        }
        Kind::Siret => "\"digits_only\"".to_owned(),
        Kind::Rome | Kind::Country => "\"trim\", \"uppercase\"".to_owned(),
        Kind::Title | Kind::Name | Kind::Text => "\"collapse_whitespace\"".to_owned(),
        Kind::Count => "\"int\"".to_owned(),
        Kind::Date => match most(date_format) {
            Some(f) => format!("{{ date = {} }}", quoted(f)),
            None => return String::new(),
        },
        Kind::DateTime => match most(datetime_format) {
            Some(f) => format!("{{ datetime = {} }}", quoted(f)),
            None => return String::new(),
        },
        Kind::Level | Kind::Url | Kind::Email | Kind::Phone | Kind::Latitude | Kind::Longitude => {
            return String::new()
        }
    };
    format!(", transforms = [{list}]")
}

/// What the file `text` maps `record` to, for the fields chosen among
/// `partner_id` and `title`: none when the file does not load yet (a
/// required field left to a person) or the record does not map.
fn expected(
    text: &str,
    record: &serde_json::Value,
    chosen: &[Option<Chosen>],
) -> Vec<(&'static str, String)> {
    let Ok(mapping) = Mapping::parse("init", text) else {
        return Vec::new();
    };
    let Ok(mapped) = mapping.map_record_json(0, record) else {
        return Vec::new();
    };
    chosen
        .iter()
        .flatten()
        .filter(|c| matches!(c.field, "partner_id" | "title"))
        .filter_map(|c| {
            let def = mapping
                .entity()
                .fields()
                .iter()
                .find(|f| f.name == c.field)?;
            let v = mapped.pointer(def.json)?.as_str()?;
            Some((c.field, quoted(v)))
        })
        .collect()
}

/// A TOML string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key: quoted when dotted.
fn key(k: &str) -> String {
    if k.contains('.') {
        quoted(k)
    } else {
        k.to_owned()
    }
}
