//! The mapped values of one record, by unified field name, as an entity is
//! built from them: read, taken out, parsed, and those left out of a record
//! that is kept noted with why.

use std::borrow::Cow;

use crate::error::FieldError;
use crate::record::Texts;

/// The mapped values of one record, by unified field name, borrowed from
/// the record and the mapping where no step changed them.
#[derive(Debug, Default)]
pub struct Values<'a> {
    /// In the mapping's order: a few dozen, found by a scan.
    fields: Vec<(&'static str, Texts<'a>)>,
    /// The fields read `each` element of a path, element by element.
    slots: Vec<(&'static str, Slots<'a>)>,
    /// Values left out of a record that was kept, each with why.
    pub(super) notes: Vec<FieldError>,
}

/// A field read `each` element of a path: for every element, the index of
/// the element of the path's first step it belongs to, and its value.
pub type Slots<'a> = Vec<(usize, Option<Cow<'a, str>>)>;

impl<'a> Values<'a> {
    pub(crate) fn with_capacity(fields: usize) -> Self {
        Self {
            fields: Vec::with_capacity(fields),
            slots: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets a field read `each` element; its values are also the field's
    /// values, without the elements that have none.
    pub(crate) fn insert_slots(&mut self, field: &'static str, slots: Slots<'a>) {
        self.insert(field, slots.iter().filter_map(|(_, v)| v.clone()).collect());
        self.slots.retain(|(f, _)| *f != field);
        self.slots.push((field, slots));
    }

    /// A field's values element by element, when it is read `each` element.
    pub fn slots(&self, field: &str) -> Option<&Slots<'a>> {
        self.slots.iter().find(|(f, _)| *f == field).map(|(_, s)| s)
    }

    pub(crate) fn insert(&mut self, field: &'static str, values: Texts<'a>) {
        match self.get_mut(field) {
            Some(v) => *v = values,
            None => self.fields.push((field, values)),
        }
    }

    fn get_mut(&mut self, field: &str) -> Option<&mut Texts<'a>> {
        self.fields
            .iter_mut()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }

    /// All values of a field.
    pub fn all(&self, field: &str) -> &[Cow<'a, str>] {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    /// The first value of a field.
    pub fn one(&self, field: &str) -> Option<&str> {
        self.all(field).first().map(AsRef::as_ref)
    }

    /// The first value of a field, taken out.
    pub fn take(&mut self, field: &str) -> Option<Cow<'a, str>> {
        let values = self.get_mut(field)?;
        (!values.is_empty()).then(|| values.remove(0))
    }

    /// The first value of a field that must have one, taken out.
    pub fn take_required(&mut self, field: &str) -> Result<Cow<'a, str>, FieldError> {
        self.take(field)
            .ok_or_else(|| FieldError::new(field, "is missing"))
    }

    /// The first value of a field that must have one.
    pub fn required(&self, field: &str) -> Result<&str, FieldError> {
        self.one(field)
            .ok_or_else(|| FieldError::new(field, "is missing"))
    }

    /// The field parsed by `parse`, when it has a value.
    pub fn parse<T, E: std::fmt::Display>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, FieldError> {
        self.one(field)
            .map(|v| parse(v).map_err(|e| FieldError::new(field, e)))
            .transpose()
    }

    /// The field parsed by `parse`, or none when it does not parse, noted
    /// with why: for a value whose failure is not the record's (an
    /// organism's SIRET that fails its check, in a programme).
    pub fn parse_or_note<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match self.parse(field, parse) {
            Ok(v) => v,
            Err(e) => {
                self.notes.push(FieldError::new(
                    e.field,
                    format!("{}: left out, the record kept", e.reason),
                ));
                None
            }
        }
    }

    /// The values left out of the record, with why.
    pub(crate) fn take_notes(&mut self) -> Vec<FieldError> {
        std::mem::take(&mut self.notes)
    }

    /// The field parsed by `parse`; it must have a value.
    pub fn parse_required<T, E: std::fmt::Display>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, FieldError> {
        self.parse(field, parse)?
            .ok_or_else(|| FieldError::new(field, "is missing"))
    }
}
