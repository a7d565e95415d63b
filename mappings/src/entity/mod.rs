//! The unified entities a mapping can produce, and their fields.
//!
//! [`EntityKind`] names each entity and lists its fields ([`FieldDef`]);
//! [`Values`] holds the mapped values of one record, by field. Each
//! entity's [`Entity`] implementation, in a module of its own, builds it
//! from them, with the field parsers all entities share (`parse`).
mod event;
mod formation;
mod kind;
mod mobility;
mod offer;
mod parse;
mod site;
mod values;

pub use kind::{Entity, EntityKind, FieldDef};
pub use values::{Slots, Values};
