//! A sample payload read without a mapping: its format guessed, its
//! records found, each record's values by path.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::record::{self, PayloadError};

/// A sample payload, read.
#[derive(Debug)]
pub struct Sample {
    /// The `[source]` table of a mapping that reads it, as TOML lines.
    pub source: Vec<String>,
    /// Its records, as every mapping sees them.
    pub records: Vec<Value>,
    /// Each record's raw text where the format has one (a JSON record, a
    /// CSV line with its header), for a test case; else the record's JSON.
    pub first_raw: String,
}

/// The most records looked at.
const LOOKED_AT: usize = 500;

impl Sample {
    /// Reads `bytes`: JSON (the largest array of objects in it), XML (the
    /// repeated element most often found), iCalendar (its events) or CSV
    /// (its delimiter guessed from the header).
    pub fn read(bytes: &[u8]) -> Result<Sample, String> {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .ok_or("the sample is empty")?;
        let fail = |e: PayloadError| e.to_string();
        let mut sample = match text[start] {
            b'{' | b'[' => {
                let tree: Value = serde_json::from_slice(text).map_err(|e| e.to_string())?;
                let pointer = largest_array(&tree, String::new())
                    .map(|(p, _)| p)
                    .ok_or("no array of records in the JSON")?;
                let records: Vec<Value> = record::json_records(text, &pointer)
                    .map_err(fail)?
                    .into_iter()
                    .map(Value::from)
                    .collect();
                let first_raw = tree
                    .pointer(&pointer)
                    .and_then(|a| a.get(0))
                    .map(|r| serde_json::to_string_pretty(r).expect("JSON"))
                    .unwrap_or_default();
                Sample {
                    source: vec!["format = \"json\"".into(), format!("records = {pointer:?}")],
                    records,
                    first_raw,
                }
            }
            b'<' => {
                let decoded = record::decode_xml(text).map_err(fail)?;
                let root = root_element(&decoded).ok_or("no element in the XML")?;
                let (whole, broken) = record::xml_records(&decoded, &root);
                if let Some(e) = broken {
                    return Err(e.to_string());
                }
                let tree = whole
                    .into_iter()
                    .next()
                    .map(Value::from)
                    .ok_or("no root element")?;
                let name = repeated_element(&tree, &root);
                let (records, broken) = record::xml_records(&decoded, &name);
                if let Some(e) = broken {
                    return Err(e.to_string());
                }
                let first_raw = first_element(&decoded, &name).unwrap_or_default();
                Sample {
                    source: vec!["format = \"xml\"".into(), format!("record = {name:?}")],
                    records: records.into_iter().map(Value::from).collect(),
                    first_raw,
                }
            }
            _ if text[start..].starts_with(b"BEGIN:VCALENDAR") => {
                let decoded = record::ical_decode(text).map_err(fail)?;
                let records = record::ical_records(&decoded, "VEVENT").map_err(fail)?;
                let records: Vec<Value> = records.into_iter().map(Value::from).collect();
                let first_raw = records
                    .first()
                    .map(|r| serde_json::to_string_pretty(r).expect("JSON"))
                    .unwrap_or_default();
                Sample {
                    source: vec!["format = \"ical\"".into(), "component = \"VEVENT\"".into()],
                    records,
                    first_raw,
                }
            }
            _ => {
                let header = text.split(|b| *b == b'\n').next().unwrap_or_default();
                let delimiter = [b';', b',', b'\t', b'|']
                    .into_iter()
                    .max_by_key(|d| header.iter().filter(|b| *b == d).count())
                    .expect("candidates");
                let records: Vec<Value> = record::csv_records(text, delimiter)
                    .map_err(fail)?
                    .into_iter()
                    .map(Value::from)
                    .collect();
                let lines: Vec<&[u8]> = text.splitn(3, |b| *b == b'\n').take(2).collect();
                let first_raw = lines
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).trim_end().to_owned())
                    .collect::<Vec<_>>()
                    .join("\n");
                let shown = if delimiter == b'\t' {
                    "\\t".to_owned()
                } else {
                    (delimiter as char).to_string()
                };
                Sample {
                    source: vec![
                        "format = \"csv\"".into(),
                        format!("delimiter = \"{shown}\""),
                    ],
                    records,
                    first_raw,
                }
            }
        };
        if sample.records.is_empty() {
            return Err("no record in the sample".into());
        }
        sample.records.truncate(LOOKED_AT);
        Ok(sample)
    }

    /// Each path of the records (`employeur/siret`, `lieu/@cp`), with the
    /// texts it holds in each record (several for a list).
    pub fn paths(&self) -> BTreeMap<String, Vec<Vec<String>>> {
        let mut paths: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        for (i, r) in self.records.iter().enumerate() {
            let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
            leaves(r, String::new(), &mut found);
            for (path, texts) in found {
                let slot = paths.entry(path).or_default();
                slot.resize(i, Vec::new());
                slot.push(texts);
            }
        }
        let n = self.records.len();
        for texts in paths.values_mut() {
            texts.resize(n, Vec::new());
        }
        paths
    }
}

/// The texts under `v`, by path.
fn leaves(v: &Value, path: String, out: &mut BTreeMap<String, Vec<String>>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                // An element's text is read at the element's path.
                let p = if k == "#text" {
                    path.clone()
                } else if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}/{k}")
                };
                leaves(x, p, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| leaves(x, path.clone(), out)),
        Value::Null => {}
        Value::String(s) if s.trim().is_empty() => {}
        Value::String(s) => out.entry(path).or_default().push(s.clone()),
        other => out.entry(path).or_default().push(other.to_string()),
    }
}

/// The pointer to the largest array of objects in `v`, and its length.
fn largest_array(v: &Value, pointer: String) -> Option<(String, usize)> {
    let mut best: Option<(String, usize)> = None;
    let mut consider = |c: Option<(String, usize)>| {
        if let Some(c) = c {
            if best.as_ref().is_none_or(|b| c.1 > b.1) {
                best = Some(c);
            }
        }
    };
    match v {
        // Arrays inside the records are not records.
        Value::Array(a) if a.iter().any(Value::is_object) => consider(Some((pointer, a.len()))),
        Value::Object(o) => {
            for (k, x) in o {
                let key = k.replace('~', "~0").replace('/', "~1");
                consider(largest_array(x, format!("{pointer}/{key}")));
            }
        }
        _ => {}
    }
    best
}

/// The local name of the document's first element.
fn root_element(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let at = rest.find('<')?;
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return Some(name.rsplit(':').next().unwrap_or(&name).to_owned());
    }
}

/// The name of the repeated element with the most occurrences under the
/// root (`<offres><offre/><offre/></offres>`: `offre`); the root itself when
/// nothing repeats.
fn repeated_element(tree: &Value, root: &str) -> String {
    fn walk(v: &Value, best: &mut Option<(String, usize)>) {
        if let Value::Object(o) = v {
            for (k, x) in o {
                if let Value::Array(a) = x {
                    let objects = a.iter().filter(|e| e.is_object()).count();
                    if objects > 1 && best.as_ref().is_none_or(|b| objects > b.1) {
                        *best = Some((k.clone(), objects));
                    }
                    a.iter().for_each(|e| walk(e, best));
                } else {
                    walk(x, best);
                }
            }
        }
    }
    let mut best = None;
    walk(tree, &mut best);
    best.map_or_else(|| root.to_owned(), |(name, _)| name)
}

/// The text of the first element named `name` (any prefix), for a test.
fn first_element(text: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = text[from..].find('<') {
        let start = from + at;
        let tag: String = text[start + 1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        if tag.rsplit(':').next() == Some(name) {
            let close = format!("</{tag}>");
            let end = text[start..].find(&close)? + start + close.len();
            return Some(text[start..end].to_owned());
        }
        from = start + 1;
    }
    None
}
