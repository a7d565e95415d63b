//! Diploma levels of the 2019 national framework of certifications.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::IdError;

/// A diploma level, 3 (CAP) to 8 (doctorate), as set by décret 2019-14.
///
/// Partners still write the old scale (V to I); it is read too. The old level
/// I covered both master's (7) and doctorate (8) and is read as 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct DiplomaLevel(u8);

impl DiplomaLevel {
    /// The level with this number, 3 to 8.
    pub fn new(level: u8) -> Result<Self, IdError> {
        if (3..=8).contains(&level) {
            Ok(Self(level))
        } else {
            Err(IdError::Format {
                kind: "diploma level",
                expected: "3 to 8 (or V to I)",
                got: level.to_string(),
            })
        }
    }

    /// Parses `3`…`8`, `niveau 4`, or the old scale `V`…`I`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let t = t
            .strip_prefix("NIVEAU")
            .or_else(|| t.strip_prefix("NIV."))
            .unwrap_or(&t)
            .trim();
        let level = match t {
            "V" => 3,
            "IV" => 4,
            "III" => 5,
            "II" => 6,
            "I" => 7,
            n => n.parse::<u8>().map_err(|_| IdError::Format {
                kind: "diploma level",
                expected: "3 to 8 (or V to I)",
                got: s.to_owned(),
            })?,
        };
        Self::new(level)
    }

    /// The level's number.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The level on the old scale (V…I).
    pub fn old_scale(self) -> &'static str {
        match self.0 {
            3 => "V",
            4 => "IV",
            5 => "III",
            6 => "II",
            _ => "I",
        }
    }
}

impl TryFrom<u8> for DiplomaLevel {
    type Error = IdError;
    fn try_from(v: u8) -> Result<Self, IdError> {
        Self::new(v)
    }
}

impl From<DiplomaLevel> for u8 {
    fn from(l: DiplomaLevel) -> u8 {
        l.0
    }
}

impl fmt::Display for DiplomaLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_scales_are_read() {
        assert_eq!(DiplomaLevel::parse("V").unwrap().get(), 3);
        assert_eq!(DiplomaLevel::parse("niveau 4").unwrap().get(), 4);
        assert_eq!(DiplomaLevel::parse("III").unwrap().get(), 5);
        assert_eq!(DiplomaLevel::parse("8").unwrap().old_scale(), "I");
        assert!(DiplomaLevel::parse("2").is_err());
        assert!(DiplomaLevel::parse("VI").is_err());
    }
}
