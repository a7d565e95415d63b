//! Apprenticeship programmes of the training catalogue, and the CFAs that
//! run them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::geo::{InseeCommune, Postcode};
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
    /// What it aims at, as the catalogue words it.
    #[serde(default)]
    pub objective: Option<String>,
    /// The certification it prepares (the first of `rncp_codes`).
    #[serde(default)]
    pub rncp: Option<Rncp>,
    /// Every RNCP certification it prepares.
    #[serde(default)]
    pub rncp_codes: Vec<Rncp>,
    /// Its certifications' codes in Certif Info.
    #[serde(default)]
    pub certifinfo_codes: Vec<String>,
    /// Its FORMACODE subject codes.
    #[serde(default)]
    pub formacodes: Vec<String>,
    /// The level of that certification.
    #[serde(default)]
    pub level: Option<DiplomaLevel>,
    /// The occupations it leads to.
    #[serde(default)]
    pub rome_codes: Vec<RomeCode>,
    /// The CFA responsible for it.
    pub cfa: TrainingOrg,
    /// Who answers questions about it.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Where it is taught: its first place's commune.
    #[serde(default)]
    pub commune: Option<InseeCommune>,
    /// The places where it is taught (LHÉO's actions), in catalogue order.
    #[serde(default)]
    pub places: Vec<Place>,
    /// Its sessions, at every place; each names its place.
    #[serde(default)]
    pub sessions: Vec<Session>,
    /// Places in all, across sessions: the sum of its places' capacities.
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

impl Formation {
    /// The communes where it is taught, its places' and its own.
    pub fn communes(&self) -> impl Iterator<Item = &InseeCommune> {
        self.commune
            .iter()
            .chain(self.places.iter().filter_map(|p| p.commune.as_ref()))
    }

    /// The sessions held at place `index`.
    pub fn sessions_at(&self, index: usize) -> impl Iterator<Item = &Session> {
        self.sessions.iter().filter(move |s| s.place == index)
    }
}

/// A place where a programme is taught, with its own sessions (an LHÉO
/// `<action>` and its `<lieu-de-formation>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Its identifier in the catalogue (the action's number).
    #[serde(default)]
    pub partner_id: Option<String>,
    /// Its street address, lines joined.
    #[serde(default)]
    pub address: Option<String>,
    /// Its postcode.
    #[serde(default)]
    pub postcode: Option<Postcode>,
    /// Its town, as the catalogue writes it.
    #[serde(default)]
    pub city: Option<String>,
    /// Its commune.
    #[serde(default)]
    pub commune: Option<InseeCommune>,
    /// The UAI of the site, when the catalogue gives it.
    #[serde(default)]
    pub uai: Option<Uai>,
    /// Places in all across its sessions.
    pub capacity: u32,
    /// Places still free across its sessions.
    pub vacancies: u32,
}

/// Who answers questions about a programme (LHÉO's `<contact-formation>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// A person's or a desk's name.
    #[serde(default)]
    pub name: Option<String>,
    /// A telephone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// A web page.
    #[serde(default)]
    pub web: Option<String>,
}

/// One intake of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The index of its place in the programme's `places`.
    #[serde(default)]
    pub place: usize,
    /// When it starts; none when the catalogue does not know.
    #[serde(default)]
    pub start: Option<NaiveDate>,
    /// When it ends; none when it is open-ended or unknown.
    #[serde(default)]
    pub end: Option<NaiveDate>,
    /// Whether it is recruiting.
    pub recruiting: bool,
    /// Places in all.
    pub places: u32,
    /// Places still free.
    pub vacancies: u32,
}
