//! The mapping file format, as written by operators.
//!
//! TOML was chosen over YAML: it is the format of Passerelle's own
//! configuration and of Cargo, it has no indentation-sensitive traps, its
//! multi-line literal strings hold a partner's raw XML or JSON sample as it
//! is, and serde reads it with `deny_unknown_fields` so a typo is an error
//! rather than a silently ignored key.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One mapping file: a partner, an entity, where records are, and a rule per
/// unified field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingFile {
    /// The partner's identifier (`cma`).
    pub partner: String,
    /// The unified entity the records become (`offer`).
    pub entity: String,
    /// Words for the operator.
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
    /// How to read the partner's payload into records.
    pub source: SourceFormat,
    /// Unified field name → where its value comes from.
    pub fields: BTreeMap<String, FieldRule>,
    /// Named code lists that `code_list` transforms refer to.
    #[serde(default)]
    pub code_lists: BTreeMap<String, BTreeMap<String, String>>,
    /// Test cases: a raw record and what it must map to.
    #[serde(default, rename = "test")]
    pub tests: Vec<TestCase>,
}

/// How a partner's payload holds its records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "format", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum SourceFormat {
    /// A JSON document; the records are the array at the `records` JSON
    /// pointer (the document itself when empty).
    Json {
        /// JSON pointer to the array of records.
        #[serde(default)]
        records: String,
    },
    /// An XML document in any character set its declaration names; every
    /// element with the local name `record` is a record.
    Xml {
        /// The local name of a record's element.
        record: String,
    },
    /// Delimited text with a header row, UTF-8 (a byte-order mark is
    /// skipped); each row is a record whose fields are named by the header.
    Csv {
        /// The field separator, one character (`;` by default).
        #[serde(default = "semicolon")]
        delimiter: String,
    },
    /// An iCalendar (RFC 5545) document; every component named `component`
    /// (`VEVENT`) is a record whose keys are its property names. A property
    /// with parameters is an object with `#text` and `@PARAM` keys; text
    /// values are unescaped, and `CATEGORIES` is a list.
    Ical {
        /// The component that is a record.
        #[serde(default = "vevent")]
        component: String,
    },
}

fn vevent() -> String {
    "VEVENT".into()
}

fn semicolon() -> String {
    ";".into()
}

/// Where one unified field's value comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldRule {
    /// A path into the record, or several tried in order (the first that
    /// gives a value wins).
    #[serde(default)]
    pub from: Option<OneOrMany>,
    /// A path to elements that repeat (`action/session`): the field then
    /// has one value, or none, per element, read from the element by
    /// `from` (several values in one element are joined with `, `), and
    /// remembers which element of the path's first step
    /// (`action`) each came from. Fields read `each` of the same elements
    /// line up, element by element, however many values are missing.
    #[serde(default)]
    pub each: Option<String>,
    /// A constant, when the partner does not send the value.
    #[serde(default)]
    pub value: Option<String>,
    /// Transforms applied in order.
    #[serde(default)]
    pub transforms: Vec<toml::Value>,
}

/// One path or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(p) => vec![p],
            OneOrMany::Many(ps) => ps,
        }
    }
}

/// A test case: one raw record and what it must give.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestCase {
    /// What the case shows.
    pub name: String,
    /// One record as the partner sends it (an XML element, a JSON object).
    pub input: String,
    /// Unified field → expected value, for a record that maps.
    #[serde(default)]
    pub expect: Option<toml::Table>,
    /// Fields the record must map without a value (`sessions.end`, or
    /// `sessions.end[1]` for the second session's).
    #[serde(default)]
    pub expect_missing: Vec<String>,
    /// The rejection expected, for a record that must not map.
    #[serde(default)]
    pub expect_error: Option<ExpectedError>,
}

/// A rejection a test case expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectedError {
    /// The unified field named by the rejection.
    pub field: String,
    /// Words the reason must contain.
    #[serde(default)]
    pub reason_contains: Option<String>,
}
