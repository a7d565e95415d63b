//! The path language: `/`-separated keys, `*`, indexes and
//! `name[@attr=value]` predicates, read once into a [`Path`] and applied to
//! any [`Tree`], whatever the wire format of the record.

use std::borrow::Cow;

use super::Tree;

/// Reads the values a path selects in a record, as text.
///
/// A path is `/`-separated keys (a leading `/` is optional, so JSON pointers
/// read as they are); `*` selects every element or value; a key applied to an
/// array applies to each of its elements. Numbers and booleans are given as
/// text; an object gives its `#text`; nulls and empty texts give nothing.
pub fn select(record: &impl Tree, path: &str) -> Vec<String> {
    Path::parse(path).select(record)
}

/// A path read once, to be applied to many records (see [`select`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Path(Vec<Segment>);

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// A key, or an element's index when the value is an array.
    Key { key: String, index: Option<usize> },
    /// `*`: every element or value.
    Any,
    /// `name[@attr=value]`: the `name` children whose attribute has that
    /// value.
    Where {
        name: String,
        attr: String,
        wanted: String,
    },
}

impl std::fmt::Display for Path {
    /// The path as written (`action/session`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            match segment {
                Segment::Key { key, .. } => f.write_str(key)?,
                Segment::Any => f.write_str("*")?,
                Segment::Where { name, attr, wanted } => write!(f, "{name}[{attr}={wanted}]")?,
            }
        }
        Ok(())
    }
}

impl Path {
    /// Reads a path's text.
    pub fn parse(path: &str) -> Self {
        let segment = |s: &str| {
            if s == "*" {
                return Segment::Any;
            }
            if let Some((name, predicate)) = s.strip_suffix(']').and_then(|s| s.split_once("[@")) {
                if let Some((attr, wanted)) = predicate.split_once('=') {
                    return Segment::Where {
                        name: name.to_owned(),
                        attr: format!("@{attr}"),
                        wanted: wanted.to_owned(),
                    };
                }
            }
            Segment::Key {
                key: s.to_owned(),
                index: s.parse().ok(),
            }
        };
        Self(
            path.split('/')
                .filter(|s| !s.is_empty())
                .map(segment)
                .collect(),
        )
    }

    /// The values the path selects in `record`, as text.
    pub fn select(&self, record: &impl Tree) -> Vec<String> {
        self.texts(record)
            .into_iter()
            .map(Cow::into_owned)
            .collect()
    }

    /// The values the path reaches in `record`, in document order; the
    /// elements of an array it reaches are given one by one.
    pub fn nodes<'a, T: Tree>(&self, record: &'a T) -> Vec<&'a T> {
        let mut out = Vec::new();
        walk(record, &self.0, &mut |v| match v.items() {
            Some(items) => out.extend(items),
            None => out.push(v),
        });
        out
    }

    /// The path's first step, and the steps after it.
    pub fn split_first(&self) -> (Path, Path) {
        match self.0.split_first() {
            Some((first, rest)) => (Path(vec![first.clone()]), Path(rest.to_vec())),
            None => (Path(Vec::new()), Path(Vec::new())),
        }
    }

    /// [`Path::select`], without an allocation for the usual single value,
    /// its texts borrowed from the record where they can be.
    pub fn texts<'a, T: Tree>(&self, record: &'a T) -> Texts<'a> {
        let mut out = Texts::new();
        walk(record, &self.0, &mut |v| leaf_texts(v, &mut out));
        out
    }
}

/// The texts of a field: most fields have one.
pub type Texts<'a> = smallvec::SmallVec<[Cow<'a, str>; 1]>;

/// Hands `f` every value that `path` reaches from `v`, in document order.
fn walk<'a, T: Tree>(v: &'a T, path: &[Segment], f: &mut dyn FnMut(&'a T)) {
    let Some((segment, rest)) = path.split_first() else {
        f(v);
        return;
    };
    match segment {
        Segment::Where { name, attr, wanted } => {
            let name = [Segment::Key {
                key: name.clone(),
                index: None,
            }];
            let matching = |c: &T| c.child(attr).and_then(|a| a.text()).as_deref() == Some(wanted);
            walk(v, &name, &mut |c: &'a T| match c.items() {
                Some(items) => items
                    .iter()
                    .filter(|c| matching(c))
                    .for_each(|c| walk(c, rest, f)),
                None if matching(c) => walk(c, rest, f),
                None => {}
            });
        }
        Segment::Any => match v.items() {
            Some(items) => items.iter().for_each(|i| walk(i, rest, f)),
            None => v.each_value(&mut |i| walk(i, rest, f)),
        },
        Segment::Key { key, index } => match (v.items(), index) {
            (Some(items), Some(i)) => {
                if let Some(item) = items.get(*i) {
                    walk(item, rest, f);
                }
            }
            // A key applied to an array applies to each of its elements.
            (Some(items), None) => items.iter().for_each(|i| walk(i, path, f)),
            (None, _) => {
                if let Some(child) = v.child(key) {
                    walk(child, rest, f);
                }
            }
        },
    }
}

fn leaf_texts<'a, T: Tree>(v: &'a T, out: &mut Texts<'a>) {
    if let Some(t) = v.text() {
        if !t.is_empty() {
            out.push(t);
        }
    } else if let Some(items) = v.items() {
        items.iter().for_each(|i| leaf_texts(i, out));
    } else if let Some(t) = v.child("#text") {
        leaf_texts(t, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_reach_through_objects_and_arrays() {
        let r = json!({"a": {"b": [{"c": "x"}, {"c": 2}]}, "t": {"#text": "hi", "@k": "v"}});
        assert_eq!(select(&r, "/a/b/c"), vec!["x", "2"]);
        assert_eq!(select(&r, "a/b/1/c"), vec!["2"]);
        assert_eq!(select(&r, "t"), vec!["hi"]);
        assert_eq!(select(&r, "t/@k"), vec!["v"]);
        assert!(select(&r, "missing").is_empty());
        let x = json!({"extra": [{"@info": "a", "#text": "1"}, {"@info": "b", "#text": "2"}]});
        assert_eq!(select(&x, "extra[@info=b]"), vec!["2"]);
        let s = json!({"session": [{"extra": {"@info": "p", "#text": "3"}}, {"extra": {"@info": "p", "#text": "4"}}]});
        assert_eq!(select(&s, "session/extra[@info=p]"), vec!["3", "4"]);
    }
}
