//! The mappings in force, one per partner and entity: the embedded files,
//! and those of an operator's directory over them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use passerelle_schema::Partner;

use super::{Mapping, TestOutcome};
use crate::entity::EntityKind;
use crate::error::MappingFileError;

/// The file a partner's folder holds its declaration in, beside its
/// mapping files.
pub const DECLARATION: &str = "partner.toml";

/// The mapping files of a directory, `<partner>/<entity>.toml`, in order
/// (a partner's declaration, `partner.toml`, is none).
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
                // A partner's declaration (`partner.toml`) is not a mapping.
                if p.extension().is_some_and(|x| x == "toml")
                    && p.file_name().is_some_and(|n| n != DECLARATION)
                {
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
