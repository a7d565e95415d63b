//! Apprenticeship programmes of the training catalogue, and the CFAs that
//! run them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::geo::InseeCommune;
use crate::ids::{Rncp, RomeCode, Siret, Uai};
use crate::level::DiplomaLevel;
use crate::partner::Partner;

/// An apprenticeship programme, as the training catalogue publishes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Formation {
    /// The catalogue it comes from.
    pub partner: Partner,
    /// Its identifier there.
    pub partner_id: String,
    /// The programme's title.
    pub title: String,
    /// The certification it prepares.
    #[serde(default)]
    pub rncp: Option<Rncp>,
    /// The level of that certification.
    #[serde(default)]
    pub level: Option<DiplomaLevel>,
    /// The occupations it leads to.
    #[serde(default)]
    pub rome_codes: Vec<RomeCode>,
    /// The CFA responsible for it.
    pub cfa: TrainingOrg,
    /// Where it is taught.
    #[serde(default)]
    pub commune: Option<InseeCommune>,
    /// Its sessions.
    #[serde(default)]
    pub sessions: Vec<Session>,
    /// Places in all, across sessions.
    pub capacity: u32,
    /// Places still free, across sessions.
    pub vacancies: u32,
    /// Hours in the training centre.
    #[serde(default)]
    pub hours_centre: Option<u32>,
    /// Hours in the company.
    #[serde(default)]
    pub hours_company: Option<u32>,
}

/// A training organisation: a CFA, by its UAI and SIRET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingOrg {
    /// The establishment's UAI, when the catalogue gives it.
    #[serde(default)]
    pub uai: Option<Uai>,
    /// The organisation's SIRET.
    pub siret: Siret,
    /// Its name.
    pub name: String,
}

/// One intake of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// When it starts.
    pub start: NaiveDate,
    /// When it ends.
    #[serde(default)]
    pub end: Option<NaiveDate>,
    /// Whether it is recruiting.
    pub recruiting: bool,
    /// Places in all.
    pub places: u32,
    /// Places still free.
    pub vacancies: u32,
}
