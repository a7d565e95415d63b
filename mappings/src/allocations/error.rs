//! Why a whole upload cannot be read, as opposed to one of its records
//! (a [`Rejection`](passerelle_schema::Rejection) of its item).

/// Why a whole upload cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The content type is neither CSV nor XML.
    #[error("uploads are text/csv or application/xml, not {0}")]
    UnsupportedType(String),
    /// The CSV header lacks a column.
    #[error("the CSV header has no {0} column")]
    MissingColumn(&'static str),
    /// The CSV header names a column twice, in one language or two: which
    /// one holds the value would be a guess.
    #[error(
        "the CSV header has two {field} columns: {first:?} (column {first_at}) and {second:?} (column {second_at})"
    )]
    DuplicateColumn {
        /// The field both name.
        field: &'static str,
        /// The first as written.
        first: String,
        /// Its position, from 1.
        first_at: usize,
        /// The second as written.
        second: String,
        /// Its position, from 1.
        second_at: usize,
    },
    /// The XML is not well-formed, or not an `<allocations>` document.
    #[error("the XML document is malformed at byte {position}: {reason}")]
    Xml {
        /// Where.
        position: u64,
        /// Why.
        reason: String,
    },
    /// A CSV line cannot be read at all (too long): the upload is refused,
    /// naming the line.
    #[error("the CSV upload is malformed at line {line}: {reason}")]
    Csv {
        /// The line, from 1.
        line: u64,
        /// Why.
        reason: String,
    },
    /// The upload could not be read (cut short, too large).
    #[error("the upload could not be read: {0}")]
    Io(#[from] std::io::Error),
}
