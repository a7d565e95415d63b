//! A mapping file read and checked at load: its fields known to its entity
//! and all required ones filled, its paths read, its transforms and code
//! lists checked, and its test cases well-formed.

use passerelle_schema::Partner;

use super::test_cases::expected_pointer;
use crate::entity::{EntityKind, FieldDef};
use crate::error::MappingFileError;
use crate::file::{MappingFile, SourceFormat, TestCase};
use crate::record;
use crate::transform::Transform;

/// A checked mapping file, ready to map records.
#[derive(Debug)]
pub struct Mapping {
    pub(super) file: String,
    pub(super) partner: Partner,
    pub(super) entity: EntityKind,
    pub(super) source: SourceFormat,
    pub(super) rules: Vec<(FieldDef, Rule)>,
    pub(super) tests: Vec<TestCase>,
}

/// How a mapping fills one field: from the first of its paths that gives
/// a value (in each element of its `each` path, when it has one), or with
/// a constant, through its transforms.
#[derive(Debug)]
pub(super) struct Rule {
    /// The first step of the `each` path and the steps after it.
    pub(super) each: Option<(record::Path, record::Path)>,
    pub(super) from: Vec<record::Path>,
    pub(super) value: Option<String>,
    pub(super) transforms: Vec<Transform>,
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
}
