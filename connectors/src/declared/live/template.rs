//! Templates of a request's parts: text with `{name}` placeholders, each a
//! filter of the search (`{rome}`, `{departement}`, `{level}`; `{uai}`,
//! `{year}`, `{country}`), a page's position (`{page}`, `{offset}`,
//! `{size}`, `{cursor}`) or an offer's identifier (`{id}`), optionally
//! through a code list of the declaration (`{level|niveaux}`).

use std::collections::BTreeMap;

/// The names a template of each kind of search may use.
pub const OFFER_FILTERS: &[&str] = &["rome", "departement", "level"];
/// The names a template of a mobility search may use.
pub const MOBILITY_FILTERS: &[&str] = &["uai", "year", "country"];
/// The names every template may use, for paging and for one record.
pub const PAGING: &[&str] = &["page", "offset", "size", "cursor", "id"];

/// A template, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value {
        name: String,
        code_list: Option<String>,
    },
}

/// The values a request is built from: each filter's values (several for
/// the ROME codes), by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<&'static str, Vec<String>>);

impl Filters {
    /// These values and `name`'s, when it has some.
    pub fn with(mut self, name: &'static str, values: impl IntoIterator<Item = String>) -> Self {
        let values: Vec<String> = values.into_iter().collect();
        if !values.is_empty() {
            self.0.insert(name, values);
        }
        self
    }

    /// These values and `other`'s, `other`'s winning.
    pub fn extend(&mut self, other: Filters) {
        self.0.extend(other.0);
    }

    fn get(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or_default()
    }
}

impl Template {
    /// Reads `text`; `known` are the names it may use, `code_lists` the
    /// declaration's lists. The error says what is wrong in it.
    pub fn read(
        text: &str,
        known: &[&str],
        code_lists: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("{text:?}: a `{{` is not closed"))?
                + open;
            let inner = &rest[open + 1..close];
            let (name, list) = match inner.split_once('|') {
                Some((n, l)) => (n.trim(), Some(l.trim())),
                None => (inner.trim(), None),
            };
            if !known.contains(&name) && !PAGING.contains(&name) {
                return Err(format!(
                    "{text:?}: no filter is named {name:?}; known: {}",
                    known
                        .iter()
                        .chain(PAGING)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if let Some(list) = list {
                if !code_lists.contains_key(list) {
                    return Err(format!("{text:?}: no code list is named {list:?}"));
                }
            }
            parts.push(Part::Value {
                name: name.to_owned(),
                code_list: list.map(str::to_owned),
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if parts
            .iter()
            .any(|p| matches!(p, Part::Text(t) if t.contains('}')))
        {
            return Err(format!("{text:?}: a `}}` is not opened"));
        }
        Ok(Self { parts })
    }

    /// The names of the values it uses.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Value { name, .. } => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Whether it uses no value: a constant.
    pub fn is_constant(&self) -> bool {
        self.names().next().is_none()
    }

    /// The texts it gives for `filters`: one when each of its values has
    /// one (several values joined by `separator`), one per value of a
    /// filter of several when `separator` is `None`; none when one of its
    /// values has none (the part it fills is left out). `escape` is applied
    /// to each value (a body's XML or JSON).
    pub fn fill(
        &self,
        filters: &Filters,
        code_lists: &BTreeMap<String, BTreeMap<String, String>>,
        separator: Option<&str>,
        escape: fn(&str) -> String,
    ) -> Vec<String> {
        let mut out = vec![String::new()];
        for part in &self.parts {
            match part {
                Part::Text(t) => out.iter_mut().for_each(|o| o.push_str(t)),
                Part::Value { name, code_list } => {
                    let mut values: Vec<String> = filters
                        .get(name)
                        .iter()
                        .filter_map(|v| match code_list {
                            Some(list) => code_lists.get(list).and_then(|l| l.get(v)).cloned(),
                            None => Some(v.clone()),
                        })
                        .map(|v| escape(&v))
                        .collect();
                    if values.is_empty() {
                        return Vec::new();
                    }
                    match separator {
                        Some(sep) => {
                            let joined = values.join(sep);
                            out.iter_mut().for_each(|o| o.push_str(&joined));
                        }
                        None if values.len() == 1 => {
                            let v = values.remove(0);
                            out.iter_mut().for_each(|o| o.push_str(&v));
                        }
                        None => {
                            out = out
                                .iter()
                                .flat_map(|o| values.iter().map(move |v| format!("{o}{v}")))
                                .collect();
                        }
                    }
                }
            }
        }
        out
    }
}

/// A value as it is: for URLs (the client escapes them) and headers.
pub fn verbatim(v: &str) -> String {
    v.to_owned()
}

/// A value within XML text.
pub fn xml(v: &str) -> String {
    quick_xml::escape::escape(v).into_owned()
}

/// A value within a JSON string.
pub fn json(v: &str) -> String {
    let quoted = serde_json::to_string(v).expect("a string is JSON");
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> BTreeMap<String, BTreeMap<String, String>> {
        BTreeMap::from([(
            "niveaux".to_owned(),
            BTreeMap::from([
                ("3".to_owned(), "CAP".to_owned()),
                ("4".to_owned(), "BAC".to_owned()),
            ]),
        )])
    }

    #[test]
    fn a_template_fills_joins_repeats_and_leaves_out_what_has_no_value() {
        let filters = Filters::default()
            .with("rome", ["D1102".to_owned(), "D1104".to_owned()])
            .with("level", ["3".to_owned()]);
        let t = Template::read("{rome}", OFFER_FILTERS, &lists()).unwrap();
        assert_eq!(
            t.fill(&filters, &lists(), Some(","), verbatim),
            ["D1102,D1104"]
        );
        assert_eq!(
            t.fill(&filters, &lists(), None, verbatim),
            ["D1102", "D1104"]
        );
        let t = Template::read("niv-{level|niveaux}", OFFER_FILTERS, &lists()).unwrap();
        assert_eq!(t.fill(&filters, &lists(), Some(","), verbatim), ["niv-CAP"]);
        let t = Template::read("{departement}", OFFER_FILTERS, &lists()).unwrap();
        assert!(t.fill(&filters, &lists(), Some(","), verbatim).is_empty());
        let t = Template::read("<q>{rome}</q>", OFFER_FILTERS, &lists()).unwrap();
        let f = Filters::default().with("rome", ["a<b".to_owned()]);
        assert_eq!(t.fill(&f, &lists(), Some(","), xml), ["<q>a&lt;b</q>"]);
        assert!(Template::read("statut=apprenti", OFFER_FILTERS, &lists())
            .unwrap()
            .is_constant());
    }

    #[test]
    fn a_template_naming_what_does_not_exist_is_refused() {
        let e = Template::read("{metier}", OFFER_FILTERS, &lists()).unwrap_err();
        assert!(
            e.contains("no filter is named \"metier\"; known: rome, departement, level"),
            "{e}"
        );
        let e = Template::read("{uai}", OFFER_FILTERS, &lists()).unwrap_err();
        assert!(e.contains("no filter is named \"uai\""), "{e}");
        let e = Template::read("{level|diplomes}", OFFER_FILTERS, &lists()).unwrap_err();
        assert!(e.contains("no code list is named \"diplomes\""), "{e}");
        assert!(Template::read("{rome", OFFER_FILTERS, &lists()).is_err());
        assert!(Template::read("rome}", OFFER_FILTERS, &lists()).is_err());
    }
}
