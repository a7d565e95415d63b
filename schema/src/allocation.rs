//! Allocations of the solde of the taxe d'apprentissage: an employer's
//! money, collected by its OPCO, sent to a training establishment.
//!
//! OPCOs push them as text; [`Allocation::check`] turns one into a checked
//! allocation or a [`Rejection`] that names the field and why, so that one
//! bad record never sinks its batch.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::{Deserialize, Serialize};

use crate::geo::{CommuneCode, Departement};
use crate::ids::{IdError, Opco, Siret, Uai};
use crate::money::Cents;

/// The first campaign of the reformed taxe d'apprentissage (2020 wages,
/// solde allocated from 2020 on).
pub const FIRST_CAMPAIGN: i32 = 2020;

/// The largest single allocation accepted: 100 million euros.
pub const MAX_AMOUNT: Cents = Cents(10_000_000_000);

/// The longest allocation reference.
pub const MAX_REFERENCE: usize = 100;

/// An allocation as an OPCO sends it: text, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationInput {
    /// The employer's SIRET.
    pub employer_siret: String,
    /// The INSEE code of the employer's establishment's commune.
    pub employer_commune: String,
    /// The UAI of the establishment that receives the money.
    pub establishment_uai: String,
    /// The amount in euros, at most two decimals (`1234.50`, `1 234,50`).
    pub amount: String,
    /// When the employer allocated it: RFC 3339, or a date (Paris time).
    pub allocated_at: String,
    /// The OPCO's own reference of the allocation, unique for that OPCO.
    pub reference: String,
}

/// A checked allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The OPCO that pushed it.
    pub opco: Opco,
    /// The campaign year.
    pub campaign: i32,
    /// The employer.
    pub employer_siret: Siret,
    /// The employer's commune.
    pub employer_commune: CommuneCode,
    /// The receiving establishment.
    pub establishment_uai: Uai,
    /// The amount.
    pub amount: Cents,
    /// When it was allocated.
    pub allocated_at: DateTime<Utc>,
    /// The OPCO's reference.
    pub reference: String,
}

/// Why one record of a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The record's position in its batch, from 0.
    pub index: u64,
    /// The field at fault, as the input names it (`employerSiret`…).
    pub field: String,
    /// A stable code: `MISSING`, `INVALID_FORMAT`, `INVALID_CHECK_KEY`,
    /// `UNKNOWN_VALUE`, `NOT_POSITIVE`, `OUT_OF_RANGE`, `OUT_OF_CAMPAIGN`,
    /// `UNREADABLE_RECORD`.
    pub code: String,
    /// What was wrong, for people.
    pub reason: String,
    /// The record's line in the uploaded file, from 1 (CSV uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl Rejection {
    /// A rejection of record `index`.
    pub fn new(index: u64, field: &str, code: &str, reason: impl Into<String>) -> Self {
        Self {
            index,
            field: field.to_owned(),
            code: code.to_owned(),
            reason: reason.into(),
            line: None,
        }
    }

    /// The same rejection, of the record at `line` of its file.
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    fn from_id(index: u64, field: &str, e: &IdError) -> Self {
        let code = match e {
            IdError::Format { .. } => "INVALID_FORMAT",
            IdError::CheckKey { .. } => "INVALID_CHECK_KEY",
            IdError::Unknown { .. } => "UNKNOWN_VALUE",
        };
        Self::new(index, field, code, e.to_string())
    }
}

/// Checks a campaign year: from the first reformed campaign to next year.
pub fn check_campaign(year: i64, today: NaiveDate) -> Result<i32, String> {
    let last = i64::from(today.year()) + 1;
    if (i64::from(FIRST_CAMPAIGN)..=last).contains(&year) {
        Ok(year as i32)
    } else {
        Err(format!(
            "the campaign year must be between {FIRST_CAMPAIGN} and {last}, got {year}"
        ))
    }
}

fn required<'a>(index: u64, field: &str, value: &'a str) -> Result<&'a str, Rejection> {
    let v = value.trim();
    if v.is_empty() {
        Err(Rejection::new(
            index,
            field,
            "MISSING",
            format!("{field} is missing"),
        ))
    } else {
        Ok(v)
    }
}

/// Reads an instant written in RFC 3339, or a date taken at midnight in
/// Paris.
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.to_utc());
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Paris
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.to_utc())
}

impl Allocation {
    /// Checks record `index` of a batch that `opco` pushed for `campaign`,
    /// at `now`: every identifier with its check key, the amount positive
    /// and in cents, the date within the campaign (its year or the next)
    /// and not in the future.
    pub fn check(
        input: &AllocationInput,
        opco: &Opco,
        campaign: i32,
        index: u64,
        now: DateTime<Utc>,
    ) -> Result<Self, Rejection> {
        let reference = required(index, "reference", &input.reference)?;
        if reference.chars().count() > MAX_REFERENCE || reference.chars().any(char::is_control) {
            return Err(Rejection::new(
                index,
                "reference",
                "INVALID_FORMAT",
                format!("a reference is at most {MAX_REFERENCE} printable characters"),
            ));
        }
        let siret = required(index, "employerSiret", &input.employer_siret)?;
        let employer_siret =
            Siret::parse(siret).map_err(|e| Rejection::from_id(index, "employerSiret", &e))?;
        let commune = required(index, "employerCommune", &input.employer_commune)?;
        let employer_commune = CommuneCode::parse(commune)
            .map_err(|e| Rejection::from_id(index, "employerCommune", &e))?;
        let uai = required(index, "establishmentUai", &input.establishment_uai)?;
        let establishment_uai =
            Uai::parse(uai).map_err(|e| Rejection::from_id(index, "establishmentUai", &e))?;
        let amount = required(index, "amount", &input.amount)?;
        let amount =
            Cents::parse_euros(amount).map_err(|e| Rejection::from_id(index, "amount", &e))?;
        if amount.0 <= 0 {
            return Err(Rejection::new(
                index,
                "amount",
                "NOT_POSITIVE",
                format!("an allocation is a positive amount, got {amount}"),
            ));
        }
        if amount > MAX_AMOUNT {
            return Err(Rejection::new(
                index,
                "amount",
                "OUT_OF_RANGE",
                format!("an allocation is at most {MAX_AMOUNT}, got {amount}"),
            ));
        }
        let at = required(index, "allocatedAt", &input.allocated_at)?;
        let allocated_at = parse_instant(at).ok_or_else(|| {
            Rejection::new(
                index,
                "allocatedAt",
                "INVALID_FORMAT",
                format!("allocatedAt must be RFC 3339 or a date like 2026-06-01, got {at:?}"),
            )
        })?;
        let year = allocated_at.with_timezone(&Paris).year();
        if year != campaign && year != campaign + 1 {
            return Err(Rejection::new(
                index,
                "allocatedAt",
                "OUT_OF_CAMPAIGN",
                format!(
                    "an allocation of campaign {campaign} is made in {campaign} or {}, not {year}",
                    campaign + 1
                ),
            ));
        }
        if allocated_at > now + chrono::Duration::days(1) {
            return Err(Rejection::new(
                index,
                "allocatedAt",
                "OUT_OF_RANGE",
                "allocatedAt is in the future",
            ));
        }
        Ok(Self {
            opco: opco.clone(),
            campaign,
            employer_siret,
            employer_commune,
            establishment_uai,
            amount,
            allocated_at,
            reference: reference.to_owned(),
        })
    }

    /// The ISO week of the allocation, Paris time (`2026-W23`).
    pub fn week(&self) -> String {
        self.allocated_at
            .with_timezone(&Paris)
            .format("%G-W%V")
            .to_string()
    }

    /// The département of the receiving establishment, from its UAI.
    pub fn establishment_departement(&self) -> Option<Departement> {
        Departement::parse(self.establishment_uai.departement_code()).ok()
    }

    /// Whether the money goes to an establishment in Normandy.
    pub fn to_normandy(&self) -> bool {
        self.establishment_departement()
            .is_some_and(|d| d.is_normandy())
    }

    /// Whether the money comes from an employer in Normandy.
    pub fn from_normandy(&self) -> bool {
        self.employer_commune.is_normandy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AllocationInput {
        AllocationInput {
            employer_siret: "73282932000074".into(),
            employer_commune: "14118".into(),
            establishment_uai: "0141687H".into(),
            amount: "1 234,50".into(),
            allocated_at: "2026-06-02".into(),
            reference: "A-1".into(),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-29T00:00:00Z".parse().unwrap()
    }

    fn opco() -> Opco {
        Opco::parse("AKTO").unwrap()
    }

    #[test]
    fn a_good_record_is_checked() {
        let a = Allocation::check(&input(), &opco(), 2026, 0, now()).unwrap();
        assert_eq!(a.amount, Cents(123_450));
        assert_eq!(a.week(), "2026-W23");
        assert!(a.from_normandy());
        assert_eq!(a.establishment_departement().unwrap().as_str(), "14");
        assert!(a.to_normandy());
        assert_eq!(a.allocated_at.to_rfc3339(), "2026-06-01T22:00:00+00:00");
    }

    #[test]
    fn each_bad_field_is_named_with_its_code() {
        type Spoil = fn(&mut AllocationInput);
        let cases: Vec<(Spoil, &str, &str)> = vec![
            (
                |i| i.employer_siret = "73282932000075".into(),
                "employerSiret",
                "INVALID_CHECK_KEY",
            ),
            (
                |i| i.employer_siret = "7328".into(),
                "employerSiret",
                "INVALID_FORMAT",
            ),
            (
                |i| i.employer_commune = "14999".into(),
                "employerCommune",
                "UNKNOWN_VALUE",
            ),
            (
                |i| i.employer_commune = "00123".into(),
                "employerCommune",
                "INVALID_FORMAT",
            ),
            (
                |i| i.establishment_uai = "0141687B".into(),
                "establishmentUai",
                "INVALID_CHECK_KEY",
            ),
            (|i| i.amount = "12.345".into(), "amount", "INVALID_FORMAT"),
            (|i| i.amount = "0".into(), "amount", "NOT_POSITIVE"),
            (|i| i.amount = "-5".into(), "amount", "NOT_POSITIVE"),
            (|i| i.amount = "200000000".into(), "amount", "OUT_OF_RANGE"),
            (
                |i| i.allocated_at = "02/06/2026".into(),
                "allocatedAt",
                "INVALID_FORMAT",
            ),
            (
                |i| i.allocated_at = "2024-06-02".into(),
                "allocatedAt",
                "OUT_OF_CAMPAIGN",
            ),
            (
                |i| i.allocated_at = "2027-01-02".into(),
                "allocatedAt",
                "OUT_OF_RANGE",
            ),
            (|i| i.reference = " ".into(), "reference", "MISSING"),
            (
                |i| i.reference = "x".repeat(101),
                "reference",
                "INVALID_FORMAT",
            ),
        ];
        for (spoil, field, code) in cases {
            let mut i = input();
            spoil(&mut i);
            let r = Allocation::check(&i, &opco(), 2026, 7, now()).unwrap_err();
            assert_eq!(
                (r.index, r.field.as_str(), r.code.as_str()),
                (7, field, code),
                "{i:?}: {r:?}"
            );
        }
    }

    #[test]
    fn employers_and_establishments_outside_normandy_are_allowed() {
        let mut i = input();
        i.employer_commune = "75056".into();
        i.establishment_uai = format!("0751234{}", Uai::check_letter("0751234") as char);
        let a = Allocation::check(&i, &opco(), 2026, 0, now()).unwrap();
        assert!(!a.from_normandy());
        assert!(!a.to_normandy());
    }

    #[test]
    fn campaign_years_are_sane() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(check_campaign(2026, today), Ok(2026));
        assert_eq!(check_campaign(2027, today), Ok(2027));
        assert!(check_campaign(2028, today).is_err());
        assert!(check_campaign(2019, today).is_err());
    }
}
