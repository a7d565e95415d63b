//! What the records of a payload were kept without, told to the sync as
//! notices: identifiers derived for records without one, and values left
//! out (the first ones by name, then how many more).

use super::Mapping;
use crate::error::RecordError;
use crate::record::Tree;

/// The most values left out of kept records that a payload's notices name
/// one by one.
const NAMED_NOTES: usize = 100;

/// What records of a payload were kept without: an identifier (derived
/// for them, by a mapping that derives one), values that did not parse.
pub(super) struct Notes {
    /// Whether the mapping derives an identifier for a record without one.
    derives: bool,
    derived: usize,
    /// The first [`NAMED_NOTES`] values left out, and how many more.
    left_out: Vec<RecordError>,
    more: usize,
}

impl Notes {
    pub(super) fn of(mapping: &Mapping) -> Self {
        Self {
            derives: mapping.derived_from().is_some(),
            derived: 0,
            left_out: Vec::new(),
            more: 0,
        }
    }

    pub(super) fn count(&mut self, mapping: &Mapping, record: &impl Tree) {
        if self.derives
            && mapping
                .partner_id(record)
                .is_none_or(|id| id.trim().is_empty())
        {
            self.derived += 1;
        }
    }

    pub(super) fn left_out(&mut self, notes: Vec<RecordError>) {
        for n in notes {
            if self.left_out.len() < NAMED_NOTES {
                self.left_out.push(n);
            } else {
                self.more += 1;
            }
        }
    }

    /// The sentences that say so, for the sync.
    pub(super) fn notices(self, mapping: &Mapping) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(paths) = mapping.derived_from().filter(|_| self.derived > 0) {
            let from: Vec<String> = paths.iter().map(ToString::to_string).collect();
            out.push(format!(
                "{} of its records had no identifier: each was given one derived from its {}, the same at every sync",
                self.derived,
                from.join(", ")
            ));
        }
        out.extend(self.left_out.iter().map(ToString::to_string));
        if self.more > 0 {
            out.push(format!(
                "and {} more values left out of kept records",
                self.more
            ));
        }
        out
    }
}
