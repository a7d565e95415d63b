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
mod format;
mod item;
mod records;
#[cfg(test)]
mod tests;
mod xml;

pub use self::csv::CsvRecords;
pub use bounded::{Bounded, MAX_RECORD_BYTES};
pub use error::FormatError;
pub use format::Format;
pub use item::Item;
pub use records::Records;
pub use xml::XmlRecords;
