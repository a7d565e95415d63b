//! The unified entities a mapping can produce, and their fields.
//!
//! [`EntityKind`] names each entity and lists its fields ([`FieldDef`]);
//! [`Values`] holds the mapped values of one record, by field. Each
//! entity's [`Entity`] implementation, in a module of its own, builds it
//! from them, with the field parsers all entities share (`parse`).

mod event;
mod formation;
mod mobility;
mod offer;
mod parse;
mod site;
mod values;

pub use values::{Slots, Values};

use passerelle_schema::Partner;
use serde::Serialize;

use crate::error::FieldError;
use event::EVENT_FIELDS;
use formation::FORMATION_FIELDS;
use mobility::MOBILITY_FIELDS;
use offer::OFFER_FIELDS;
use site::SITE_FIELDS;

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

const fn field(name: &'static str, required: bool, json: &'static str) -> FieldDef {
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
