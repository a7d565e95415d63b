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
//!
//! Each wire format has its reader: [`json_records`], [`csv_records`],
//! [`ical_records`] (of a document [`ical_decode`] unfolded), and
//! [`xml_records`] (of a document [`decode_xml`] decoded), or
//! [`xml_read_each`] for a feed read as it comes. [`select`] and [`Path`]
//! are the path language.

mod csv;
mod ical;
mod json;
mod path;
mod stream;
mod tree;
mod xml;

pub use self::csv::csv_records;
pub use ical::{ical_decode, ical_records, IcalText};
pub use json::{json_records, json_records_and};
pub use path::{select, Path, Texts};
pub use stream::xml_read_each;
pub use tree::{Json, Tree};
pub use xml::{decode_xml, decode_xml_owned, xml_each, xml_records};

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

/// The key under which a record that could not be read carries the reason.
pub const UNREADABLE: &str = "#unreadable";
