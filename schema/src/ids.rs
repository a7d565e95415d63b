//! Checked identifiers of employers, establishments, occupations and diplomas.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not a valid identifier of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The text does not have the identifier's shape (length, characters).
    #[error("{kind} must be {expected}, got {got:?}")]
    Format {
        kind: &'static str,
        expected: &'static str,
        got: String,
    },
    /// The shape is right but the check key does not match.
    #[error("{kind} {got:?} fails its check key")]
    CheckKey { kind: &'static str, got: String },
    /// The value is well-formed but not in the reference list.
    #[error("{kind} {got:?} is not known")]
    Unknown { kind: &'static str, got: String },
}

/// Declares a string-backed identifier with `Display`, `FromStr`, `AsRef<str>`
/// and serde support going through the checking constructor.
///
/// Identifiers are short (a SIRET, the longest, has 14 characters): they are
/// held inline, without an allocation of their own, which matters for the
/// hundreds of thousands of them a synced feed keeps in memory.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(compact_str::CompactString);

        impl $name {
            /// The identifier as text, in its canonical form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.into_string()
            }
        }
    };
}
pub(crate) use string_id;

fn format_error(kind: &'static str, expected: &'static str, got: &str) -> IdError {
    IdError::Format {
        kind,
        expected,
        got: got.to_owned(),
    }
}

/// True when the digits pass the Luhn check (the SIREN/SIRET check key).
pub fn luhn_valid(digits: &[u8]) -> bool {
    luhn_sum(digits).is_multiple_of(10)
}

fn luhn_sum(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 {
                    twice - 9
                } else {
                    twice
                }
            } else {
                d
            }
        })
        .sum()
}

/// The digit that completes `prefix` into a Luhn-valid number.
pub fn luhn_check_digit(prefix: &[u8]) -> u8 {
    let mut with_zero = prefix.to_vec();
    with_zero.push(0);
    ((10 - luhn_sum(&with_zero) % 10) % 10) as u8
}

fn digits_of(s: &str, len: usize) -> Option<Vec<u8>> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.bytes().map(|b| b - b'0').collect())
}

string_id!(
    /// A SIREN: the 9-digit number of a French company, Luhn-checked.
    Siren
);

impl Siren {
    /// Parses a SIREN, ignoring spaces between digit groups.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = digits_of(&compact, 9).ok_or_else(|| format_error("SIREN", "9 digits", s))?;
        if luhn_valid(&digits) {
            Ok(Self(compact.into()))
        } else {
            Err(IdError::CheckKey {
                kind: "SIREN",
                got: s.to_owned(),
            })
        }
    }
}

string_id!(
    /// A SIRET: the 14-digit number of an establishment (SIREN + NIC),
    /// Luhn-checked, with La Poste's exception.
    Siret
);

/// The SIREN of La Poste, whose establishments' SIRETs are checked differently.
const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    /// Parses a SIRET, ignoring spaces between digit groups.
    ///
    /// La Poste's establishments (SIREN 356000000) are too many for the Luhn
    /// key; theirs is valid when the sum of the digits is a multiple of 5.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let digits =
            digits_of(&compact, 14).ok_or_else(|| format_error("SIRET", "14 digits", s))?;
        let la_poste = compact.starts_with(LA_POSTE_SIREN)
            && digits.iter().map(|&d| u32::from(d)).sum::<u32>() % 5 == 0;
        if luhn_valid(&digits) || la_poste {
            Ok(Self(compact.into()))
        } else {
            Err(IdError::CheckKey {
                kind: "SIRET",
                got: s.to_owned(),
            })
        }
    }

    /// The SIREN of the company the establishment belongs to.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

string_id!(
    /// A UAI: the national number of an education establishment (a CFA, a
    /// lycée), 7 digits and a check letter.
    Uai
);

/// The letters a UAI check key is drawn from (no I, O, Q).
const UAI_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

impl Uai {
    /// Parses a UAI; the check letter may be given in lower case.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let upper = s.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 8 || !bytes[..7].iter().all(u8::is_ascii_digit) {
            return Err(format_error("UAI", "7 digits and a letter", s));
        }
        if Some(bytes[7]) != Some(Self::check_letter(&upper[..7])) {
            return Err(IdError::CheckKey {
                kind: "UAI",
                got: s.to_owned(),
            });
        }
        Ok(Self(upper.into()))
    }

    /// The check letter of the first 7 digits of a UAI.
    pub fn check_letter(digits: &str) -> u8 {
        let n: u64 = digits.parse().unwrap_or(0);
        UAI_LETTERS[(n % 23) as usize]
    }

    /// The département code the UAI was issued in (`014` → `14`).
    pub fn departement_code(&self) -> &str {
        self.0[..3].trim_start_matches('0')
    }
}

string_id!(
    /// A ROME occupation code: a letter and four digits (`D1102`).
    RomeCode
);

impl RomeCode {
    /// Parses a ROME code.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit) {
            Ok(Self(t.into()))
        } else {
            Err(format_error("ROME code", "a letter and 4 digits", s))
        }
    }

    /// The occupation's label, when the code is in the reference list.
    pub fn label(&self) -> Option<&'static str> {
        crate::reference::rome_label(self.as_str())
    }
}

string_id!(
    /// An RNCP certification code: `RNCP` and 3 to 5 digits.
    Rncp
);

impl Rncp {
    /// Parses an RNCP code; a bare number gets its `RNCP` prefix.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let digits = t.strip_prefix("RNCP").unwrap_or(&t);
        if (3..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(format!("RNCP{digits}").into()))
        } else {
            Err(format_error("RNCP code", "RNCP and 3 to 5 digits", s))
        }
    }
}

string_id!(
    /// A CFD diploma code of the Éducation nationale: 8 characters.
    Cfd
);

impl Cfd {
    /// Parses a CFD code (`[A-Z0-9]{3}\d{3}[A-Z0-9]{2}`).
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        if b.len() == 8
            && b[..3].iter().all(alnum)
            && b[3..6].iter().all(u8::is_ascii_digit)
            && b[6..].iter().all(alnum)
        {
            Ok(Self(t.into()))
        } else {
            Err(format_error("CFD code", "8 characters like 50022137", s))
        }
    }
}

string_id!(
    /// A NAF activity code, kept in its dotted form (`10.71C`).
    Naf
);

impl Naf {
    /// Parses a NAF code written `10.71C` or `1071C`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let compact: String = s.trim().chars().filter(|&c| c != '.').collect();
        let b = compact.as_bytes();
        if b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4].is_ascii_alphabetic() {
            Ok(Self(
                format!("{}.{}", &compact[..2], compact[2..].to_ascii_uppercase()).into(),
            ))
        } else {
            Err(format_error("NAF code", "like 10.71C", s))
        }
    }
}

string_id!(
    /// An OPCO, by its code in the reference list (`AKTO`, `OPCO2I`, …).
    Opco
);

impl Opco {
    /// Parses an OPCO code or name, case and punctuation aside.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        crate::reference::opco_code(s)
            .map(|code| Self(code.into()))
            .ok_or_else(|| IdError::Unknown {
                kind: "OPCO",
                got: s.to_owned(),
            })
    }

    /// The OPCO's name.
    pub fn name(&self) -> &'static str {
        crate::reference::opco_name(self.as_str()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_good_identifiers_parse() {
        for uai in ["0561910X", "0451662M", "0750610F", "0141234r"] {
            assert!(Uai::parse(uai).is_ok(), "{uai}");
        }
        assert!(Siret::parse("732 829 320 00074").is_ok());
        assert!(Siren::parse("732829320").is_ok());
        assert_eq!(Rncp::parse("35185").unwrap().as_str(), "RNCP35185");
        assert_eq!(Naf::parse("1071c").unwrap().as_str(), "10.71C");
        assert!(Cfd::parse("50022137").is_ok());
        assert_eq!(Opco::parse("opco 2i").unwrap().as_str(), "OPCO2I");
    }

    #[test]
    fn la_poste_siret_uses_the_digit_sum_rule() {
        // 356000000 + NIC whose digits sum to a multiple of 5 but fail Luhn.
        let s = "35600000000001";
        assert!(!luhn_valid(&digits_of(s, 14).unwrap()));
        assert!(Siret::parse(s).is_ok());
        assert!(Siret::parse("35600000000000").is_err());
    }

    #[test]
    fn malformed_identifiers_are_rejected_with_the_kind() {
        let e = Siret::parse("1234").unwrap_err();
        assert!(e.to_string().contains("SIRET must be 14 digits"), "{e}");
        assert!(Uai::parse("0141234A").is_err());
        assert!(RomeCode::parse("D110").is_err());
        assert!(Rncp::parse("RNCP12").is_err());
        assert!(Opco::parse("OPCA-X").is_err());
    }

    fn siret_strategy() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(0u8..10, 8),
            proptest::collection::vec(0u8..10, 4),
        )
            .prop_filter("not La Poste", |(siren, _)| {
                siren[..] != [3, 5, 6, 0, 0, 0, 0, 0]
            })
            .prop_map(|(mut d, nic)| {
                d.push(luhn_check_digit(&d));
                d.extend(nic);
                d.push(luhn_check_digit(&d));
                d.iter().map(|x| char::from(b'0' + x)).collect()
            })
    }

    fn uai_strategy() -> impl Strategy<Value = String> {
        (0u32..10_000_000).prop_map(|n| {
            let digits = format!("{n:07}");
            let letter = char::from(Uai::check_letter(&digits));
            format!("{digits}{letter}")
        })
    }

    proptest! {
        #[test]
        fn every_valid_siret_round_trips(s in siret_strategy()) {
            let siret = Siret::parse(&s).unwrap();
            prop_assert_eq!(siret.to_string(), s.clone());
            prop_assert!(Siren::parse(siret.siren()).is_ok());
        }

        #[test]
        fn every_one_digit_change_of_a_siret_is_rejected(
            s in siret_strategy(), pos in 0usize..14, delta in 1u8..10
        ) {
            let mut b = s.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(Siret::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn every_valid_uai_round_trips(s in uai_strategy()) {
            prop_assert_eq!(Uai::parse(&s).unwrap().to_string(), s);
        }

        #[test]
        fn every_one_digit_change_of_a_uai_is_rejected(
            s in uai_strategy(), pos in 0usize..7, delta in 1u8..10
        ) {
            let mut b = s.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(Uai::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn every_other_check_letter_of_a_uai_is_rejected(
            s in uai_strategy(), shift in 1usize..23
        ) {
            let mut b = s.into_bytes();
            let i = UAI_LETTERS.iter().position(|&l| l == b[7]).unwrap();
            b[7] = UAI_LETTERS[(i + shift) % 23];
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(Uai::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
