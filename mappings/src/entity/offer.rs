//! Apprenticeship offers: the fields a mapping fills, and the [`Offer`]
//! built from them.

use passerelle_schema::{
    DiplomaLevel, Employer, GeoPoint, InseeCommune, Location, Naf, Offer, OfferSource, OfferStatus,
    Opco, Partner, Postcode, PublicEmployerType, RomeCode, Siret,
};

use super::kind::field;
use super::parse::{coordinate, date, datetime, number};
use super::{Entity, EntityKind, FieldDef, Values};
use crate::error::FieldError;

/// The fields a mapping of an offer may fill, with where each sits in
/// its JSON form.
pub(super) const OFFER_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/sources/0/partner_id"),
    field("url", false, "/sources/0/url"),
    field("title", true, "/title"),
    field("description", false, "/description"),
    field("rome_codes", false, "/rome_codes"),
    field("level", false, "/level"),
    field("employer.siret", true, "/employer/siret"),
    field("employer.name", true, "/employer/name"),
    field("employer.size", false, "/employer/size"),
    field("employer.naf", false, "/employer/naf"),
    field("employer.opco", false, "/employer/opco"),
    field("employer.public_type", false, "/employer/public_type"),
    field("location.commune", true, "/location/commune"),
    field("location.postcode", false, "/location/postcode"),
    field("location.address", false, "/location/address"),
    field("location.latitude", false, "/location/coordinates/latitude"),
    field(
        "location.longitude",
        false,
        "/location/coordinates/longitude",
    ),
    field("start_date", false, "/start_date"),
    field("duration_months", false, "/duration_months"),
    field("rhythm", false, "/rhythm"),
    field("openings", false, "/openings"),
    field("published_at", true, "/published_at"),
    field("expires_at", false, "/expires_at"),
    field("status", false, "/status"),
];

impl Entity for Offer {
    const KIND: EntityKind = EntityKind::Offer;

    fn partner_id(&self) -> &str {
        &self.primary_source().partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let rome_codes = v
            .all("rome_codes")
            .iter()
            .map(|c| RomeCode::parse(c).map_err(|e| FieldError::new("rome_codes", e)))
            .collect::<Result<Vec<_>, _>>()?;
        let latitude = v.parse("location.latitude", coordinate)?;
        let longitude = v.parse("location.longitude", coordinate)?;
        let coordinates = match (latitude, longitude) {
            (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).ok_or_else(|| {
                FieldError::new("location.latitude", format!("{lat}, {lon} is out of range"))
            })?),
            _ => None,
        };
        let status = v
            .parse("status", |s| {
                let s = s.trim();
                [
                    ("active", OfferStatus::Active),
                    ("filled", OfferStatus::Filled),
                    ("cancelled", OfferStatus::Cancelled),
                    ("pending", OfferStatus::Pending),
                ]
                .into_iter()
                .find(|(name, _)| s.eq_ignore_ascii_case(name))
                .map(|(_, status)| status)
                .ok_or_else(|| {
                    format!(
                        "{:?} is not active, filled, cancelled or pending (add a `code_list`)",
                        s.to_ascii_lowercase()
                    )
                })
            })?
            .unwrap_or_default();
        let title = v.take_required("title")?.into();
        Ok(Offer {
            sources: vec![OfferSource {
                partner,
                partner_id: v.take_required("partner_id")?.into(),
                url: v.take("url").map(Into::into),
            }],
            title,
            description: v.take("description").map(Into::into),
            rome_codes,
            level: v.parse("level", DiplomaLevel::parse)?,
            employer: Employer {
                siret: v.parse_required("employer.siret", Siret::parse)?,
                name: v.take_required("employer.name")?.into(),
                size: v.take("employer.size").map(Into::into),
                naf: v.parse("employer.naf", Naf::parse)?,
                opco: v.parse("employer.opco", Opco::parse)?,
                public_type: v.parse("employer.public_type", PublicEmployerType::parse)?,
            },
            location: Location {
                commune: v.parse_required("location.commune", InseeCommune::parse)?,
                postcode: v.parse("location.postcode", Postcode::parse)?,
                address: v.take("location.address").map(Into::into),
                coordinates,
            },
            start_date: v.parse("start_date", date)?,
            duration_months: v.parse("duration_months", number::<u32>)?,
            rhythm: v.take("rhythm").map(Into::into),
            openings: v.parse("openings", number::<u32>)?.unwrap_or(1),
            published_at: v.parse_required("published_at", datetime)?,
            expires_at: v.parse("expires_at", datetime)?,
            status,
        })
    }
}
