//! Orientation sites: the fields a mapping fills, and the
//! [`OrientationSite`] built from them.

use std::borrow::Cow;

use passerelle_schema::{InseeCommune, OrientationSite, Partner, SiteKind, Uai};

use super::kind::field;
use super::{Entity, EntityKind, FieldDef, Values};
use crate::error::FieldError;

/// The fields a mapping of a site may fill, with where each sits in
/// its JSON form.
pub(super) const SITE_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("name", true, "/name"),
    field("kind", true, "/kind"),
    field("address", false, "/address"),
    field("commune", true, "/commune"),
    field("uai", false, "/uai"),
    field("calendar_url", false, "/calendar_url"),
];

impl Entity for OrientationSite {
    const KIND: EntityKind = EntityKind::Site;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        Ok(OrientationSite {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            name: v.take_required("name")?.into_owned(),
            kind: v.parse_required("kind", SiteKind::parse)?,
            address: v.take("address").map(Cow::into_owned),
            commune: v.parse_required("commune", InseeCommune::parse)?,
            uai: v.parse("uai", Uai::parse)?,
            calendar_url: v.take("calendar_url").map(Cow::into_owned),
        })
    }
}
