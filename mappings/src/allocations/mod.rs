//! The files OPCOs upload to Passerelle: CSV (semicolon or comma, with a header row) and
//! XML. Both are read as a stream, a record at a time, so that an upload of
//! any size is never held in memory whole.
//!
//! CSV columns, in any order, named in English or French, case, `_` and
//! `-` aside: `reference`, `employer_siret` (`siret`), `employer_commune`
//! (`commune`, `code_insee`), `establishment_uai` (`uai`), `amount`
//! (`montant`), `allocated_at` (`date`).
//!
//! XML:
//!
//! ```xml
//! <allocations campaign="2026">
//!   <allocation>
//!     <reference>AKTO-2026-000001</reference>
//!     <employerSiret>73282932000074</employerSiret>
//!     <employerCommune>14118</employerCommune>
//!     <establishmentUai>0141687H</establishmentUai>
//!     <amount>1234.50</amount>
//!     <allocatedAt>2026-06-02T09:30:00+02:00</allocatedAt>
//!   </allocation>
//! </allocations>
//! ```
//!
//! [`Records`] reads an upload in either [`Format`], a record at a time
//! ([`CsvRecords`], [`XmlRecords`]), each record held to
//! [`MAX_RECORD_BYTES`] by the [`Bounded`] reader beneath the parsers.

mod bounded;
mod csv;
mod error;
mod fields;
mod records;
#[cfg(test)]
mod tests;
mod xml;

pub use self::csv::CsvRecords;
pub use bounded::{Bounded, MAX_RECORD_BYTES};
pub use error::FormatError;
pub use records::Records;
pub use xml::XmlRecords;

use passerelle_schema::{AllocationInput, Rejection};

/// An item of an upload: a record, or a record that could not be read.
#[derive(Debug)]
pub struct Item {
    /// The record's position in its upload, from 0.
    pub index: u64,
    /// Its line in a CSV upload, from 1.
    pub line: Option<u64>,
    /// The record, or why it could not be read.
    pub record: Result<AllocationInput, Rejection>,
}

/// The formats of uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// The `<allocations>` XML document.
    Xml,
}

impl Format {
    /// The format of a media type (`text/csv; charset=utf-8`…).
    pub fn from_content_type(content_type: &str) -> Result<Self, FormatError> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Ok(Self::Csv),
            "application/xml" | "text/xml" => Ok(Self::Xml),
            _ => Err(FormatError::UnsupportedType(content_type.to_owned())),
        }
    }

    /// The format of a file, by its extension.
    pub fn from_path(path: &std::path::Path) -> Result<Self, FormatError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "csv" => Ok(Self::Csv),
            Some(e) if e == "xml" => Ok(Self::Xml),
            _ => Err(FormatError::UnsupportedType(path.display().to_string())),
        }
    }
}
