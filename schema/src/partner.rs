//! The partner systems Passerelle speaks to: a closed set.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A partner system whose data Passerelle serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Partner {
    /// CCI Normandie's bourse de l'apprentissage (commerce and industry offers).
    Cci,
    /// CMA Normandie's feed of craft-sector offers.
    Cma,
    /// The Carif-Oref's catalogue of apprenticeship programmes (LHÉO).
    Carif,
    /// Erasmus+ Beneficiary Module exports of Normandy CFAs' projects.
    Erasmus,
    /// The Région's Pass Monde mobility grants.
    PassMonde,
    /// The SPRO's orientation sites and their calendars of events.
    Spro,
    /// The CNFPT's public-sector apprenticeship service (SOAP).
    Cnfpt,
}

impl Partner {
    /// Every partner, in the order answers list them.
    pub const ALL: [Partner; 7] = [
        Partner::Cci,
        Partner::Cma,
        Partner::Carif,
        Partner::Erasmus,
        Partner::PassMonde,
        Partner::Spro,
        Partner::Cnfpt,
    ];

    /// The partner's short identifier, as used in configuration, URLs and ids.
    pub fn id(self) -> &'static str {
        match self {
            Partner::Cci => "cci",
            Partner::Cma => "cma",
            Partner::Carif => "carif",
            Partner::Erasmus => "erasmus",
            Partner::PassMonde => "passmonde",
            Partner::Spro => "spro",
            Partner::Cnfpt => "cnfpt",
        }
    }

    /// The partner's name for people.
    pub fn name(self) -> &'static str {
        match self {
            Partner::Cci => "CCI Normandie — bourse de l'apprentissage",
            Partner::Cma => "CMA Normandie — offres de l'artisanat",
            Partner::Carif => "Carif-Oref Normandie — catalogue des formations en apprentissage",
            Partner::Erasmus => "Erasmus+ — mobilités des apprentis des CFA normands",
            Partner::PassMonde => "Région Normandie — Pass Monde",
            Partner::Spro => "SPRO Normandie — sites d'orientation et agendas",
            Partner::Cnfpt => "CNFPT — apprentissage dans la fonction publique",
        }
    }

    /// How Passerelle reaches the partner's data.
    pub fn mode(self) -> PartnerMode {
        match self {
            Partner::Cci | Partner::PassMonde | Partner::Cnfpt => PartnerMode::Live,
            Partner::Cma | Partner::Carif | Partner::Erasmus | Partner::Spro => PartnerMode::Synced,
        }
    }
}

impl fmt::Display for Partner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown partner identifier; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown partner {0:?}; known partners: {known}", known = Partner::ALL.map(Partner::id).join(", "))]
pub struct UnknownPartner(pub String);

impl FromStr for Partner {
    type Err = UnknownPartner;
    fn from_str(s: &str) -> Result<Self, UnknownPartner> {
        Partner::ALL
            .into_iter()
            .find(|p| p.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownPartner(s.to_owned()))
    }
}

/// How a partner's data reaches the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerMode {
    /// Queried at request time, answers cached.
    Live,
    /// Pulled on a schedule into the store, served from there.
    Synced,
    /// The partner pushes to Passerelle.
    Push,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_partner_lists_the_known_ones() {
        assert_eq!("CMA".parse::<Partner>().unwrap(), Partner::Cma);
        let e = "opca".parse::<Partner>().unwrap_err().to_string();
        assert!(
            e.contains("known partners: cci, cma, carif, erasmus, passmonde, spro, cnfpt"),
            "{e}"
        );
    }
}
