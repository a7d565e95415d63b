//! Mobilities abroad (Pass Monde, Erasmus+): the fields a mapping fills,
//! and the [`Mobility`] built from them.

use std::borrow::Cow;

use passerelle_schema::{Cents, Mobility, MobilityProgram, Partner, Uai};

use super::kind::field;
use super::parse::{date, number};
use super::{Entity, EntityKind, FieldDef, Values};
use crate::error::FieldError;

/// The fields a mapping of a mobility may fill, with where each sits in
/// its JSON form.
pub(super) const MOBILITY_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("program", true, "/program"),
    field("cfa", true, "/cfa"),
    field("grant_agreement", false, "/grant_agreement"),
    field("country", true, "/country"),
    field("city", false, "/city"),
    field("start", true, "/start"),
    field("end", false, "/end"),
    field("duration_days", false, "/duration_days"),
    field("amount", false, "/amount"),
    field("participants", false, "/participants"),
];

impl Entity for Mobility {
    const KIND: EntityKind = EntityKind::Mobility;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let country = v.required("country")?.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "country",
                format!("{country:?} is not an ISO 3166 country code (add a `code_list`)"),
            ));
        }
        let start = v.parse_required("start", date)?;
        let end = v.parse("end", date)?;
        if end.is_some_and(|e| e < start) {
            return Err(FieldError::new("end", "is before the start"));
        }
        let duration_days = match v.parse("duration_days", number::<u32>)? {
            Some(d) => d,
            None => end
                .map(|e| (e - start).num_days() as u32 + 1)
                .ok_or_else(|| FieldError::new("duration_days", "is missing, and so is the end"))?,
        };
        let amount = v.parse("amount", |a| {
            a.trim()
                .parse::<i64>()
                .map(Cents)
                .map_err(|_| format!("{a:?} is not cents (add a `euros` transform)"))
        })?;
        if amount.is_some_and(|a| a.0 < 0) {
            return Err(FieldError::new("amount", "is negative"));
        }
        Ok(Mobility {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            program: v.parse_required("program", MobilityProgram::parse)?,
            cfa: v.parse_required("cfa", Uai::parse)?,
            grant_agreement: v.take("grant_agreement").map(Cow::into_owned),
            country,
            city: v.take("city").map(Cow::into_owned),
            start,
            end,
            duration_days,
            amount,
            participants: v.parse("participants", number::<u32>)?.unwrap_or(1),
        })
    }
}
