//! Apprenticeship programmes of the training catalogue, and the CFAs that
//! run them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::geo::{CommuneCode, Departement, InseeCommune, Postcode};
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
    /// What it aims at, as the catalogue words it (LHÉO allows simple
    /// HTML in it; the API gives it as text, or sanitised HTML).
    #[serde(default)]
    pub objective: Option<String>,
    /// What it teaches, as the catalogue words it (markup as in
    /// `objective`).
    #[serde(default)]
    pub contents: Option<String>,
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
    /// Where it is taught in Normandy: its first place's commune there.
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
    /// The organisation's SIRET; none when the catalogue gives none that
    /// passes its check (the programme is kept, the field noted).
    #[serde(default)]
    pub siret: Option<Siret>,
    /// Its name; none when the catalogue does not give it (the
    /// MonCompteFormation export names an organism by its SIRET alone).
    #[serde(default)]
    pub name: Option<String>,
}

impl Formation {
    /// The communes where it is taught, its places' and its own.
    pub fn communes(&self) -> impl Iterator<Item = &InseeCommune> {
        self.commune
            .iter()
            .chain(self.places.iter().filter_map(|p| p.commune.as_ref()))
    }

    /// The places it has in Normandy: those whose commune, or failing it
    /// postcode, is there, and those of which neither is known.
    pub fn places_in_normandy(&self) -> impl Iterator<Item = &Place> {
        self.places
            .iter()
            .filter(|p| p.in_normandy() != Some(false))
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
    /// Its commune, when it is in Normandy.
    #[serde(default)]
    pub commune: Option<InseeCommune>,
    /// Its commune wherever it is (a catalogue holds programmes taught
    /// across a regional border), by its current code.
    #[serde(default)]
    pub commune_code: Option<CommuneCode>,
    /// The UAI of the site, when the catalogue gives it.
    #[serde(default)]
    pub uai: Option<Uai>,
    /// Places in all across its sessions.
    pub capacity: u32,
    /// Places still free across its sessions.
    pub vacancies: u32,
}

impl Place {
    /// The département it is in: its commune's, or its postcode's.
    pub fn departement(&self) -> Option<Departement> {
        self.commune_code
            .as_ref()
            .map(CommuneCode::departement)
            .or_else(|| self.postcode.as_ref().map(Postcode::departement))
    }

    /// Whether it is in Normandy; none when neither its commune nor its
    /// postcode is known.
    pub fn in_normandy(&self) -> Option<bool> {
        self.departement().map(|d| d.is_normandy())
    }
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
    /// Whether it is recruiting; none when the catalogue does not say.
    #[serde(default)]
    pub recruiting: Option<bool>,
    /// Places in all.
    pub places: u32,
    /// Places still free.
    pub vacancies: u32,
}
