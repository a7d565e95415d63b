//! The test cases a mapping file carries: each maps one record as the
//! partner writes it, and expects fields of the entity or a rejection.

use serde_json::Value;

use super::Mapping;
use crate::entity::FieldDef;
use crate::file::{SourceFormat, TestCase};
use crate::record::{self, PayloadError};

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

impl Mapping {
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
pub(super) fn expected_pointer(defs: &[FieldDef], key: &str) -> Option<String> {
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
