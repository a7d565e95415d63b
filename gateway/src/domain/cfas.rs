//! CFAs as one thing, whichever partner speaks of them: the training
//! catalogue names them by UAI and SIRET, the SPRO directory lists them as
//! sites, the mobility programmes count their apprentices by UAI.

use std::collections::BTreeMap;

use passerelle_schema::{Departement, InseeCommune, RomeCode, Siret, SiteKind, Uai};

use crate::partners::sources::Sources;

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
/// UAI.
pub fn directory(sources: &Sources) -> BTreeMap<Uai, CfaInfo> {
    let mut out: BTreeMap<Uai, CfaInfo> = BTreeMap::new();
    for catalogue in &sources.formations {
        for f in &catalogue.snapshot().records {
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
        }
    }
    for sites in &sources.sites {
        for s in &sites.snapshot().records {
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
    for c in out.values_mut() {
        c.romes.sort();
    }
    out
}
