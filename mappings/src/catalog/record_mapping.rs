//! One record mapped to its entity: each field's value read by its paths
//! (element by element for an `each` field) through its transforms, and
//! the entity built from them, or the record rejected with the field and
//! why.

use std::borrow::Cow;

use passerelle_schema::{Event, Formation, Mobility, Offer, OrientationSite};
use serde_json::Value;

use super::mapping::Rule;
use super::Mapping;
use crate::entity::{Entity, EntityKind, Values};
use crate::error::{FieldError, RecordError};
use crate::record::{self, Tree};
use crate::transform::Transform;

impl Rule {
    /// The first value `from` gives in one element of an `each` path,
    /// through the transforms (which read a second value, if any, from the
    /// same element); `None` when it has none.
    fn read<'a, T: Tree>(
        &'a self,
        element: &'a T,
        field: &'static str,
    ) -> Result<Option<Cow<'a, str>>, FieldError> {
        let mut v = self
            .from
            .iter()
            .map(|p| p.texts(element))
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        for t in &self.transforms {
            v = t.apply(v, element).map_err(|e| FieldError::new(field, e))?;
        }
        v.retain(|s| !s.trim().is_empty());
        Ok(match v.len() {
            0 => None,
            1 => v.pop(),
            _ => Some(v.join(", ").into()),
        })
    }
}

impl Mapping {
    fn values<'a, T: Tree>(&'a self, record: &'a T) -> Result<Values<'a>, FieldError> {
        let mut values = Values::with_capacity(self.rules.len());
        for (def, rule) in &self.rules {
            if let Some((first, rest)) = &rule.each {
                let mut slots = Vec::new();
                for (group, outer) in first.nodes(record).into_iter().enumerate() {
                    for element in rest.nodes(outer) {
                        slots.push((group, rule.read(element, def.name)?));
                    }
                }
                values.insert_slots(def.name, slots);
                continue;
            }
            let mut v = match &rule.value {
                Some(c) => smallvec::smallvec![Cow::Borrowed(c.as_str())],
                None => rule
                    .from
                    .iter()
                    .map(|p| p.texts(record))
                    .find(|v| !v.is_empty())
                    .unwrap_or_default(),
            };
            for t in &rule.transforms {
                v = t
                    .apply(v, record)
                    .map_err(|e| FieldError::new(def.name, e))?;
            }
            v.retain(|s| !s.trim().is_empty());
            values.insert(def.name, v);
        }
        Ok(values)
    }

    /// The record's identifier at the partner, as far as it can be read.
    pub(super) fn partner_id(&self, record: &impl Tree) -> Option<String> {
        let (_, rule) = self.rules.iter().find(|(d, _)| d.name == "partner_id")?;
        rule.from
            .iter()
            .find_map(|p| p.select(record).into_iter().next())
            .map(|s| s.trim().to_owned())
    }

    /// The paths an identifier is derived from for a record without one
    /// (the `derive` transform of `partner_id`), if it is.
    pub(super) fn derived_from(&self) -> Option<&[record::Path]> {
        let (_, rule) = self.rules.iter().find(|(d, _)| d.name == "partner_id")?;
        rule.transforms.iter().find_map(|t| match t {
            Transform::Derive(paths) => Some(&paths[..]),
            _ => None,
        })
    }

    /// Maps one record; `index` is its position in the payload.
    pub fn map_record<E: Entity>(
        &self,
        index: usize,
        record: &impl Tree,
    ) -> Result<E, RecordError> {
        self.map_noting(index, record, &mut Vec::new())
    }

    /// Maps one record as [`Mapping::map_record`] does, adding to `notes`
    /// the values left out of it when it is kept (an organism's SIRET
    /// that fails its check, in a programme).
    pub(super) fn map_noting<E: Entity>(
        &self,
        index: usize,
        record: &impl Tree,
        notes: &mut Vec<RecordError>,
    ) -> Result<E, RecordError> {
        assert_eq!(
            E::KIND,
            self.entity,
            "mapping {} builds {}",
            self.file,
            self.entity.name()
        );
        if let Some(reason) = record.child(record::UNREADABLE).and_then(Tree::text) {
            return Err(RecordError {
                index,
                partner_id: self.partner_id(record),
                field: "record".into(),
                reason: reason.into_owned(),
            });
        }
        let error = |e: FieldError| RecordError {
            index,
            partner_id: self.partner_id(record),
            field: e.field,
            reason: e.reason,
        };
        let mut values = self.values(record).map_err(error)?;
        let built = E::build(self.partner, &mut values).map_err(error)?;
        notes.extend(values.take_notes().into_iter().map(error));
        Ok(built)
    }

    /// Maps one record to the entity's JSON form, whatever the entity.
    pub fn map_record_json(&self, index: usize, record: &impl Tree) -> Result<Value, RecordError> {
        match self.entity {
            EntityKind::Offer => self
                .map_record::<Offer>(index, record)
                .map(|o| serde_json::to_value(o).expect("entities serialize")),
            EntityKind::Formation => self
                .map_record::<Formation>(index, record)
                .map(|o| serde_json::to_value(o).expect("entities serialize")),
            EntityKind::Mobility => self
                .map_record::<Mobility>(index, record)
                .map(|o| serde_json::to_value(o).expect("entities serialize")),
            EntityKind::Event => self
                .map_record::<Event>(index, record)
                .map(|o| serde_json::to_value(o).expect("entities serialize")),
            EntityKind::Site => self
                .map_record::<OrientationSite>(index, record)
                .map(|o| serde_json::to_value(o).expect("entities serialize")),
        }
    }
}
