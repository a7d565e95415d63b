//! The mapping files in force, checked at load, and the mapping of records.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use passerelle_schema::{Event, Formation, Mobility, Offer, OrientationSite, Partner};
use serde_json::Value;

use crate::entity::{Entity, EntityKind, FieldDef, Values};
use crate::error::{FieldError, MappingFileError, RecordError};
use crate::file::{MappingFile, SourceFormat, TestCase};
use crate::record::{self, Json, PayloadError, Tree};
use crate::transform::Transform;

/// A checked mapping file, ready to map records.
#[derive(Debug)]
pub struct Mapping {
    file: String,
    partner: Partner,
    entity: EntityKind,
    source: SourceFormat,
    rules: Vec<(FieldDef, Rule)>,
    tests: Vec<TestCase>,
}

#[derive(Debug)]
struct Rule {
    /// The first step of the `each` path and the steps after it.
    each: Option<(record::Path, record::Path)>,
    from: Vec<record::Path>,
    value: Option<String>,
    transforms: Vec<Transform>,
}

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

/// The outcome of one test case of one mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The mapping file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// `None` when the case passed, or what differed.
    pub failure: Option<String>,
}

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
    /// Checks a mapping file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, MappingFileError> {
        let err = |field: Option<&str>, reason: String| MappingFileError {
            file: file.to_owned(),
            field: field.map(str::to_owned),
            reason,
        };
        let raw: MappingFile =
            toml::from_str(text).map_err(|e| err(None, e.message().to_owned()))?;
        if let SourceFormat::Csv { delimiter } = &raw.source {
            if delimiter.len() != 1 {
                return Err(err(
                    None,
                    format!("the CSV delimiter must be one ASCII character, not {delimiter:?}"),
                ));
            }
        }
        let partner: Partner = raw.partner.parse().map_err(|e| err(None, format!("{e}")))?;
        let entity = EntityKind::parse(&raw.entity).map_err(|e| err(None, e))?;
        let defs = entity.fields();
        let mut rules = Vec::new();
        for (name, rule) in raw.fields {
            let def = defs.iter().find(|d| d.name == name).ok_or_else(|| {
                err(
                    Some(&name),
                    format!(
                        "not a field of {}; its fields are: {}",
                        entity.name(),
                        defs.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            let from: Vec<record::Path> = rule
                .from
                .map(|f| f.into_vec())
                .unwrap_or_default()
                .iter()
                .map(|p| record::Path::parse(p))
                .collect();
            if from.is_empty() && rule.value.is_none() {
                return Err(err(
                    Some(&name),
                    "needs `from` (a path) or `value` (a constant)".into(),
                ));
            }
            if !from.is_empty() && rule.value.is_some() {
                return Err(err(Some(&name), "takes `from` or `value`, not both".into()));
            }
            if rule.each.is_some() && from.is_empty() {
                return Err(err(Some(&name), "takes `each` with `from` only".into()));
            }
            let each = rule
                .each
                .as_deref()
                .map(|p| record::Path::parse(p).split_first());
            let transforms = rule
                .transforms
                .iter()
                .map(|t| Transform::parse(t, &raw.code_lists))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(Some(&name), e))?;
            rules.push((
                *def,
                Rule {
                    each,
                    from,
                    value: rule.value,
                    transforms,
                },
            ));
        }
        if let Some(missing) = defs
            .iter()
            .find(|d| d.required && !rules.iter().any(|(r, _)| r.name == d.name))
        {
            return Err(err(
                Some(missing.name),
                format!("is required for every {} mapping", entity.name()),
            ));
        }
        for case in &raw.tests {
            if case.expect.is_none() == case.expect_error.is_none() {
                return Err(err(
                    None,
                    format!(
                        "test {:?} needs exactly one of `expect` and `expect_error`",
                        case.name
                    ),
                ));
            }
            if let Some(expect) = &case.expect {
                if let Some(unknown) = expect
                    .keys()
                    .chain(&case.expect_missing)
                    .find(|k| expected_pointer(defs, k).is_none())
                {
                    return Err(err(
                        Some(unknown),
                        format!("test {:?} expects a field that does not exist", case.name),
                    ));
                }
            }
        }
        Ok(Self {
            file: file.to_owned(),
            partner,
            entity,
            source: raw.source,
            rules,
            tests: raw.tests,
        })
    }

    /// The file the mapping was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The partner whose records it maps.
    pub fn partner(&self) -> Partner {
        self.partner
    }

    /// The entity it builds.
    pub fn entity(&self) -> EntityKind {
        self.entity
    }

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
    fn partner_id(&self, record: &impl Tree) -> Option<String> {
        let (_, rule) = self.rules.iter().find(|(d, _)| d.name == "partner_id")?;
        rule.from
            .iter()
            .find_map(|p| p.select(record).into_iter().next())
            .map(|s| s.trim().to_owned())
    }

    /// The paths an identifier is derived from for a record without one
    /// (the `derive` transform of `partner_id`), if it is.
    fn derived_from(&self) -> Option<&[record::Path]> {
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
    fn map_noting<E: Entity>(
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

    /// Runs the file's test cases.
    pub fn run_tests(&self) -> Vec<TestOutcome> {
        self.tests
            .iter()
            .map(|case| TestOutcome {
                file: self.file.clone(),
                name: case.name.clone(),
                failure: self.run_test(case).err(),
            })
            .collect()
    }

    fn run_test(&self, case: &TestCase) -> Result<(), String> {
        // A case holds one record as the partner writes it, not a payload.
        let unreadable = |e: PayloadError| format!("input is unreadable: {e}");
        let not_one = |n: usize| format!("input holds {n} records, not one");
        let mapped = match &self.source {
            // Read as the connectors read JSON.
            SourceFormat::Json { .. } => {
                match record::json_records(case.input.as_bytes(), "").map_err(unreadable)? {
                    records if records.len() == 1 => self.map_record_json(0, &records[0]),
                    records => return Err(not_one(records.len())),
                }
            }
            _ => match self.records(case.input.as_bytes()) {
                (_, Some(e)) => return Err(unreadable(e)),
                (records, None) if records.len() == 1 => self.map_record_json(0, &records[0]),
                (records, None) => return Err(not_one(records.len())),
            },
        };
        match (&case.expect, &case.expect_error, mapped) {
            (Some(expect), _, Ok(json)) => {
                let defs = self.entity.fields();
                for (field, want) in expect {
                    let pointer = expected_pointer(defs, field).expect("checked at load");
                    let got = json.pointer(&pointer).cloned().unwrap_or(Value::Null);
                    let want = toml_to_json(want);
                    if got != want {
                        return Err(format!("{field}: expected {want}, got {got}"));
                    }
                }
                for field in &case.expect_missing {
                    let pointer = expected_pointer(defs, field).expect("checked at load");
                    match json.pointer(&pointer) {
                        None | Some(Value::Null) => {}
                        Some(got) => return Err(format!("{field}: expected none, got {got}")),
                    }
                }
                Ok(())
            }
            (Some(_), _, Err(e)) => Err(format!("expected a mapped record, got rejected: {e}")),
            (None, Some(want), Err(e)) => {
                if e.field != want.field {
                    return Err(format!("expected a rejection on {}, got: {e}", want.field));
                }
                match &want.reason_contains {
                    Some(words) if !e.reason.contains(words.as_str()) => {
                        Err(format!("expected a reason containing {words:?}, got: {e}"))
                    }
                    _ => Ok(()),
                }
            }
            (None, _, Ok(json)) => Err(format!("expected a rejection, got a record: {json}")),
            (None, None, Err(_)) => Err("the case expects nothing".into()),
        }
    }
}

/// Where a test case's expected field sits in the entity's JSON form: a
/// field's name, or for a field of a list's elements (`places.commune`),
/// its name and an element's index (`places.commune[1]`); `None` for a
/// field that does not exist.
fn expected_pointer(defs: &[FieldDef], key: &str) -> Option<String> {
    let (name, index) = match key.strip_suffix(']').and_then(|k| k.split_once('[')) {
        Some((name, i)) => (name, Some(i.parse::<usize>().ok()?)),
        None => (key, None),
    };
    let def = defs.iter().find(|d| d.name == name)?;
    match index {
        None => Some(def.json.to_owned()),
        Some(i) => def
            .json
            .contains("/0/")
            .then(|| def.json.replacen("/0/", &format!("/{i}/"), 1)),
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The most values left out of kept records that a payload's notices name
/// one by one.
const NAMED_NOTES: usize = 100;

/// What records of a payload were kept without: an identifier (derived
/// for them, by a mapping that derives one), values that did not parse.
struct Notes {
    /// Whether the mapping derives an identifier for a record without one.
    derives: bool,
    derived: usize,
    /// The first [`NAMED_NOTES`] values left out, and how many more.
    left_out: Vec<RecordError>,
    more: usize,
}

impl Notes {
    fn of(mapping: &Mapping) -> Self {
        Self {
            derives: mapping.derived_from().is_some(),
            derived: 0,
            left_out: Vec::new(),
            more: 0,
        }
    }

    fn count(&mut self, mapping: &Mapping, record: &impl Tree) {
        if self.derives
            && mapping
                .partner_id(record)
                .is_none_or(|id| id.trim().is_empty())
        {
            self.derived += 1;
        }
    }

    fn left_out(&mut self, notes: Vec<RecordError>) {
        for n in notes {
            if self.left_out.len() < NAMED_NOTES {
                self.left_out.push(n);
            } else {
                self.more += 1;
            }
        }
    }

    /// The sentences that say so, for the sync.
    fn notices(self, mapping: &Mapping) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(paths) = mapping.derived_from().filter(|_| self.derived > 0) {
            let from: Vec<String> = paths.iter().map(ToString::to_string).collect();
            out.push(format!(
                "{} of its records had no identifier: each was given one derived from its {}, the same at every sync",
                self.derived,
                from.join(", ")
            ));
        }
        out.extend(self.left_out.iter().map(ToString::to_string));
        if self.more > 0 {
            out.push(format!(
                "and {} more values left out of kept records",
                self.more
            ));
        }
        out
    }
}

/// The mapping files of a directory, `<partner>/<entity>.toml`, in order.
pub fn mapping_files(
    dir: &Path,
) -> Result<Vec<std::path::PathBuf>, (std::path::PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    let read = |d: &Path| std::fs::read_dir(d).map_err(|e| (d.to_owned(), e));
    for entry in read(dir)? {
        let path = entry.map_err(|e| (dir.to_owned(), e))?.path();
        if path.is_dir() {
            for inner in read(&path)? {
                let p = inner.map_err(|e| (path.clone(), e))?.path();
                if p.extension().is_some_and(|x| x == "toml") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Every mapping in force, one per partner and entity.
#[derive(Debug)]
pub struct Catalog {
    mappings: BTreeMap<(Partner, &'static str), Arc<Mapping>>,
}

impl Catalog {
    /// The mappings of `files`, each a path (naming it in errors) and a
    /// text: the ones shipped with the connectors.
    pub fn of_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, MappingFileError> {
        let mut catalog = Catalog {
            mappings: BTreeMap::new(),
        };
        for (file, text) in files {
            catalog.add(Mapping::parse(file, text)?);
        }
        Ok(catalog)
    }

    /// These mappings, overridden by every `*.toml` file under `dir`
    /// (`dir/<partner>/<entity>.toml`), so an operator can onboard or amend a
    /// partner's mapping without a new binary.
    pub fn with_overrides(mut self, dir: &Path) -> Result<Self, MappingFileError> {
        let io_err = |file: &Path, e: std::io::Error| MappingFileError {
            file: file.display().to_string(),
            field: None,
            reason: e.to_string(),
        };
        for path in mapping_files(dir).map_err(|(p, e)| io_err(&p, e))? {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            self.add(Mapping::parse(&path.display().to_string(), &text)?);
        }
        Ok(self)
    }

    fn add(&mut self, mapping: Mapping) {
        self.mappings
            .insert((mapping.partner, mapping.entity.name()), Arc::new(mapping));
    }

    /// The mapping of a partner's entity.
    pub fn get(&self, partner: Partner, entity: EntityKind) -> Option<Arc<Mapping>> {
        self.mappings.get(&(partner, entity.name())).cloned()
    }

    /// The mappings of a partner.
    pub fn for_partner(&self, partner: Partner) -> impl Iterator<Item = &Arc<Mapping>> {
        self.mappings
            .iter()
            .filter(move |((p, _), _)| *p == partner)
            .map(|(_, m)| m)
    }

    /// Every mapping.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Mapping>> {
        self.mappings.values()
    }

    /// Runs every mapping's test cases.
    pub fn run_tests(&self) -> Vec<TestOutcome> {
        self.iter().flat_map(|m| m.run_tests()).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The mapping files of this crate's folders, each with its partner
    /// declared.
    pub(crate) fn shipped() -> Catalog {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let files: Vec<(String, String)> = mapping_files(dir)
            .unwrap()
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                let partner = p.parent().unwrap().file_name().unwrap();
                passerelle_schema::partner::examples::partner(partner.to_str().unwrap());
                (p.display().to_string(), text)
            })
            .collect();
        Catalog::of_files(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
            .expect("shipped mappings load")
    }

    const CMA_OFFER: &str = include_str!("../cma/offer.toml");

    #[test]
    fn every_shipped_mapping_passes_its_own_test_cases() {
        let catalog = shipped();
        let outcomes = catalog.run_tests();
        assert!(
            outcomes.len() >= 6,
            "too few test cases: {}",
            outcomes.len()
        );
        let failures: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn records_given_a_derived_identifier_are_noted_for_the_sync() {
        let catalog = shipped();
        let spro = passerelle_schema::partner::examples::partner("spro");
        let events = catalog.get(spro, EntityKind::Event).unwrap();
        let calendar = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Forum\r\nDTSTART:20270320T090000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Portes ouvertes\r\nDTSTART:20270321T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let context = [("X-SITE".to_owned(), "cio-caen".to_owned())];
        let batch: MappedBatch<Event> = events.map_payload_with(calendar.as_bytes(), &context);
        assert_eq!(batch.records.len(), 2);
        assert_eq!(
            batch.notices,
            ["1 of its records had no identifier: each was given one derived from its X-SITE, DTSTART, SUMMARY, RECURRENCE-ID, the same at every sync"]
        );
        let with_uids = calendar.replace("SUMMARY:Portes", "UID:b\r\nSUMMARY:Portes");
        let batch: MappedBatch<Event> = events.map_payload_with(with_uids.as_bytes(), &context);
        assert!(batch.notices.is_empty(), "{:?}", batch.notices);
    }

    #[test]
    fn a_bad_mapping_file_names_file_field_and_reason() {
        passerelle_schema::partner::examples::partner("cma");
        let text = CMA_OFFER.replacen("\"collapse_whitespace\"", "\"collapse\"", 1);
        let e = Mapping::parse("cma/offer.toml", &text).unwrap_err();
        assert_eq!(e.file, "cma/offer.toml");
        assert!(e.field.is_some(), "{e}");
        assert!(e.reason.contains("unknown transform `collapse`"), "{e}");

        let text = CMA_OFFER.replacen(
            "[fields]",
            "[fields]\n\"employer.nom\" = { from = \"x\" }",
            1,
        );
        let e = Mapping::parse("cma/offer.toml", &text).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("employer.nom"));
        assert!(
            e.to_string()
                .starts_with("cma/offer.toml: field `employer.nom`: not a field of offer"),
            "{e}"
        );

        let e = Mapping::parse(
            "x.toml",
            "partner = \"opca\"\nentity = \"offer\"\n[source]\nformat = \"json\"\n[fields]\n",
        )
        .unwrap_err();
        assert!(e.reason.contains("known partners"), "{e}");
    }

    #[test]
    fn a_mapping_must_fill_the_required_fields() {
        passerelle_schema::partner::examples::partner("cci");
        let text = "partner = \"cci\"\nentity = \"offer\"\n[source]\nformat = \"json\"\n[fields]\ntitle = { from = \"t\" }\n";
        let e = Mapping::parse("x.toml", text).unwrap_err();
        assert!(e.reason.contains("is required"), "{e}");
    }
}
