//! Partner payloads read into records, and paths into records.
//!
//! Every record, whatever its wire format, is held as a JSON value so that one
//! path syntax serves all formats. An XML element becomes an object whose
//! attributes are `@name` keys, whose child elements are keys by local name
//! (an array when repeated) and whose text is `#text`; an element with text
//! only becomes a string. Namespace prefixes are dropped.
//!
//! That value is a [`Json`], whose texts are borrowed from the payload where
//! they need no unescaping: reading a page or a feed takes an allocation per
//! object and array rather than one per key and text. Paths read any
//! [`Tree`], so a [`serde_json::Value`] (a mapping file's test, the
//! `map` command's output) is read the same way.

use quick_xml::events::Event;
use quick_xml::Reader;
use std::borrow::Cow;

use serde_json::Value;

mod stream;
pub use stream::xml_read_each;

/// Why a payload could not be read into records at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The bytes are not in the declared or detected character set.
    #[error("unreadable text: {0}")]
    Encoding(String),
    /// The payload is not well-formed in its format.
    #[error("malformed {format}: {reason}")]
    Syntax {
        /// The format (`XML`, `JSON`).
        format: &'static str,
        /// The parser's words.
        reason: String,
    },
    /// The place the records should be is not in the payload.
    #[error("no records at {0}")]
    NoRecords(String),
}

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

/// A record as paths read it: a JSON value, whatever holds it. A record
/// read from XML, CSV or iCalendar is a [`serde_json::Value`]; a JSON
/// payload is read into a [`Json`] that borrows its texts from the payload.
pub trait Tree: Sized {
    /// The value under `key`, for an object.
    fn child(&self, key: &str) -> Option<&Self>;
    /// The elements, for an array.
    fn items(&self) -> Option<&[Self]>;
    /// Hands `f` each value of an object, in the object's order.
    fn each_value<'a>(&'a self, f: &mut dyn FnMut(&'a Self));
    /// The text of a string, number or boolean.
    fn text(&self) -> Option<std::borrow::Cow<'_, str>>;
}

impl Tree for Value {
    fn child(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }

    fn each_value<'a>(&'a self, f: &mut dyn FnMut(&'a Self)) {
        if let Value::Object(map) = self {
            map.values().for_each(f);
        }
    }

    fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Value::String(s) => Some(s.as_str().into()),
            Value::Number(n) => Some(n.to_string().into()),
            Value::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }
}

/// A JSON value whose texts are borrowed from the payload (those with
/// escapes excepted): reading a page of records takes an allocation per
/// object and array, not one per key and text as a [`Value`] does.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(serde_json::Number),
    /// A string.
    String(std::borrow::Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's members, in the payload's order.
    Object(Vec<(std::borrow::Cow<'a, str>, Json<'a>)>),
}

impl Tree for Json<'_> {
    fn child(&self, key: &str) -> Option<&Self> {
        match self {
            // The last of repeated keys, as serde_json keeps it.
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    fn each_value<'a>(&'a self, f: &mut dyn FnMut(&'a Self)) {
        if let Json::Object(members) = self {
            members.iter().for_each(|(_, v)| f(v));
        }
    }

    fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Json::String(s) => Some(s.as_ref().into()),
            Json::Number(n) => Some(n.to_string().into()),
            Json::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(v.to_owned().into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(v.into()))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        serde::Deserialize::deserialize(d)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        // Room for a few from the first: growing from one at a time would
        // allocate three or four times for a record's usual members.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            if items.is_empty() {
                items.reserve(4);
            }
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        // As for arrays.
        let mut members = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            if members.is_empty() {
                members.reserve(8);
            }
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

/// An object's key, borrowed when it has no escapes (serde's `Cow` always
/// copies).
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_str(JsonVisitor)? {
            Json::String(s) => Ok(Key(s)),
            _ => Err(serde::de::Error::custom("a key is a string")),
        }
    }
}

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

/// The records of a JSON payload: the array at `pointer` (or the payload
/// itself when it is an array and `pointer` is empty), their texts borrowed
/// from `bytes`.
pub fn json_records<'a>(bytes: &'a [u8], pointer: &str) -> Result<Vec<Json<'a>>, PayloadError> {
    let doc: Json<'a> = serde_json::from_slice(bytes).map_err(|e| PayloadError::Syntax {
        format: "JSON",
        reason: e.to_string(),
    })?;
    let mut at = Some(doc);
    // A JSON pointer (RFC 6901): `/`-separated keys or indexes, with `~1`
    // for `/` and `~0` for `~`.
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        at = match at {
            Some(Json::Object(members)) => members
                .into_iter()
                .rev()
                .find(|(k, _)| *k == token)
                .map(|(_, v)| v),
            Some(Json::Array(mut items)) => token
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .map(|i| items.swap_remove(i)),
            _ => None,
        };
    }
    match at {
        Some(Json::Array(items)) => Ok(items),
        Some(obj @ Json::Object(_)) if pointer.is_empty() => Ok(vec![obj]),
        _ => Err(PayloadError::NoRecords(pointer.to_owned())),
    }
}

impl From<Json<'_>> for Value {
    fn from(v: Json<'_>) -> Self {
        match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => Value::Number(n),
            Json::String(s) => Value::String(s.into_owned()),
            Json::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            Json::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), Value::from(v)))
                    .collect(),
            ),
        }
    }
}

/// The key under which a record that could not be read carries the reason.
pub const UNREADABLE: &str = "#unreadable";

/// The rows of a CSV document with a header row, as objects keyed by the
/// header's names. A row with a different number of fields than the header
/// is a record that carries its reason under [`UNREADABLE`], so that it is
/// rejected alone.
pub fn csv_records(bytes: &[u8], delimiter: u8) -> Result<Vec<Json<'static>>, PayloadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| PayloadError::Encoding(format!("not UTF-8: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| PayloadError::Syntax {
            format: "CSV",
            reason: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(PayloadError::NoRecords("the header row".into()));
    }
    let mut records = Vec::new();
    let text = |v: String| Json::String(Cow::Owned(v));
    for row in reader.records() {
        let members = match row {
            Ok(row) if row.len() == headers.len() => headers
                .iter()
                .zip(row.iter())
                .map(|(h, v)| (Cow::Owned(h.clone()), text(v.to_owned())))
                .collect(),
            Ok(row) => vec![(
                UNREADABLE.into(),
                text(format!(
                    "the row has {} fields, the header {}",
                    row.len(),
                    headers.len()
                )),
            )],
            Err(e) => vec![(UNREADABLE.into(), text(e.to_string()))],
        };
        records.push(Json::Object(members));
    }
    Ok(records)
}

/// Properties whose value is a list of texts separated by commas.
const LIST_PROPERTIES: [&str; 2] = ["CATEGORIES", "RESOURCES"];

/// The TEXT properties that the parser unescapes itself, when named in
/// capitals and not given another `VALUE` type (as `icalendar`'s
/// `ValueType::by_name` lists them; `X-` properties too).
const PARSER_TEXT_PROPERTIES: [&str; 20] = [
    "CALSCALE",
    "METHOD",
    "PRODID",
    "VERSION",
    "CATEGORIES",
    "CLASS",
    "COMMENT",
    "DESCRIPTION",
    "LOCATION",
    "RESOURCES",
    "STATUS",
    "SUMMARY",
    "TRANSP",
    "TZID",
    "TZNAME",
    "CONTACT",
    "RELATED-TO",
    "UID",
    "ACTION",
    "REQUEST-STATUS",
];

/// Whether the parser has unescaped the value of `p` already: a second
/// pass would read `\\n` as a new line.
fn parser_unescaped(p: &icalendar::parser::Property<'_>) -> bool {
    let name = p.name.as_str();
    if LIST_PROPERTIES.iter().any(|l| l.eq_ignore_ascii_case(name)) {
        return false;
    }
    let typed = p
        .params
        .iter()
        .find(|q| q.key.as_str() == "VALUE")
        .and_then(|q| q.val.as_ref())
        .and_then(|t| t.as_str().parse::<icalendar::ValueType>().ok());
    match typed {
        Some(t) => matches!(t, icalendar::ValueType::Text),
        None => {
            !name.chars().any(char::is_lowercase)
                && (name.starts_with("X-") || PARSER_TEXT_PROPERTIES.contains(&name))
        }
    }
}

/// Unescapes an iCalendar TEXT value (`\\,` `\\;` `\\n` `\\\\`).
fn ical_unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits an iCalendar list on the commas that are not escaped.
fn ical_split(v: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in v.chars() {
        match (escaped, c) {
            (false, '\\') => {
                escaped = true;
                current.push(c);
            }
            (false, ',') => items.push(ical_unescape(&std::mem::take(&mut current))),
            _ => {
                escaped = false;
                current.push(c);
            }
        }
    }
    items.push(ical_unescape(&current));
    items.retain(|i| !i.trim().is_empty());
    items
}

/// Properties whose value is a list of dates or date-times, several to a
/// line and on several lines.
const DATE_LIST_PROPERTIES: [&str; 2] = ["EXDATE", "RDATE"];

/// The most `VTIMEZONE`s of one calendar read for their zone.
const MAX_DEFINED_ZONES: usize = 16;

/// An iCalendar document unfolded, and where each of its lines began in
/// the document as written.
#[derive(Debug, Clone)]
pub struct IcalText {
    /// The text, its lines unfolded.
    pub text: String,
    /// For each unfolded line, the number (from 1) of the written line it
    /// began on.
    pub lines: Vec<u32>,
}

/// Unfolds an iCalendar document's lines as octets, then reads it as
/// UTF-8: a fold may fall inside a character (RFC 5545, 3.1), whose
/// octets are valid only once joined.
pub fn ical_decode(bytes: &[u8]) -> Result<IcalText, PayloadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len());
    let mut lines = vec![1];
    let mut written = 1;
    let mut i = 0;
    while i < bytes.len() {
        let fold = match &bytes[i..] {
            [b'\r', b'\n', b' ' | b'\t', ..] => 3,
            [b'\n', b' ' | b'\t', ..] => 2,
            _ => 0,
        };
        if fold == 0 {
            out.push(bytes[i]);
            if bytes[i] == b'\n' {
                written += 1;
                lines.push(written);
            }
            i += 1;
        } else {
            written += 1;
            i += fold;
        }
    }
    let text =
        String::from_utf8(out).map_err(|e| PayloadError::Encoding(format!("not UTF-8: {e}")))?;
    Ok(IcalText { text, lines })
}

/// The property a component's line that could not be read is replaced
/// with, saying where and why, for the component to be refused alone.
const MALFORMED: &str = "X-PASSERELLE-MALFORMED";

/// Why a content line (RFC 5545, 3.1) cannot be read, if it cannot: a
/// name of letters, digits and dashes, parameters, a colon, a value. The
/// line is tried as the parser reads it, alone in a component.
fn unreadable_line(line: &str) -> Option<String> {
    let probe = format!("BEGIN:X\r\n{line}\r\nEND:X\r\n");
    let read = icalendar::parser::read_calendar_simple(&probe)
        .ok()
        .filter(|c| matches!(&c[..], [c] if c.properties.len() == 1 && c.components.is_empty()));
    if read.is_some() {
        return None;
    }
    let name: String = line
        .chars()
        .take_while(|c| !matches!(c, ':' | ';'))
        .take(40)
        .collect();
    Some(if !line.contains(':') {
        format!("{name:?} has no ':' before a value")
    } else if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        format!("{name:?} is not a property name")
    } else {
        format!("the parameters of {name} cannot be read")
    })
}

/// A content line whose parameter values are quoted, as RFC 5545 allows
/// any of them to be (3.2), so that values the parser refuses unquoted
/// are read: Apple writes `=`, `/` and `\;` in them
/// (`X-APPLE-MAPKIT-HANDLE=CAES…==`). `None` when a value holds a quote.
fn requoted(line: &str) -> Option<String> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.char_indices();
    let value = loop {
        let (i, c) = chars.next()?;
        match c {
            '"' => quoted = !quoted,
            '\\' if !quoted => {
                let (_, next) = chars.next()?;
                parts.last_mut()?.push(c);
                parts.last_mut()?.push(next);
                continue;
            }
            ';' if !quoted => {
                parts.push(String::new());
                continue;
            }
            ':' if !quoted => break &line[i + 1..],
            _ => {}
        }
        parts.last_mut()?.push(c);
    };
    let mut out = parts[0].clone();
    for param in &parts[1..] {
        let (key, v) = param.split_once('=')?;
        out.push(';');
        out.push_str(key);
        out.push('=');
        if v.starts_with('"') {
            out.push_str(v);
        } else if v.contains('"') {
            return None;
        } else {
            out.push('"');
            out.push_str(v);
            out.push('"');
        }
    }
    out.push(':');
    out.push_str(value);
    Some(out)
}

/// `text` as the parser can read it, when some of its lines cannot be
/// read: a property line that cannot be read, even with its parameter
/// values quoted, is replaced by a [`MALFORMED`] property of its
/// component (an extension property's is dropped), an `END` without its `BEGIN`
/// is dropped (noted in the component it stood in), and a component never
/// ended is ended where its parent is (noted in it). Lines outside any
/// component are dropped. `lines` numbers the lines as written.
fn ical_mend(text: &str, lines: &[u32]) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut open: Vec<&str> = Vec::new();
    let note = |out: &mut String, number: u32, reason: &str| {
        out.push_str(MALFORMED);
        out.push(':');
        out.push_str(&format!("line {number}: {reason}").replace('\\', "/"));
        out.push_str("\r\n");
    };
    fn keyword<'l>(line: &'l str, word: &str) -> Option<&'l str> {
        line.get(..word.len())
            .filter(|w| w.eq_ignore_ascii_case(word))
            .map(|_| line[word.len()..].trim())
    }
    for (k, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let number = lines.get(k).copied().unwrap_or(k as u32 + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(name) = keyword(line, "BEGIN:") {
            open.push(name);
            out.push_str(line);
            out.push_str("\r\n");
        } else if let Some(name) = keyword(line, "END:") {
            match open.iter().rposition(|o| o.eq_ignore_ascii_case(name)) {
                Some(at) => {
                    while open.len() > at + 1 {
                        let inner = open.pop().expect("deeper than at");
                        note(&mut out, number, &format!("BEGIN:{inner} is never ended"));
                        out.push_str(&format!("END:{inner}\r\n"));
                    }
                    open.pop();
                    out.push_str(line);
                    out.push_str("\r\n");
                }
                None if !open.is_empty() => {
                    note(&mut out, number, &format!("END:{name} without its BEGIN"))
                }
                None => {}
            }
        } else if !open.is_empty() {
            let Some(reason) = unreadable_line(line) else {
                out.push_str(line);
                out.push_str("\r\n");
                continue;
            };
            match requoted(line).filter(|l| unreadable_line(l).is_none()) {
                Some(mended) => {
                    out.push_str(&mended);
                    out.push_str("\r\n");
                }
                // An extension property may be ignored (RFC 5545, 3.8.8.2).
                None if line.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("X-")) => {}
                None => note(&mut out, number, &reason),
            }
        }
    }
    let last = lines.last().copied().unwrap_or(1);
    while let Some(inner) = open.pop() {
        note(&mut out, last, &format!("BEGIN:{inner} is never ended"));
        out.push_str(&format!("END:{inner}\r\n"));
    }
    out
}

/// Windows time zone names and the IANA zone CLDR maps each to (territory
/// 001), as `mappings/reference/README.md` says where they come from.
const WINDOWS_ZONES: &str = include_str!("../reference/windows-zones.csv");

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
struct Zones<'c> {
    defined: Vec<(&'c str, &'c icalendar::parser::Component<'c>)>,
    read: Vec<(String, Option<chrono_tz::Tz>)>,
    calendar: Option<chrono_tz::Tz>,
}

impl<'c> Zones<'c> {
    fn new(
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
    fn zone(&mut self, tzid: &str) -> Option<chrono_tz::Tz> {
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
fn ical_instant(value: &str, tzid: Option<&str>, zones: &mut Zones<'_>) -> String {
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

/// The components named `component` of an iCalendar document, as records
/// (see [`crate::SourceFormat::Ical`]). A `TZID` that is not an Olson name
/// is replaced by the Olson name of the zone the calendar's `VTIMEZONE`
/// defines under it; the dates of `EXDATE` and `RDATE` are one value each,
/// in UTC when given in a zone.
///
/// A component with a line that cannot be read is a record that carries
/// the line's number and why under [`UNREADABLE`], so that it is refused
/// alone; the document is refused whole only when it is no calendar at
/// all.
pub fn ical_records(text: &IcalText, component: &str) -> Result<Vec<Json<'static>>, PayloadError> {
    let unreadable = |e: String| PayloadError::Syntax {
        format: "iCalendar",
        reason: e
            .lines()
            .find(|l| !l.trim().is_empty() && l.trim() != "error:")
            .unwrap_or("unreadable")
            .trim()
            .to_owned(),
    };
    let is_calendar = text.text.lines().any(|l| {
        l.trim()
            .get(..15)
            .is_some_and(|b| b.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    });
    if !is_calendar {
        return Err(unreadable("no BEGIN:VCALENDAR".into()));
    }
    let mended;
    let calendar = match icalendar::parser::read_calendar(&text.text) {
        Ok(c) => c,
        Err(_) => {
            mended = ical_mend(&text.text, &text.lines);
            icalendar::parser::read_calendar(&mended).map_err(unreadable)?
        }
    };
    let mut zones = Zones::new(&calendar.components, &calendar.properties);
    let mut records = Vec::new();
    let mut stack: Vec<&icalendar::parser::Component<'_>> = calendar.components.iter().collect();
    while let Some(c) = stack.pop() {
        if c.name.as_str().eq_ignore_ascii_case(component) {
            let string = |v: String| Json::String(Cow::Owned(v));
            let mut members = Members::new();
            let mut malformed = Vec::new();
            for p in &c.properties {
                let name = p.name.as_str().to_ascii_uppercase();
                let raw = p.val.as_str();
                if name == MALFORMED {
                    malformed.push(raw.to_owned());
                    continue;
                }
                let param = |key: &str| {
                    p.params
                        .iter()
                        .find(|q| q.key.as_str().eq_ignore_ascii_case(key))
                        .and_then(|q| q.val.as_ref())
                        .map(|v| v.as_str().trim().trim_matches('"'))
                };
                if DATE_LIST_PROPERTIES.contains(&name.as_str()) {
                    let tzid = param("TZID");
                    let dates = raw
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| string(ical_instant(v, tzid, &mut zones)));
                    match members.iter_mut().find(|(k, _)| *k == name) {
                        Some((_, Json::Array(items))) => items.extend(dates),
                        _ => members.push((name.into(), Json::Array(dates.collect()))),
                    }
                    continue;
                }
                let text = if LIST_PROPERTIES.contains(&name.as_str()) {
                    Json::Array(ical_split(raw).into_iter().map(string).collect())
                } else if parser_unescaped(p) {
                    string(raw.to_owned())
                } else {
                    string(ical_unescape(raw))
                };
                let value = if p.params.is_empty() {
                    text
                } else {
                    let mut obj = vec![("#text".into(), text)];
                    for param in &p.params {
                        let key = param.key.as_str().to_ascii_uppercase();
                        let mut v = param
                            .val
                            .as_ref()
                            .map(|v| v.as_str().trim_matches('"').to_owned())
                            .unwrap_or_default();
                        if key == "TZID" {
                            if let Some(tz) = zones.zone(v.trim()) {
                                v = tz.name().to_owned();
                            }
                        }
                        obj.push((format!("@{key}").into(), string(v)));
                    }
                    Json::Object(obj)
                };
                insert_child(&mut members, name.into(), value);
            }
            if !malformed.is_empty() {
                members.push((UNREADABLE.into(), string(malformed.join("; "))));
            }
            records.push(Json::Object(members));
        }
        stack.extend(c.components.iter().rev());
    }
    Ok(records)
}

/// Decodes an XML document to text in the character set its declaration
/// names (UTF-8 when it names none), as real feeds in ISO-8859-1 need.
pub fn decode_xml(bytes: &[u8]) -> Result<String, PayloadError> {
    let encoding = xml_encoding(bytes)?;
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(not_in(encoding));
    }
    Ok(text.into_owned())
}

/// [`decode_xml`], consuming the bytes: a UTF-8 document becomes its text
/// without a copy, another is freed once decoded, so that a large feed is
/// not held twice while its records are read.
pub fn decode_xml_owned(bytes: Vec<u8>) -> Result<String, PayloadError> {
    let encoding = xml_encoding(&bytes)?;
    // A byte order mark names the character set, as `decode` reads it.
    let bom = encoding_rs::Encoding::for_bom(&bytes);
    if encoding == encoding_rs::UTF_8 && bom.is_none_or(|(e, _)| e == encoding_rs::UTF_8) {
        let mut bytes = bytes;
        bytes.drain(..bom.map_or(0, |(_, len)| len));
        return String::from_utf8(bytes).map_err(|_| not_in(encoding));
    }
    decode_xml(&bytes)
}

/// The character set an XML document declares (UTF-8 when it declares
/// none).
fn xml_encoding(bytes: &[u8]) -> Result<&'static encoding_rs::Encoding, PayloadError> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let label = head
        .find("encoding=")
        .and_then(|i| {
            let rest = &head[i + 9..];
            let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
            let rest = &rest[1..];
            rest.find(quote).map(|end| rest[..end].to_owned())
        })
        .unwrap_or_else(|| "utf-8".to_owned());
    encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| PayloadError::Encoding(format!("unknown character set {label:?}")))
}

fn not_in(encoding: &'static encoding_rs::Encoding) -> PayloadError {
    PayloadError::Encoding(format!("bytes that are not {}", encoding.name()))
}

/// The records of an XML document: every element whose local name is
/// `record`, wherever it is, as a JSON value (see the module's doc) whose
/// texts are borrowed from `text` where they have no entities.
///
/// A syntax error ends the reading: the records read before it are returned
/// with the error, so a sync can tell a truncated feed from a complete one.
pub fn xml_records<'a>(text: &'a str, record: &str) -> (Vec<Json<'a>>, Option<PayloadError>) {
    let mut records = Vec::new();
    let err = xml_each(text, record, |v| records.push(v));
    (records, err)
}

/// Like [`xml_records`], handing each record to `f` as it is read, so that
/// a large feed is never held whole as records; the error that stopped the
/// reading, if any.
pub fn xml_each<'a>(
    text: &'a str,
    record: &str,
    mut f: impl FnMut(Json<'a>),
) -> Option<PayloadError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if local(e.name().as_ref()) == record.as_bytes() => {
                match read_element(text, &mut reader, &e, 0) {
                    Ok(v) => f(v),
                    Err(err) => return Some(err),
                }
            }
            Ok(Event::Empty(e)) if local(e.name().as_ref()) == record.as_bytes() => {
                match attributes(text, &e) {
                    Ok(members) => f(Json::Object(members)),
                    Err(err) => return Some(err),
                }
            }
            Ok(Event::Eof) => return None,
            Ok(_) => {}
            Err(e) => return Some(xml_error(&reader, 0, e)),
        }
    }
}

/// A syntax error where `reader` stopped; `offset` is where the text it
/// reads begins in the document.
fn xml_error(reader: &Reader<&[u8]>, offset: u64, e: quick_xml::Error) -> PayloadError {
    syntax_at(offset + reader.buffer_position(), e)
}

fn syntax_at(position: u64, e: quick_xml::Error) -> PayloadError {
    PayloadError::Syntax {
        format: "XML",
        reason: format!("at byte {position}: {e}"),
    }
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// `part` as a slice of `doc` when it is one (the reader lends what it
/// reads from the document), so that it lives as long as the document.
fn within<'a>(doc: &'a str, part: &str) -> Cow<'a, str> {
    let start = (part.as_ptr() as usize).wrapping_sub(doc.as_ptr() as usize);
    match doc.get(start..start.saturating_add(part.len())) {
        Some(s) if std::ptr::eq(s.as_ptr(), part.as_ptr()) => Cow::Borrowed(s),
        _ => Cow::Owned(part.to_owned()),
    }
}

/// An element's local name.
fn local_name<'a>(doc: &'a str, e: &quick_xml::events::BytesStart<'_>) -> Cow<'a, str> {
    match String::from_utf8_lossy(local(e.name().as_ref())) {
        Cow::Borrowed(name) => within(doc, name),
        Cow::Owned(name) => Cow::Owned(name),
    }
}

type Members<'a> = Vec<(Cow<'a, str>, Json<'a>)>;

fn attributes<'a>(
    doc: &'a str,
    e: &quick_xml::events::BytesStart<'_>,
) -> Result<Members<'a>, PayloadError> {
    let syntax = |reason: String| PayloadError::Syntax {
        format: "XML",
        reason,
    };
    let mut members = Members::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| syntax(err.to_string()))?;
        let key = attr.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let value = attr
            .unescape_value()
            .map_err(|err| syntax(err.to_string()))?;
        let name = format!("@{}", String::from_utf8_lossy(local(key)));
        // The last of repeated attributes is read, as for keys.
        let value = match value {
            Cow::Borrowed(v) => within(doc, v),
            Cow::Owned(v) => Cow::Owned(v),
        };
        members.push((name.into(), Json::String(value)));
    }
    Ok(members)
}

/// Reads the element `start` opened, up to its end; `offset` is where
/// `doc` begins in the document, for the positions of errors.
fn read_element<'a>(
    doc: &'a str,
    reader: &mut Reader<&'a [u8]>,
    start: &quick_xml::events::BytesStart<'a>,
    offset: u64,
) -> Result<Json<'a>, PayloadError> {
    let mut members = attributes(doc, start)?;
    let mut text: Option<Cow<'a, str>> = None;
    let mut add_text = |t: Cow<'a, str>| match &mut text {
        None => text = Some(t),
        Some(so_far) => so_far.to_mut().push_str(&t),
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let child = read_element(doc, reader, &e, offset)?;
                insert_child(&mut members, local_name(doc, &e), child);
            }
            Ok(Event::Empty(e)) => {
                let attrs = attributes(doc, &e)?;
                let child = if attrs.is_empty() {
                    Json::String(Cow::Borrowed(""))
                } else {
                    Json::Object(attrs)
                };
                insert_child(&mut members, local_name(doc, &e), child);
            }
            Ok(Event::Text(t)) => add_text(t.unescape().map_err(|err| PayloadError::Syntax {
                format: "XML",
                reason: err.to_string(),
            })?),
            Ok(Event::CData(t)) => add_text(match t.into_inner() {
                Cow::Borrowed(b) => String::from_utf8_lossy(b),
                Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
            }),
            Ok(Event::End(_)) => break,
            Ok(Event::Eof) => {
                return Err(PayloadError::Syntax {
                    format: "XML",
                    reason: "document ends inside a record".into(),
                })
            }
            Ok(_) => {}
            Err(e) => return Err(xml_error(reader, offset, e)),
        }
    }
    let text = text.unwrap_or_default();
    if members.is_empty() {
        return Ok(Json::String(text));
    }
    if !text.trim().is_empty() {
        members.push(("#text".into(), Json::String(text)));
    }
    Ok(Json::Object(members))
}

fn insert_child<'a>(members: &mut Members<'a>, name: Cow<'a, str>, child: Json<'a>) {
    match members.iter_mut().find(|(k, _)| *k == name) {
        Some((_, Json::Array(items))) => items.push(child),
        Some((_, existing)) => {
            let first = std::mem::replace(existing, Json::Null);
            *existing = Json::Array(vec![first, child]);
        }
        None => members.push((name, child)),
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
    use serde_json::json;

    /// Found by the `cma_xml` and `cnfpt_soap` fuzz targets: a declaration
    /// whose `encoding=` is followed by a character longer than a byte
    /// (or by bytes that are not UTF-8) panicked on a char boundary.
    #[test]
    fn a_declaration_with_a_strange_encoding_is_an_error_not_a_panic() {
        let cases: [&[u8]; 4] = [
            b"<comp= =encoding=\xe0\xc2\xdd\x8a\x8d\x93\x92\x0018\"/><",
            "<?xml version=\"1.0\" encoding=\u{7b6}utf-8\u{7b6}?><a/>".as_bytes(),
            b"<?xml version=\"1.0\" encoding=\"\xde\xb6\xac\"?><a/>",
            b"<?xml version=\"1.0\" encoding=utf-8?><a/>",
        ];
        for bytes in cases {
            let _ = decode_xml(bytes);
        }
        assert!(decode_xml(b"<?xml version=\"1.0\" encoding=\"\xde\xb6\xac\"?><a/>").is_err());
    }

    #[test]
    fn the_borrowed_tree_reads_json_as_serde_json_does() {
        let doc = r#"{"data": [{"a": "plain", "b": "esc\u00e9\"q", "n": 49.1829, "i": -3, "t": true,
            "z": null, "o": {"k": [1, "x", {"d": "deep"}]}, "a": "last"}, {"e": {}}], "p": {"x~/y": [7]}}"#;
        let records = json_records(doc.as_bytes(), "/data").unwrap();
        let serde: Value = serde_json::from_str(doc).unwrap();
        let as_values: Vec<Value> = records.iter().cloned().map(Value::from).collect();
        assert_eq!(Value::Array(as_values), serde["data"]);
        // Texts without escapes are the payload's own bytes.
        assert!(matches!(
            records[0].child("a"),
            Some(Json::String(Cow::Borrowed("last")))
        ));
        assert!(
            matches!(records[0].child("b"), Some(Json::String(Cow::Owned(s))) if s == "esc\u{e9}\"q")
        );
        for path in [
            "a", "b", "n", "i", "t", "z", "o/k", "o/k/d", "o/k/1", "missing",
        ] {
            assert_eq!(
                select(&records[0], path),
                select(&serde["data"][0], path),
                "{path}"
            );
        }
        // JSON pointers with escapes and indexes.
        assert_eq!(json_records(doc.as_bytes(), "/p/x~0~1y").unwrap().len(), 1);
        assert_eq!(
            json_records(doc.as_bytes(), "/missing"),
            Err(PayloadError::NoRecords("/missing".into()))
        );
        assert!(json_records(b"{\"data\": [1,", "/data").is_err());
    }

    #[test]
    fn xml_records_borrow_names_and_texts_from_the_document() {
        let doc = r#"<f><o id="1" k="a &amp; b"><t>plain</t><u>x &lt; y</u></o></f>"#;
        let (records, err) = xml_records(doc, "o");
        assert!(err.is_none());
        let Json::Object(members) = &records[0] else {
            panic!("an object")
        };
        let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
        assert!(members
            .iter()
            .filter(|(k, _)| !k.starts_with('@'))
            .all(|(k, _)| borrowed(k)));
        assert!(matches!(records[0].child("@id"), Some(Json::String(c)) if borrowed(c)));
        assert!(matches!(records[0].child("t"), Some(Json::String(c)) if borrowed(c)));
        assert_eq!(select(&records[0], "u"), ["x < y"]);
        assert_eq!(select(&records[0], "@k"), ["a & b"]);
        // A text that is not a slice of the document is copied.
        assert!(matches!(within(doc, "plain"), Cow::Owned(_)));
    }

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

    #[test]
    fn csv_rows_with_a_bom_quotes_and_semicolons_are_read() {
        let text = "\u{feff}id;ville;montant\n1;\"Cork; Munster\";1 234,50\n2;Dublin\n";
        let records = csv_records(text.as_bytes(), b';').unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(select(&records[0], "id"), vec!["1"]);
        assert_eq!(select(&records[0], "ville"), vec!["Cork; Munster"]);
        assert!(records[1].child(UNREADABLE).is_some());
    }

    #[test]
    fn icalendar_events_are_unfolded_unescaped_and_keep_their_parameters() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Forum de l'alternance\\, Caen\r\nDESCRIPTION:Une longue des\r\n cription\\nsur deux lignes\r\nCATEGORIES:Forum,Apprentissage\\, alternance\r\nDTSTART;TZID=Europe/Paris:20270306T100000\r\nDTEND;VALUE=DATE:20270307\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(select(r, "SUMMARY"), vec!["Forum de l'alternance, Caen"]);
        assert_eq!(
            select(r, "DESCRIPTION"),
            vec!["Une longue description\nsur deux lignes"]
        );
        assert_eq!(
            select(r, "CATEGORIES"),
            vec!["Forum", "Apprentissage, alternance"]
        );
        assert_eq!(select(r, "DTSTART"), vec!["20270306T100000"]);
        assert_eq!(select(r, "DTSTART/@TZID"), vec!["Europe/Paris"]);
        assert_eq!(select(r, "DTEND/@VALUE"), vec!["DATE"]);
    }

    #[test]
    fn icalendar_text_is_unescaped_once_whatever_its_property() {
        // RFC 5545, 3.3.11: `\\` is a backslash, `\n` or `\N` a new line.
        let mut names: Vec<&str> = PARSER_TEXT_PROPERTIES
            .iter()
            .copied()
            .filter(|n| !LIST_PROPERTIES.contains(n))
            .collect();
        names.extend(["X-SITE", "x-lower", "NOTE-UNKNOWN"]);
        for name in names {
            for (line, want) in [
                (format!("{name}:C:\\\\new\\, \\; \\N"), "C:\\new, ; \n"),
                (format!("{name};VALUE=TEXT:a\\\\n"), "a\\n"),
            ] {
                let text = format!(
                    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{line}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                );
                let records =
                    ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
                let key = name.to_ascii_uppercase();
                assert_eq!(select(&records[0], &key), vec![want], "{line}");
            }
        }
    }

    #[test]
    fn folds_inside_a_character_are_joined_before_the_text_is_read() {
        // "é" is C3 A9: a fold between its octets, with CRLF and with LF.
        for eol in [&b"\r\n"[..], b"\n"] {
            let mut bytes =
                b"\xEF\xBB\xBFBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Journ\xC3".to_vec();
            bytes.extend(eol);
            bytes.extend(b" \xA9e d\xE2\x80");
            bytes.extend(eol);
            bytes.extend(b"\t\x99orientation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
            assert!(std::str::from_utf8(&bytes).is_err());
            let text = ical_decode(&bytes).unwrap();
            let records = ical_records(&text, "VEVENT").unwrap();
            assert_eq!(
                select(&records[0], "SUMMARY"),
                vec!["Journée d\u{2019}orientation"]
            );
        }
        assert!(ical_decode(b"SUMMARY:\xC3(").is_err());
    }

    #[test]
    fn a_line_that_cannot_be_read_refuses_its_component_alone() {
        // Written lines 6 and 7 are one folded line; line 9 has no colon,
        // line 13 a space in its name, and the last event never
        // ends.
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Bon\r\nDESCRIPTION:une longue\r\n  description\r\nEND:VEVENT\r\nJUNK\r\nBEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Ligne manquante\r\nDT START;TZID=Europe/Paris:20270101T100000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Sans fin\r\nEND:VALARM\r\nEND:VCALENDAR\r\n";
        let decoded = ical_decode(text.as_bytes()).unwrap();
        let records = ical_records(&decoded, "VEVENT").unwrap();
        let by_uid = |uid: &str| {
            records
                .iter()
                .find(|r| select(*r, "UID") == vec![uid])
                .unwrap_or_else(|| panic!("no record {uid}"))
        };
        assert!(by_uid("a").child(UNREADABLE).is_none());
        assert_eq!(
            select(by_uid("a"), "DESCRIPTION"),
            vec!["une longue description"]
        );
        assert_eq!(
            select(by_uid("b"), UNREADABLE),
            vec!["line 13: \"DT START\" is not a property name"]
        );
        assert_eq!(select(by_uid("b"), "SUMMARY"), vec!["Ligne manquante"]);
        assert_eq!(
            select(by_uid("c"), UNREADABLE),
            vec!["line 18: END:VALARM without its BEGIN; line 19: BEGIN:VEVENT is never ended"]
        );
        // The line outside any event is no event's.
        assert_eq!(records.len(), 3);
        // What is no calendar at all is refused whole.
        for nothing in ["", "<html><body>Not found</body></html>", "BEGIN:"] {
            let decoded = ical_decode(nothing.as_bytes()).unwrap();
            let read = ical_records(&decoded, "VEVENT");
            assert!(read.is_err(), "{nothing:?}: {:?}", read.map(|r| r.len()));
        }
    }

    #[test]
    fn a_period_s_start_and_end_given_in_a_zone_are_given_in_utc() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRDATE;VALUE=PERIOD;TZID=Europe/Paris:20270310T090000/20270310T093000,20270317T090000/PT45M\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
        assert_eq!(
            select(&records[0], "RDATE"),
            vec![
                "20270310T080000Z/20270310T083000Z",
                "20270317T080000Z/PT45M"
            ]
        );
    }

    #[test]
    fn date_lists_give_one_value_each_in_utc_when_zoned() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Romance Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\nBEGIN:VEVENT\nDTSTART;TZID=Romance Standard Time:20270106T140000\nEXDATE;TZID=Romance Standard Time:20270113T140000,20270714T140000\nEXDATE;TZID=Europe/Paris:20270120T140000\nEXDATE;VALUE=DATE:20270127\nEXDATE:20270203T130000Z\nRDATE;TZID=Mars/Olympus:20270210T140000\nRDATE;VALUE=PERIOD;TZID=Europe/Paris:20270217T140000/PT2H\nRDATE:20270224T140000\nEND:VEVENT\nEND:VCALENDAR\n";
        let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
        let r = &records[0];
        assert_eq!(select(r, "DTSTART/@TZID"), vec!["Europe/Paris"]);
        assert_eq!(
            select(r, "EXDATE"),
            vec![
                "20270113T130000Z",
                "20270714T120000Z",
                "20270120T130000Z",
                "20270127",
                "20270203T130000Z"
            ]
        );
        assert_eq!(
            select(r, "RDATE"),
            vec![
                "TZID=Mars/Olympus:20270210T140000",
                "20270217T130000Z/PT2H",
                "20270224T140000"
            ]
        );
    }

    #[test]
    fn latin1_feeds_are_decoded() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><f><r>".to_vec();
        bytes.extend([0x43, 0x72, 0xE9, 0x70, 0x65]); // "Crêpe" has ê = 0xEA; é = 0xE9
        bytes.extend(b"</r></f>");
        let text = decode_xml(&bytes).unwrap();
        assert!(text.contains("Crépe"), "{text}");
    }

    #[test]
    fn owned_feeds_decode_as_borrowed_ones_do() {
        let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><f><r>".to_vec();
        latin1.extend([0x43, 0x72, 0xE9, 0x70, 0x65]);
        latin1.extend(b"</r></f>");
        let utf8 = "<?xml version=\"1.0\"?><f><r>Crépe</r></f>"
            .as_bytes()
            .to_vec();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(&utf8);
        let broken = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><f>\xE9</f>".to_vec();
        for doc in [latin1, utf8, bom, broken] {
            assert_eq!(decode_xml_owned(doc.clone()), decode_xml(&doc));
        }
    }

    #[test]
    fn xml_elements_become_records_with_attributes_and_repeats() {
        let doc = r#"<n:f xmlns:n="urn:x"><n:o id="1"><n:m rome="D1102">Boulanger</n:m><n:m rome="D1104"/><n:t>a &amp; b</n:t></n:o><n:o id="2"/></n:f>"#;
        let (records, err) = xml_records(doc, "o");
        assert!(err.is_none());
        assert_eq!(records.len(), 2);
        assert_eq!(select(&records[0], "m/@rome"), vec!["D1102", "D1104"]);
        assert_eq!(select(&records[0], "m"), vec!["Boulanger"]);
        assert_eq!(select(&records[0], "t"), vec!["a & b"]);
        assert_eq!(select(&records[1], "@id"), vec!["2"]);
    }

    #[test]
    fn truncated_xml_keeps_the_records_before_the_break() {
        let (records, err) = xml_records("<f><o id=\"1\"/><o id=\"2\"><t>x</f>", "o");
        assert_eq!(records.len(), 1);
        assert!(err.is_some());
    }
}
