//! The mapping files in force, checked at load, and the mapping of records.
//!
//! A [`Mapping`] is one file checked at load (`mapping`); it maps one
//! record (`record_mapping`), or a whole payload in its wire format
//! (`payload`), noting what kept records were mapped without (`notes`),
//! and runs the test cases its file carries (`test_cases`). The
//! [`Catalog`] holds the mappings in force, one per partner and entity.

mod in_force;
mod mapping;
mod notes;
mod payload;
mod record_mapping;
mod test_cases;
#[cfg(test)]
pub(crate) mod tests;

pub use in_force::{mapping_files, Catalog, DECLARATION};
pub use mapping::Mapping;
pub use payload::{MappedBatch, ReadEnd};
pub use test_cases::TestOutcome;
