//! A partner's payload mapped whole, record by record, in its wire format:
//! from bytes, from owned bytes, or from a stream read as it comes (an XML
//! feed is never held whole). A record that does not map is rejected
//! alone; a payload that breaks off keeps the records before the break.

use serde_json::Value;

use super::notes::Notes;
use super::Mapping;
use crate::entity::Entity;
use crate::error::RecordError;
use crate::file::SourceFormat;
use crate::record::{self, Json, PayloadError};

/// What mapping a whole payload gave.
#[derive(Debug)]
pub struct MappedBatch<E> {
    /// The records that mapped.
    pub records: Vec<E>,
    /// The records that did not, each with its reason.
    pub rejected: Vec<RecordError>,
    /// Set when the payload broke off (a syntax error) after the records read.
    pub truncated: Option<PayloadError>,
    /// What was done to records kept that is not a rejection, a sentence
    /// each: an identifier derived for records without one.
    pub notices: Vec<String>,
}

impl<E> Default for MappedBatch<E> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            rejected: Vec::new(),
            truncated: None,
            notices: Vec::new(),
        }
    }
}

/// How reading a payload a record at a time ended.
#[derive(Debug, Default)]
pub struct ReadEnd {
    /// The error that stopped the reading, if any.
    pub truncated: Option<PayloadError>,
    /// See [`MappedBatch::notices`].
    pub notices: Vec<String>,
}

impl Mapping {
    /// Reads a payload into records: those read, and the error that stopped
    /// the reading, if any.
    pub fn records(&self, bytes: &[u8]) -> (Vec<Value>, Option<PayloadError>) {
        let mut records = Vec::new();
        let err = self.each_record(bytes, &mut |r| records.push(Value::from(r)));
        (records, err)
    }

    /// Reads a payload a record at a time, handing each to `f`; the error
    /// that stopped the reading, if any. An XML feed is read as a stream,
    /// the other formats (small payloads) whole.
    fn each_record(&self, bytes: &[u8], f: &mut dyn FnMut(Json<'_>)) -> Option<PayloadError> {
        let whole = |r: Result<Vec<Json<'_>>, PayloadError>, f: &mut dyn FnMut(Json<'_>)| match r {
            Ok(records) => {
                records.into_iter().for_each(f);
                None
            }
            Err(e) => Some(e),
        };
        match &self.source {
            SourceFormat::Json { records } => whole(record::json_records(bytes, records), f),
            SourceFormat::Xml { record } => match record::decode_xml(bytes) {
                Ok(text) => record::xml_each(&text, record, f),
                Err(e) => Some(e),
            },
            SourceFormat::Csv { delimiter } => {
                whole(record::csv_records(bytes, delimiter.as_bytes()[0]), f)
            }
            SourceFormat::Ical { component } => whole(
                record::ical_decode(bytes).and_then(|text| record::ical_records(&text, component)),
                f,
            ),
        }
    }

    /// Maps a whole payload, record by record.
    pub fn map_payload<E: Entity>(&self, bytes: &[u8]) -> MappedBatch<E> {
        self.map_payload_with(bytes, &[])
    }

    /// Maps a whole payload, adding `context` (key, value) to every record
    /// first: what the connector knows of the payload and its records do
    /// not say, such as the site a calendar belongs to.
    pub fn map_payload_with<E: Entity>(
        &self,
        bytes: &[u8],
        context: &[(String, String)],
    ) -> MappedBatch<E> {
        self.map_each(context, |f| self.each_record(bytes, f))
    }

    /// Maps an answer as [`Mapping::map_payload`] does and, for a JSON one,
    /// reads the values at `pointers` beside its records (a count, the next
    /// page's cursor) in the same parse; each `None` where the answer has
    /// none, or is not JSON.
    pub fn map_payload_pointing<E: Entity>(
        &self,
        bytes: &[u8],
        pointers: &[&str],
    ) -> (MappedBatch<E>, Vec<Option<Value>>) {
        let mut values = vec![None; pointers.len()];
        let batch = match &self.source {
            SourceFormat::Json { records } if !pointers.is_empty() => self.map_each(&[], |f| {
                match record::json_records_and(bytes, records, pointers) {
                    Ok((found, others)) => {
                        values = others.into_iter().map(|v| v.map(Value::from)).collect();
                        found.into_iter().for_each(f);
                        None
                    }
                    Err(e) => Some(e),
                }
            }),
            _ => self.map_payload(bytes),
        };
        (batch, values)
    }

    /// [`Mapping::map_payload_with`], consuming the payload: an XML feed is
    /// freed once decoded (or taken as its text when in UTF-8), so that a
    /// large feed is not held twice while it is mapped.
    pub fn map_payload_owned<E: Entity>(
        &self,
        bytes: Vec<u8>,
        context: &[(String, String)],
    ) -> MappedBatch<E> {
        match &self.source {
            SourceFormat::Xml { record } => {
                self.map_each(context, |f| match record::decode_xml_owned(bytes) {
                    Ok(text) => record::xml_each(&text, record, f),
                    Err(e) => Some(e),
                })
            }
            _ => self.map_payload_with(&bytes, context),
        }
    }

    /// Maps a payload as `input` gives it, handing each record's outcome to
    /// `f` in the payload's order, with `context` added to every record as
    /// [`Mapping::map_payload_with`] does. An XML feed is read as it comes
    /// and never held whole, as bytes or as text (see
    /// [`record::xml_read_each`]); the other formats are read whole first.
    ///
    /// Returns the error that stopped the reading, if any; fails only when
    /// `input` does.
    pub fn map_read<E: Entity>(
        &self,
        mut input: impl std::io::Read,
        context: &[(String, String)],
        mut f: impl FnMut(Result<E, RecordError>),
    ) -> std::io::Result<ReadEnd> {
        let mut i = 0;
        let mut notes = Notes::of(self);
        let mut each = |r: Json<'_>| {
            f(self.map_in_context(i, r, context, &mut notes));
            i += 1;
        };
        let truncated = match &self.source {
            SourceFormat::Xml { record } => record::xml_read_each(input, record, &mut each)?,
            _ => {
                let mut bytes = Vec::new();
                input.read_to_end(&mut bytes)?;
                self.each_record(&bytes, &mut each)
            }
        };
        Ok(ReadEnd {
            truncated,
            notices: notes.notices(self),
        })
    }

    /// Maps record `i`, with `context` added to it, noting in `notes` what
    /// it was mapped without.
    fn map_in_context<E: Entity>(
        &self,
        i: usize,
        mut r: Json<'_>,
        context: &[(String, String)],
        notes: &mut Notes,
    ) -> Result<E, RecordError> {
        notes.count(self, &r);
        if let Json::Object(members) = &mut r {
            // Read last, the context overrides a key of the record's.
            members.extend(
                context
                    .iter()
                    .map(|(k, v)| (k.clone().into(), Json::String(v.clone().into()))),
            );
        }
        let mut left_out = Vec::new();
        let mapped = self.map_noting(i, &r, &mut left_out);
        notes.left_out(left_out);
        mapped
    }

    /// Maps the records `read` hands over, adding `context` to each.
    fn map_each<E: Entity>(
        &self,
        context: &[(String, String)],
        read: impl FnOnce(&mut dyn FnMut(Json<'_>)) -> Option<PayloadError>,
    ) -> MappedBatch<E> {
        let mut batch = MappedBatch::default();
        let mut notes = Notes::of(self);
        let mut i = 0;
        batch.truncated = read(&mut |r| {
            match self.map_in_context(i, r, context, &mut notes) {
                Ok(e) => batch.records.push(e),
                Err(e) => batch.rejected.push(e),
            }
            i += 1;
        });
        batch.notices = notes.notices(self);
        batch
    }
}
