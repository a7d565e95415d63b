//! Which entities there are, the fields each has, and what building one
//! from a record's values takes.

use passerelle_schema::Partner;
use serde::Serialize;

use super::event::EVENT_FIELDS;
use super::formation::FORMATION_FIELDS;
use super::mobility::MOBILITY_FIELDS;
use super::offer::OFFER_FIELDS;
use super::site::SITE_FIELDS;
use super::Values;
use crate::error::FieldError;

/// A unified field a mapping file may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The name mapping files use (`employer.siret`).
    pub name: &'static str,
    /// Whether every mapping of the entity must fill it.
    pub required: bool,
    /// Where the value sits in the entity's JSON form, for test cases.
    pub json: &'static str,
}

pub(super) const fn field(name: &'static str, required: bool, json: &'static str) -> FieldDef {
    FieldDef {
        name,
        required,
        json,
    }
}

/// The kinds of unified entity, a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// An apprenticeship offer.
    Offer,
    /// An apprenticeship programme of the training catalogue.
    Formation,
    /// A mobility abroad (Pass Monde, Erasmus+).
    Mobility,
    /// An orientation event.
    Event,
    /// An orientation site.
    Site,
}

impl EntityKind {
    /// Every kind.
    pub const ALL: [EntityKind; 5] = [
        EntityKind::Offer,
        EntityKind::Formation,
        EntityKind::Mobility,
        EntityKind::Event,
        EntityKind::Site,
    ];

    /// The name mapping files use.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Offer => "offer",
            EntityKind::Formation => "formation",
            EntityKind::Mobility => "mobility",
            EntityKind::Event => "event",
            EntityKind::Site => "site",
        }
    }

    /// The fields of the entity.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            EntityKind::Offer => OFFER_FIELDS,
            EntityKind::Formation => FORMATION_FIELDS,
            EntityKind::Mobility => MOBILITY_FIELDS,
            EntityKind::Event => EVENT_FIELDS,
            EntityKind::Site => SITE_FIELDS,
        }
    }

    /// Parses a kind's name; the error lists the known ones.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown entity {s:?}; known entities: {}",
                    Self::ALL.map(Self::name).join(", ")
                )
            })
    }
}

/// A unified entity that mappings build.
pub trait Entity: Sized + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static {
    /// Which kind it is.
    const KIND: EntityKind;
    /// Builds the entity from a record's mapped values.
    fn build(partner: Partner, values: &mut Values<'_>) -> Result<Self, FieldError>;
    /// The record's identifier at the partner it was mapped from.
    fn partner_id(&self) -> &str;
}
