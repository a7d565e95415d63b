//! An item of an upload, as the readers hand it.

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
