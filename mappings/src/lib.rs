//! The mapping engine: partner records to unified entities, by declarative files.
//!
//! Each partner and entity has one mapping file (TOML) that says, for every
//! unified field, where its value sits in the partner's record and which
//! transforms apply. The engine reads the partner's payload into records
//! ([`record`]), maps each record on its own (a malformed record is rejected
//! with the field and reason, the others go on), and builds the typed entity
//! of `passerelle-schema`. Every file carries test cases that the test suite
//! and `passerelle mapping test` run.

pub mod allocations;
mod catalog;
pub mod entity;
mod error;
mod file;
pub mod init;
#[cfg(test)]
mod lheo_tests;
pub mod record;
mod transform;
mod vtimezone;

pub use catalog::{
    mapping_files, Catalog, MappedBatch, Mapping, ReadEnd, TestOutcome, DECLARATION,
};
pub use entity::{Entity, EntityKind};
pub use error::{MappingFileError, RecordError};
pub use file::SourceFormat;
