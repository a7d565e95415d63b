//! Apprenticeship programmes of the training catalogue.

use std::sync::Arc;

use passerelle_connectors::carif::CarifConnector;
use passerelle_schema::{Departement, DiplomaLevel, Formation, InseeCommune, Rncp, RomeCode, Uai};

use crate::sync::SyncedFeed;

/// The Carif-Oref catalogue.
pub type CarifFeed = SyncedFeed<Formation, CarifConnector>;

/// What programmes to list; every part must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormationFilter {
    /// Leading to any of these occupations.
    pub rome: Vec<RomeCode>,
    /// Preparing this certification.
    pub rncp: Option<Rncp>,
    /// At this level.
    pub level: Option<DiplomaLevel>,
    /// Taught in this département, at any of its places.
    pub departement: Option<Departement>,
    /// Taught in this commune, at any of its places.
    pub commune: Option<InseeCommune>,
    /// Run by this CFA.
    pub cfa: Option<Uai>,
    /// With free places (`true`) or full (`false`).
    pub has_vacancies: Option<bool>,
}

impl FormationFilter {
    /// Whether a programme matches.
    pub fn matches(&self, f: &Formation) -> bool {
        (self.rome.is_empty() || f.rome_codes.iter().any(|r| self.rome.contains(r)))
            && self
                .rncp
                .as_ref()
                .is_none_or(|r| f.rncp.as_ref() == Some(r) || f.rncp_codes.contains(r))
            && self.level.is_none_or(|l| f.level == Some(l))
            && self
                .departement
                .as_ref()
                .is_none_or(|d| f.communes().any(|c| c.departement() == *d))
            && self
                .commune
                .as_ref()
                .is_none_or(|c| f.communes().any(|at| at == c))
            && self
                .cfa
                .as_ref()
                .is_none_or(|u| f.cfa.uai.as_ref() == Some(u))
            && self.has_vacancies.is_none_or(|v| (f.vacancies > 0) == v)
    }
}

/// Lists programmes from the synced catalogue, in catalogue order.
pub fn search(feed: &CarifFeed, filter: &FormationFilter) -> Vec<Arc<Formation>> {
    let mut out: Vec<Arc<Formation>> = feed
        .snapshot()
        .records
        .iter()
        .filter(|f| filter.matches(f))
        .cloned()
        .collect();
    out.sort_by(|a, b| a.partner_id.cmp(&b.partner_id));
    out
}
