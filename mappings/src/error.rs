//! The two ways a mapping fails: a bad mapping file, or a bad partner record.

use std::fmt;

/// A mapping file that cannot be used; start-up stops on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MappingFileError {
    /// The file, as named in the catalog (`cma/offer.toml`).
    pub file: String,
    /// The unified field the problem is about, when there is one.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for MappingFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: field `{field}`: {}", self.file, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

/// A partner record that could not be mapped. Only this record is rejected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
pub struct RecordError {
    /// The record's position in the payload, from 0.
    pub index: usize,
    /// The record's identifier at the partner, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    /// The unified field that failed (`record` when the record itself is
    /// unreadable).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.index)?;
        if let Some(id) = &self.partner_id {
            write!(f, " ({id})")?;
        }
        write!(f, ": {}: {}", self.field, self.reason)
    }
}

/// A field-level failure, before the record's position is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The unified field.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl FieldError {
    /// A failure of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}
