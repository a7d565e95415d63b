//! Deterministic CFAs and the programmes they run, for the simulators of the
//! training catalogue, the orientation sites and the mobility programmes.
//!
//! Normandy has about 71 CFAs and 500 apprenticeship programmes; the
//! simulated ones sit in the main towns of the five départements, with UAIs
//! and SIRETs that pass their checks. The first CFA is in Caen.

use chrono::{Datelike, NaiveDate};
use passerelle_schema::ids::luhn_check_digit;
use passerelle_schema::reference::{self, Commune};
use passerelle_schema::Uai;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::generate::DatasetSettings;

/// A simulated CFA.
#[derive(Debug, Clone, PartialEq)]
pub struct Cfa {
    /// Its UAI, with a valid check letter.
    pub uai: String,
    /// Its SIRET, with a valid check key.
    pub siret: String,
    /// Its name.
    pub name: String,
    /// Its town.
    pub commune: &'static Commune,
    /// Its street address.
    pub street: String,
    /// The occupations it trains for.
    pub romes: Vec<&'static str>,
}

/// A simulated programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    /// Its number in the catalogue, from 1.
    pub seq: usize,
    /// The CFA running it (an index into the CFAs).
    pub cfa: usize,
    /// Its title.
    pub title: String,
    /// Its RNCP number.
    pub rncp: String,
    /// Its level, 3 to 7.
    pub level: u8,
    /// The occupation it leads to.
    pub rome: &'static str,
    /// Its sessions.
    pub sessions: Vec<ProgrammeSession>,
    /// Hours in the centre.
    pub hours_centre: u32,
    /// Hours in the company.
    pub hours_company: u32,
}

/// A session of a programme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgrammeSession {
    /// Start.
    pub start: NaiveDate,
    /// End.
    pub end: NaiveDate,
    /// Whether it recruits.
    pub recruiting: bool,
    /// Places.
    pub places: u32,
    /// Free places.
    pub vacancies: u32,
}

/// The CFAs of each département: (département, how many).
const PER_DEPARTEMENT: [(&str, usize); 5] =
    [("14", 17), ("76", 19), ("50", 14), ("27", 12), ("61", 9)];

/// Kinds of CFA: name template and the occupations taught.
const KINDS: &[(&str, &[&str])] = &[
    (
        "CFA des métiers de l'artisanat",
        &["D1101", "D1102", "D1103", "D1104", "D1202", "D1208"],
    ),
    (
        "CFA du BTP",
        &["F1602", "F1603", "F1606", "F1607", "F1610", "F1703"],
    ),
    (
        "CFA de la CCI",
        &["D1106", "D1214", "D1301", "D1401", "M1607", "G1803"],
    ),
    (
        "CFA de l'industrie",
        &["H1203", "H2901", "H2903", "H2913", "I1304", "I1604"],
    ),
    ("CFA agricole", &["A1203", "A1407", "A1414", "A1501"]),
    (
        "CFA sanitaire et social",
        &["J1307", "J1501", "K1302", "K1303"],
    ),
    (
        "CFA de l'hôtellerie-restauration",
        &["G1501", "G1602", "G1603", "G1703", "G1803"],
    ),
    (
        "CFA du supérieur",
        &["M1203", "M1501", "M1801", "M1805", "M1810"],
    ),
];

fn digits(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.gen_range(0..10)).collect()
}

fn siret(rng: &mut ChaCha8Rng) -> String {
    let mut d = digits(rng, 8);
    d[0] = d[0].max(1);
    d.push(luhn_check_digit(&d));
    d.extend([0, 0, 0, 1]);
    d.push(luhn_check_digit(&d));
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// The simulated CFAs, the first in Caen.
pub fn cfas(s: &DatasetSettings) -> Vec<Cfa> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0xCFA);
    let towns = |dep: &str| -> Vec<&'static Commune> {
        let mut t: Vec<&'static Commune> = reference::communes()
            .iter()
            .filter(|c| c.departement == dep && c.coordinates.is_some())
            .collect();
        t.sort_by_key(|c| std::cmp::Reverse(c.population));
        t
    };
    let mut out: Vec<Cfa> = Vec::new();
    let table: usize = PER_DEPARTEMENT.iter().map(|(_, c)| c).sum();
    let mut taken = std::collections::HashSet::new();
    for (dep, count) in PER_DEPARTEMENT {
        let towns = towns(dep);
        let dep_name = reference::departement_name(dep).unwrap_or(dep);
        // Past the table's total, each département has more sites, in
        // proportion.
        let count = if s.cfas > table {
            (count * s.cfas).div_ceil(table)
        } else {
            count.min(s.cfas)
        };
        for i in 0..count {
            let (kind, romes) = KINDS[(i + out.len()) % KINDS.len()];
            // The largest town has the most CFAs.
            let commune = if i % 3 == 0 {
                towns[0]
            } else {
                *towns.choose(&mut rng).expect("towns")
            };
            let seven = loop {
                let seven = format!("0{dep}{:04}", rng.gen_range(0..10_000));
                if taken.insert(seven.clone()) {
                    break seven;
                }
            };
            let uai = format!("{seven}{}", char::from(Uai::check_letter(&seven)));
            out.push(Cfa {
                name: if i < KINDS.len() {
                    format!("{kind} — {dep_name}")
                } else {
                    format!("{kind} — site de {}", commune.name)
                },
                uai,
                siret: siret(&mut rng),
                commune,
                street: format!("{} rue de l'Apprentissage", rng.gen_range(1..60)),
                romes: romes.to_vec(),
            });
        }
    }
    out.truncate(s.cfas);
    out
}

fn diploma(level: u8, seq: usize) -> &'static str {
    match level {
        3 => "CAP",
        4 => ["BP", "Bac pro", "BTM"][seq % 3],
        5 => "BTS",
        6 => "Licence professionnelle",
        _ => "Master",
    }
}

/// The simulated programmes, spread over the CFAs.
pub fn programmes(s: &DatasetSettings, cfas: &[Cfa]) -> Vec<Programme> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0xF0_4A);
    let school_year = |offset: i32| {
        let year =
            s.reference_date.year() + if s.reference_date.month() >= 9 { 1 } else { 0 } + offset;
        NaiveDate::from_ymd_opt(year, 9, 1).expect("a valid date")
    };
    (0..s.programmes)
        .map(|i| {
            let cfa_index = i % cfas.len().max(1);
            let cfa = &cfas[cfa_index];
            let rome = *cfa.romes.choose(&mut rng).expect("a CFA teaches something");
            let level = match rng.gen_range(0..100) {
                0..45 => 3,
                45..75 => 4,
                75..90 => 5,
                90..96 => 6,
                _ => 7,
            };
            let label = reference::common_rome_label(rome).unwrap_or("Métier");
            let years = if level == 3 || level == 5 {
                2
            } else {
                1 + (i % 2) as i32
            };
            let sessions = (0..rng.gen_range(1..=2))
                .map(|k| {
                    let start = school_year(k);
                    let places = [12, 15, 16, 20, 24][rng.gen_range(0..5)];
                    let recruiting = rng.gen_bool(0.85);
                    ProgrammeSession {
                        start,
                        end: NaiveDate::from_ymd_opt(start.year() + years, 6, 30)
                            .expect("a valid date"),
                        recruiting,
                        places,
                        vacancies: if recruiting {
                            rng.gen_range(0..=places / 2)
                        } else {
                            0
                        },
                    }
                })
                .collect();
            Programme {
                seq: i + 1,
                cfa: cfa_index,
                title: format!("{} {}", diploma(level, i), label.to_lowercase()),
                rncp: format!("RNCP{}", rng.gen_range(30_000..40_000)),
                level,
                rome,
                sessions,
                hours_centre: if years == 2 { 800 } else { 450 },
                hours_company: if years == 2 { 2_400 } else { 1_150 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_schema::Siret;

    #[test]
    fn cfas_pass_their_checks_and_the_first_is_in_caen() {
        let s = DatasetSettings::default();
        let cfas = cfas(&s);
        assert_eq!(cfas.len(), 71);
        assert_eq!(cfas[0].commune.code, "14118");
        for c in &cfas {
            assert!(Uai::parse(&c.uai).is_ok(), "{}", c.uai);
            assert!(Siret::parse(&c.siret).is_ok(), "{}", c.siret);
            assert_eq!(&c.uai[1..3], c.commune.departement);
        }
        let p = programmes(&s, &cfas);
        assert_eq!(p.len(), 500);
        assert!(p
            .iter()
            .all(|p| p.sessions.iter().all(|s| s.vacancies <= s.places)));
    }
}
