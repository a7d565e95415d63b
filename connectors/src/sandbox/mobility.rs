//! Deterministic mobilities of apprentices abroad, for the Erasmus+ and
//! Pass Monde simulators.

use chrono::{Duration, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::cfas::Cfa;
use super::generate::DatasetSettings;

/// An Erasmus+ activity as the Beneficiary Module records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasmusActivity {
    /// Its number, from 1.
    pub seq: usize,
    /// The sending CFA (an index into the CFAs).
    pub cfa: usize,
    /// The activity type as the export words it.
    pub activity: &'static str,
    /// The receiving country, as the export names it.
    pub country: &'static str,
    /// The receiving city.
    pub city: &'static str,
    /// Start.
    pub start: NaiveDate,
    /// End.
    pub end: NaiveDate,
    /// Grant in cents.
    pub amount_cents: i64,
    /// Participants.
    pub participants: u32,
    /// The participant's name, which the export carries and Passerelle
    /// must never take in.
    pub participant: String,
}

/// A Pass Monde grant.
#[derive(Debug, Clone, PartialEq)]
pub struct PassMondeGrant {
    /// Its number, from 1.
    pub seq: usize,
    /// The apprentice's CFA (an index into the CFAs).
    pub cfa: usize,
    /// Destination, ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// Start.
    pub start: NaiveDate,
    /// Weeks abroad, at least 2.
    pub weeks: u32,
    /// Grant in euros, within the published scale (280 to 880).
    pub amount_euros: u32,
}

/// An activity type as the export words it, its share of activities, its
/// range of days and its range of participants.
type ActivityType = (&'static str, u32, (i64, i64), (u32, u32));

/// Short-term, ErasmusPro, group and skills-competition activities.
const ACTIVITIES: [ActivityType; 4] = [
    (
        "Mobilité de courte durée des apprenants de l'EFP",
        60,
        (14, 89),
        (1, 1),
    ),
    (
        "Mobilité de longue durée des apprenants de l'EFP (ErasmusPro)",
        15,
        (90, 365),
        (1, 1),
    ),
    (
        "Mobilité de groupe des apprenants de l'EFP",
        20,
        (10, 30),
        (3, 8),
    ),
    (
        "Participation à des compétitions de compétences",
        5,
        (3, 7),
        (1, 2),
    ),
];

/// Destinations as the export names them, with a city.
pub const DESTINATIONS: [(&str, &str, &str); 12] = [
    ("Irlande", "IE", "Cork; Munster"),
    ("Allemagne", "DE", "Hanovre"),
    ("Espagne", "ES", "Valence"),
    ("Italie", "IT", "Bologne"),
    ("Malte", "MT", "La Valette"),
    ("Pays-Bas", "NL", "Rotterdam"),
    ("Pologne", "PL", "Cracovie"),
    ("Portugal", "PT", "Porto"),
    ("Finlande", "FI", "Tampere"),
    ("Suède", "SE", "Malmö"),
    ("Belgique", "BE", "Liège"),
    ("Danemark", "DK", "Odense"),
];

const FIRST_NAMES: [&str; 8] = [
    "Camille", "Léa", "Hugo", "Lucas", "Manon", "Théo", "Chloé", "Nathan",
];
const LAST_NAMES: [&str; 8] = [
    "Martin", "Lefèvre", "Duval", "Leroux", "Hébert", "Marie", "Lecoq", "Osmont",
];

/// Erasmus+ activities of the CFAs: about six a CFA.
pub fn erasmus(s: &DatasetSettings, cfas: &[Cfa]) -> Vec<ErasmusActivity> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0xE7A5);
    let n = cfas.len() * 6;
    (0..n)
        .map(|i| {
            let total: u32 = ACTIVITIES.iter().map(|a| a.1).sum();
            let mut x = rng.gen_range(0..total);
            let (activity, _, days, group) = *ACTIVITIES
                .iter()
                .find(|a| {
                    let hit = x < a.1;
                    x = x.saturating_sub(a.1);
                    hit
                })
                .expect("the shares add up");
            let (country, _, city) = *DESTINATIONS.choose(&mut rng).expect("destinations");
            let start = s.reference_date - Duration::days(rng.gen_range(-180..540));
            let length = rng.gen_range(days.0..=days.1);
            let participants = rng.gen_range(group.0..=group.1);
            ErasmusActivity {
                seq: i + 1,
                cfa: rng.gen_range(0..cfas.len()),
                activity,
                country,
                city,
                start,
                end: start + Duration::days(length - 1),
                amount_cents: i64::from(participants) * length * rng.gen_range(5_500..9_800),
                participants,
                participant: format!(
                    "{} {}",
                    FIRST_NAMES.choose(&mut rng).expect("names"),
                    LAST_NAMES.choose(&mut rng).expect("names")
                ),
            }
        })
        .collect()
}

/// Pass Monde grants to apprentices of the CFAs: about four a CFA.
pub fn pass_monde(s: &DatasetSettings, cfas: &[Cfa]) -> Vec<PassMondeGrant> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0x9A55);
    (0..cfas.len() * 4)
        .map(|i| {
            let weeks = rng.gen_range(2..=20);
            PassMondeGrant {
                seq: i + 1,
                cfa: rng.gen_range(0..cfas.len()),
                country: DESTINATIONS.choose(&mut rng).expect("destinations").1,
                start: s.reference_date - Duration::days(rng.gen_range(-120..500)),
                weeks,
                amount_euros: (280 + (weeks - 2) * 40).min(880),
            }
        })
        .collect()
}
