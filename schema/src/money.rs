//! Money as integer cents.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::IdError;

/// An amount in euro cents. Never a float: campaign totals are summed
/// exactly, and they exceed what 32-bit cents can hold.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// Parses an amount in euros written the French way (`1 234,50`, `1234.5`,
    /// `1 234,50 €`) or the plain way; more than two decimals is an error, not
    /// a rounding.
    pub fn parse_euros(s: &str) -> Result<Self, IdError> {
        let err = || IdError::Format {
            kind: "amount",
            expected: "euros with at most 2 decimals, like 1 234,50",
            got: s.to_owned(),
        };
        let compact: String = s
            .trim()
            .trim_end_matches('€')
            .trim_end_matches("EUR")
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
            .collect();
        let (negative, body) = match compact.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        let (whole, frac) = match body.rfind([',', '.']) {
            Some(i) if body.len() - i - 1 <= 2 => (&body[..i], &body[i + 1..]),
            Some(_) => return Err(err()),
            None => (body, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let euros: i64 = whole.parse().map_err(|_| err())?;
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        let total = euros
            .checked_mul(100)
            .and_then(|e| e.checked_add(cents))
            .ok_or_else(err)?;
        Ok(Self(if negative { -total } else { total }))
    }

    /// The amount as a decimal string of euros (`1234.50`).
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl FromStr for Cents {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse_euros(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn french_amounts_are_read_exactly() {
        assert_eq!(Cents::parse_euros("1 234,50").unwrap(), Cents(123_450));
        assert_eq!(Cents::parse_euros("1234.5").unwrap(), Cents(123_450));
        assert_eq!(Cents::parse_euros("880 €").unwrap(), Cents(88_000));
        assert_eq!(
            Cents::parse_euros("12\u{a0}000,07").unwrap(),
            Cents(1_200_007)
        );
        assert!(Cents::parse_euros("1,234").is_err());
        assert!(Cents::parse_euros("abc").is_err());
        assert!(Cents::parse_euros("").is_err());
    }

    #[test]
    fn totals_beyond_32_bits_are_kept() {
        let big = Cents::parse_euros("98 765 432,10").unwrap();
        assert!(big.0 > i64::from(i32::MAX));
        assert_eq!(big.to_decimal_string(), "98765432.10");
    }

    proptest! {
        #[test]
        fn decimal_strings_round_trip(c in -10_000_000_000i64..10_000_000_000) {
            prop_assert_eq!(Cents::parse_euros(&Cents(c).to_decimal_string()).unwrap(), Cents(c));
        }
    }
}
