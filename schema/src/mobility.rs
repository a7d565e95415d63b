//! Mobility of apprentices abroad: Pass Monde grants and Erasmus+
//! activities, without the apprentices' names.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::Uai;
use crate::money::Cents;
use crate::partner::Partner;

/// One mobility abroad, as a programme records it, with nothing that names
/// the apprentice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mobility {
    /// The programme's system it comes from.
    pub partner: Partner,
    /// Its identifier there (the activity or grant number).
    pub partner_id: String,
    /// The programme and activity type.
    pub program: MobilityProgram,
    /// The sending CFA.
    pub cfa: Uai,
    /// The Erasmus+ grant agreement, for Erasmus+ activities.
    #[serde(default)]
    pub grant_agreement: Option<String>,
    /// The destination country, ISO 3166-1 alpha-2.
    pub country: String,
    /// The destination city.
    #[serde(default)]
    pub city: Option<String>,
    /// When it starts.
    pub start: NaiveDate,
    /// When it ends.
    #[serde(default)]
    pub end: Option<NaiveDate>,
    /// The funded duration, in days.
    pub duration_days: u32,
    /// The grant.
    #[serde(default)]
    pub amount: Option<Cents>,
    /// How many apprentices went (a group activity counts several).
    #[serde(default = "one")]
    pub participants: u32,
}

fn one() -> u32 {
    1
}

/// The programmes that fund apprentices' mobility, and Erasmus+'s activity
/// types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MobilityProgram {
    /// The Région's Pass Monde grant ("études secondaires").
    PassMonde,
    /// Erasmus+ short-term mobility of VET learners (10 to 89 days).
    ErasmusShortTerm,
    /// Erasmus+ long-term mobility of VET learners, ErasmusPro (90 to 365 days).
    ErasmusPro,
    /// Erasmus+ group mobility of VET learners.
    ErasmusGroup,
    /// Erasmus+ participation in skills competitions.
    ErasmusSkillsCompetition,
}

impl MobilityProgram {
    /// Every programme.
    pub const ALL: [MobilityProgram; 5] = [
        MobilityProgram::PassMonde,
        MobilityProgram::ErasmusShortTerm,
        MobilityProgram::ErasmusPro,
        MobilityProgram::ErasmusGroup,
        MobilityProgram::ErasmusSkillsCompetition,
    ];

    /// The code mapping files use (`erasmus_pro`).
    pub fn code(self) -> &'static str {
        match self {
            MobilityProgram::PassMonde => "pass_monde",
            MobilityProgram::ErasmusShortTerm => "erasmus_short_term",
            MobilityProgram::ErasmusPro => "erasmus_pro",
            MobilityProgram::ErasmusGroup => "erasmus_group",
            MobilityProgram::ErasmusSkillsCompetition => "erasmus_skills_competition",
        }
    }

    /// Reads a code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.code() == s.trim())
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a mobility programme; known: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}
