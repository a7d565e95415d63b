//! CFAs as one thing, whichever partner speaks of them: the training
//! catalogue names them by UAI and SIRET, the SPRO directory lists them as
//! sites, the mobility programmes count their apprentices by UAI.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use passerelle_schema::{
    Departement, Formation, InseeCommune, OrientationSite, RomeCode, Siret, SiteKind, Uai,
};

use crate::partners::derived::Derived;
use crate::partners::sources::Sources;
use crate::partners::sync::Snapshot;

/// A CFA as Passerelle knows it from every source.
#[derive(Debug, Clone, PartialEq)]
pub struct CfaInfo {
    /// Its UAI.
    pub uai: Uai,
    /// Its SIRET, from the training catalogue.
    pub siret: Option<Siret>,
    /// Its name.
    pub name: String,
    /// Its commune.
    pub commune: Option<InseeCommune>,
    /// The occupations its programmes lead to.
    pub romes: Vec<RomeCode>,
    /// Its site in the SPRO directory.
    pub site: Option<String>,
}

impl CfaInfo {
    /// Its département: its commune's, else its UAI's.
    pub fn departement(&self) -> Option<Departement> {
        self.commune
            .as_ref()
            .map(InseeCommune::departement)
            .or_else(|| Departement::parse(self.uai.departement_code()).ok())
    }
}

/// Every CFA that the training catalogue or the SPRO directory names, by
/// UAI, with its programmes: built once per state of the catalogues and
/// directories, shared by every request until one of them changes.
#[derive(Debug, Default)]
pub struct CfaDirectory {
    cfas: BTreeMap<Uai, Arc<CfaInfo>>,
    /// Each CFA's programmes, by identifier, catalogue after catalogue
    /// where two share one.
    programmes: HashMap<Uai, Vec<Arc<Formation>>>,
}

impl CfaDirectory {
    /// The CFA `uai`.
    pub fn get(&self, uai: &Uai) -> Option<&Arc<CfaInfo>> {
        self.cfas.get(uai)
    }

    /// Every CFA, by UAI.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<CfaInfo>> + '_ {
        self.cfas.values()
    }

    /// How many CFAs.
    pub fn len(&self) -> usize {
        self.cfas.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.cfas.is_empty()
    }

    /// The programmes of the CFA `uai` in the training catalogues, by
    /// identifier.
    pub fn programmes(&self, uai: &Uai) -> &[Arc<Formation>] {
        self.programmes.get(uai).map_or(&[], Vec::as_slice)
    }

    fn build(
        formations: &[Arc<Snapshot<Formation>>],
        sites: &[Arc<Snapshot<OrientationSite>>],
    ) -> Self {
        let mut out: BTreeMap<Uai, CfaInfo> = BTreeMap::new();
        let mut programmes: HashMap<Uai, Vec<Arc<Formation>>> = HashMap::new();
        for catalogue in formations {
            for f in &catalogue.records {
                let Some(uai) = &f.cfa.uai else { continue };
                let entry = out.entry(uai.clone()).or_insert_with(|| CfaInfo {
                    uai: uai.clone(),
                    siret: f.cfa.siret.clone(),
                    // A catalogue that names the organism by its SIRET alone
                    // gives no name: the UAI stands for it.
                    name: f.cfa.name.clone().unwrap_or_else(|| uai.to_string()),
                    commune: f.commune.clone(),
                    romes: Vec::new(),
                    site: None,
                });
                for r in &f.rome_codes {
                    if !entry.romes.contains(r) {
                        entry.romes.push(r.clone());
                    }
                }
                programmes.entry(uai.clone()).or_default().push(f.clone());
            }
        }
        for directory in sites {
            for s in &directory.records {
                let (SiteKind::Cfa, Some(uai)) = (s.kind, &s.uai) else {
                    continue;
                };
                let entry = out.entry(uai.clone()).or_insert_with(|| CfaInfo {
                    uai: uai.clone(),
                    siret: None,
                    name: s.name.clone(),
                    commune: Some(s.commune.clone()),
                    romes: Vec::new(),
                    site: None,
                });
                entry.site = Some(s.partner_id.clone());
                if entry.commune.is_none() {
                    entry.commune = Some(s.commune.clone());
                }
            }
        }
        for list in programmes.values_mut() {
            // Stable: catalogue order where two share an identifier.
            list.sort_by(|a, b| a.partner_id.cmp(&b.partner_id));
        }
        Self {
            cfas: out
                .into_iter()
                .map(|(uai, mut c)| {
                    c.romes.sort();
                    (uai, Arc::new(c))
                })
                .collect(),
            programmes,
        }
    }
}

/// The directories of CFAs as the catalogues and directories change: the
/// latest, by the versions of the snapshots it was built from.
#[derive(Default)]
pub struct CfaDirectories(Derived<Vec<u64>, CfaDirectory>);

impl CfaDirectories {
    /// The directory of CFAs for what the catalogues and directories of
    /// `sources` serve now.
    pub fn of(&self, sources: &Sources) -> Arc<CfaDirectory> {
        let formations: Vec<_> = sources.formations.iter().map(|f| f.snapshot()).collect();
        let sites: Vec<_> = sources.sites.iter().map(|s| s.snapshot()).collect();
        let versions = formations
            .iter()
            .map(|s| s.version)
            .chain(sites.iter().map(|s| s.version))
            .collect();
        self.0
            .get(versions, || CfaDirectory::build(&formations, &sites))
    }
}
