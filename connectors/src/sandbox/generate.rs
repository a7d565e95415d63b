//! Deterministic, realistic records for the simulators.
//!
//! The same settings always give the same records: real Normandy communes
//! (weighted by population), real ROME codes, SIRETs with valid check keys,
//! employers named and classified like the sector they are in. A share of
//! positions is published on both the CCI and the CMA exchange, as employers
//! registered at both chambers do, so that the gateway's deduplication has
//! real work.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use passerelle_schema::ids::luhn_check_digit;
use passerelle_schema::reference::{self, Commune};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// How much data the simulators serve, and from which seed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSettings {
    /// The seed; the same seed gives the same records.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Offers the CCI exchange publishes (shared ones included).
    #[serde(default = "default_cci_offers")]
    pub cci_offers: usize,
    /// Offers the CMA feed publishes (shared ones included).
    #[serde(default = "default_cma_offers")]
    pub cma_offers: usize,
    /// Positions published on both exchanges.
    #[serde(default = "default_shared_offers")]
    pub shared_offers: usize,
    /// CFAs of the training catalogue and the mobility programmes (71, as
    /// many as the Région counts; more adds sites in each département).
    #[serde(default = "default_cfas")]
    pub cfas: usize,
    /// Apprenticeship programmes of the training catalogue.
    #[serde(default = "default_programmes")]
    pub programmes: usize,
    /// The day the data is generated as of: publication dates fall in the
    /// months before it, start dates in the months after.
    #[serde(default = "default_reference_date")]
    pub reference_date: NaiveDate,
}

fn default_seed() -> u64 {
    2016
}
fn default_cci_offers() -> usize {
    3000
}
fn default_cma_offers() -> usize {
    2500
}
fn default_shared_offers() -> usize {
    300
}
fn default_cfas() -> usize {
    71
}
fn default_programmes() -> usize {
    500
}
fn default_reference_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("a valid date")
}

impl Default for DatasetSettings {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            cci_offers: default_cci_offers(),
            cma_offers: default_cma_offers(),
            shared_offers: default_shared_offers(),
            cfas: default_cfas(),
            programmes: default_programmes(),
            reference_date: default_reference_date(),
        }
    }
}

/// A generated employer.
#[derive(Debug, Clone, PartialEq)]
pub struct Employer {
    /// A SIRET with a valid check key.
    pub siret: String,
    /// The trade name.
    pub name: String,
    /// The NAF code, dotted.
    pub naf: &'static str,
    /// The headcount band.
    pub size: &'static str,
    /// The OPCO code.
    pub opco: &'static str,
}

/// A generated position, before an exchange words it.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// Its number at its exchange, from 1.
    pub seq: usize,
    /// Whether the other exchange publishes it too.
    pub shared: bool,
    /// The employer.
    pub employer: Employer,
    /// The ROME code.
    pub rome: &'static str,
    /// The occupation's label.
    pub rome_label: &'static str,
    /// The diploma level, 3 to 7.
    pub level: u8,
    /// The workplace's commune.
    pub commune: &'static Commune,
    /// The workplace's postcode.
    pub postcode: &'static str,
    /// The street address.
    pub street: String,
    /// Coordinates, for communes whose position is known.
    pub coordinates: Option<(f64, f64)>,
    /// The contract's start.
    pub start_date: NaiveDate,
    /// The contract's length.
    pub duration_months: u32,
    /// School/company alternation.
    pub rhythm: &'static str,
    /// Places offered.
    pub openings: u32,
    /// Publication time.
    pub published_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
    /// `Active`, `Pourvue`, `Annulée` or `En attente`.
    pub status: &'static str,
    /// What the apprentice will do.
    pub description: String,
}

/// The positions each exchange publishes.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The CCI exchange's positions, shared ones included.
    pub cci: Vec<Position>,
    /// The CMA feed's positions, shared ones included.
    pub cma: Vec<Position>,
}

const COMMERCE_ROME: &[&str] = &[
    "D1106", "D1214", "D1301", "D1401", "D1403", "D1507", "G1501", "G1602", "G1603", "G1703",
    "G1803", "H1203", "H2901", "H2903", "H2909", "H2913", "I1304", "I1307", "M1203", "M1501",
    "M1602", "M1607", "M1801", "M1805", "M1810", "N1103", "N4101", "K1302", "K1303", "J1307",
    "K2204",
];
const CRAFT_ROME: &[&str] = &[
    "D1101", "D1102", "D1103", "D1104", "D1202", "D1208", "F1602", "F1603", "F1604", "F1606",
    "F1607", "F1608", "F1610", "F1701", "F1703", "H2206", "I1308", "I1603", "I1604", "I1606",
    "A1203", "A1414",
];
/// Trades whose employers often belong to both chambers.
const SHARED_ROME: &[&str] = &[
    "D1101", "D1102", "D1103", "D1104", "D1202", "I1604", "D1106",
];

const SURNAMES: &[&str] = &[
    "Lefèvre",
    "Leroux",
    "Lemonnier",
    "Duval",
    "Marie",
    "Hébert",
    "Lecoq",
    "Leclerc",
    "Jouenne",
    "Anquetil",
    "Lebrun",
    "Féron",
    "Letellier",
    "Hamel",
    "Vautier",
    "Osmont",
    "Lemaître",
    "Guérin",
    "Lepetit",
    "Quesnel",
    "Boudin",
    "Legrand",
    "Leconte",
    "Tougard",
    "Delamare",
    "Hue",
    "Lesueur",
    "Picard",
    "Dufour",
    "Cauchois",
];
const STREETS: &[&str] = &[
    "rue de la République",
    "rue du Général Leclerc",
    "avenue de Caen",
    "rue Saint-Jean",
    "place du Marché",
    "rue des Tanneurs",
    "boulevard Maritime",
    "rue Écuyère",
    "route de Rouen",
    "rue Guillaume le Conquérant",
    "rue de la Paix",
    "quai de la Seine",
    "zone artisanale des Forges",
    "rue Pasteur",
    "rue du Bac",
];
const SIZES: &[&str] = &[
    "0-9", "0-9", "0-9", "10-19", "20-49", "50-99", "100-199", "250-499",
];
const RHYTHMS: &[&str] = &[
    "2 jours / 3 jours",
    "1 semaine CFA / 3 semaines entreprise",
    "2 semaines / 2 semaines",
    "1 jour / 4 jours",
    "1 semaine / 2 semaines",
];

/// The NAF codes, trade name words and OPCO of a ROME code's trade.
fn trade(
    rome: &str,
) -> (
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
) {
    match rome {
        "D1101" => (&["47.22Z"], &["Boucherie"], "OPCOEP"),
        "D1102" => (&["10.71C", "10.71B"], &["Boulangerie", "Fournil"], "OPCOEP"),
        "D1103" => (&["10.13B"], &["Charcuterie", "Traiteur"], "OPCOEP"),
        "D1104" => (
            &["10.71D", "10.82Z"],
            &["Pâtisserie", "Chocolaterie"],
            "OPCOEP",
        ),
        "D1106" => (
            &["47.11B", "47.11D"],
            &["Épicerie", "Supermarché"],
            "OPCOMMERCE",
        ),
        "D1202" => (&["96.02A"], &["Salon", "Coiffure"], "OPCOEP"),
        "D1208" => (&["96.02B"], &["Institut"], "OPCOEP"),
        r if r.starts_with("D1") => (
            &["47.71Z", "47.19B", "47.59B"],
            &["Boutique", "Magasin"],
            "OPCOMMERCE",
        ),
        r if r.starts_with('F') => (
            &["43.21A", "43.22A", "43.34Z", "43.99C", "41.20A"],
            &["Bâtiment", "Entreprise"],
            "CONSTRUCTYS",
        ),
        r if r.starts_with('G') => (&["56.10A", "55.10Z"], &["Restaurant", "Hôtel"], "AKTO"),
        "H2206" => (&["16.23Z"], &["Menuiserie"], "OPCOEP"),
        r if r.starts_with('H') => (
            &["25.62B", "28.29B"],
            &["Industries", "Mécanique"],
            "OPCO2I",
        ),
        "I1604" | "I1606" => (&["45.20A"], &["Garage", "Carrosserie"], "MOBILITES"),
        r if r.starts_with('I') => (
            &["33.12Z", "43.22B"],
            &["Maintenance", "Services"],
            "OPCO2I",
        ),
        r if r.starts_with('J') => (&["47.73Z", "86.10Z"], &["Pharmacie", "Clinique"], "SANTE"),
        r if r.starts_with('K') => (
            &["88.91A", "81.21Z"],
            &["Association", "Services"],
            "UNIFORMATION",
        ),
        r if r.starts_with('M') => (
            &["69.20Z", "62.01Z", "70.22Z"],
            &["Conseil", "Informatique"],
            "ATLAS",
        ),
        r if r.starts_with('N') => (
            &["52.10B", "49.41A"],
            &["Logistique", "Transports"],
            "MOBILITES",
        ),
        _ => (&["81.30Z", "01.13Z"], &["Paysages", "Jardins"], "OCAPIAT"),
    }
}

/// Communes with their population as a cumulative weight; only those a
/// partner's town name and postcode lead back to unambiguously.
static WEIGHTED_COMMUNES: LazyLock<Vec<(u64, &'static Commune)>> = LazyLock::new(|| {
    let mut total = 0u64;
    reference::communes()
        .iter()
        .filter(|c| {
            c.postcodes.first().is_some_and(|p| {
                reference::find_commune(&c.name, Some(p)).map(|f| &f.code) == Some(&c.code)
            })
        })
        .map(|c| {
            total += u64::from(c.population.max(50));
            (total, c)
        })
        .collect()
});

fn pick_commune(rng: &mut ChaCha8Rng) -> &'static Commune {
    let communes = &*WEIGHTED_COMMUNES;
    let total = communes.last().expect("communes are loaded").0;
    let x = rng.gen_range(0..total);
    let i = communes.partition_point(|(w, _)| *w <= x);
    communes[i.min(communes.len() - 1)].1
}

fn siret(rng: &mut ChaCha8Rng) -> String {
    loop {
        let mut d: Vec<u8> = (0..8).map(|_| rng.gen_range(0..10)).collect();
        if d[0] == 0 || d[..8] == [3, 5, 6, 0, 0, 0, 0, 0] {
            continue;
        }
        d.push(luhn_check_digit(&d));
        d.extend([0, 0, 0, rng.gen_range(1..4)]);
        d.push(luhn_check_digit(&d));
        return d.iter().map(|x| char::from(b'0' + x)).collect();
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    *items.choose(rng).expect("non-empty list")
}

fn level(rng: &mut ChaCha8Rng, craft: bool) -> u8 {
    let weights: &[(u8, u32)] = if craft {
        &[(3, 55), (4, 35), (5, 10)]
    } else {
        &[(3, 25), (4, 30), (5, 25), (6, 12), (7, 8)]
    };
    let total: u32 = weights.iter().map(|w| w.1).sum();
    let mut x = rng.gen_range(0..total);
    for &(l, w) in weights {
        if x < w {
            return l;
        }
        x -= w;
    }
    3
}

fn position(
    rng: &mut ChaCha8Rng,
    rome: &'static str,
    craft: bool,
    s: &DatasetSettings,
) -> Position {
    let (nafs, words, opco) = trade(rome);
    let surname = pick(rng, SURNAMES);
    let commune = pick_commune(rng);
    let name = if craft || rng.gen_bool(0.5) {
        format!("{} {surname}", pick(rng, words))
    } else {
        format!(
            "{surname} {}",
            pick(rng, &["SAS", "SARL", "& Fils", "Normandie"])
        )
    };
    let coordinates = commune.coordinates.map(|(lat, lon)| {
        (
            ((lat + rng.gen_range(-0.01..0.01)) * 10_000.0).round() / 10_000.0,
            ((lon + rng.gen_range(-0.01..0.01)) * 10_000.0).round() / 10_000.0,
        )
    });
    let reference = s.reference_date;
    let published_at = Utc
        .from_utc_datetime(&reference.and_hms_opt(11, 0, 0).expect("a valid time"))
        - Duration::minutes(rng.gen_range(0..150 * 24 * 60));
    let months_ahead = if rng.gen_bool(0.6) {
        // Most contracts start at the school year.
        let to_september = (9 + 12 - reference.month()) % 12;
        if to_september == 0 {
            12
        } else {
            to_september
        }
    } else {
        rng.gen_range(1..11)
    };
    let first = reference.with_day(1).expect("day 1 exists");
    let start_date = first
        .checked_add_months(chrono::Months::new(months_ahead))
        .expect("dates in range");
    let status = if craft {
        "Active"
    } else {
        match rng.gen_range(0..100) {
            0..90 => "Active",
            90..95 => "Pourvue",
            95..98 => "En attente",
            _ => "Annulée",
        }
    };
    let label = reference::common_rome_label(rome).unwrap_or("Métier");
    Position {
        seq: 0,
        shared: false,
        employer: Employer {
            siret: siret(rng),
            name,
            naf: pick(rng, nafs),
            size: pick(rng, SIZES),
            opco,
        },
        rome,
        rome_label: label,
        level: level(rng, craft),
        commune,
        postcode: commune.postcodes[0].as_str(),
        street: format!("{} {}", rng.gen_range(1..120), pick(rng, STREETS)),
        coordinates,
        start_date,
        duration_months: pick(rng, &[12, 24, 24, 24, 36]),
        rhythm: pick(rng, RHYTHMS),
        openings: pick(rng, &[1, 1, 1, 1, 2, 2, 3]),
        published_at,
        updated_at: published_at + Duration::hours(rng.gen_range(0..72)),
        expires_at: published_at + Duration::days(120),
        status,
        description: format!(
            "Au sein de notre équipe à {}, vous apprendrez le métier ({}) aux côtés d'un maître d'apprentissage expérimenté.",
            commune.name,
            label.to_lowercase()
        ),
    }
}

/// Generates both exchanges' positions.
pub fn dataset(s: &DatasetSettings) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let shared_n = s.shared_offers.min(s.cci_offers).min(s.cma_offers);
    let shared: Vec<Position> = (0..shared_n)
        .map(|_| {
            let rome = pick(&mut rng, SHARED_ROME);
            Position {
                shared: true,
                ..position(&mut rng, rome, true, s)
            }
        })
        .collect();
    let build = |n: usize, craft: bool, rng: &mut ChaCha8Rng| -> Vec<Position> {
        let pool = if craft { CRAFT_ROME } else { COMMERCE_ROME };
        let mut own: Vec<Position> = (0..n - shared_n)
            .map(|_| {
                let rome = pick(rng, pool);
                position(rng, rome, craft, s)
            })
            .collect();
        for p in &shared {
            // Each exchange has its own publication time for the same position.
            let mut copy = p.clone();
            copy.published_at = p.published_at - Duration::minutes(rng.gen_range(0..3 * 24 * 60));
            copy.updated_at = copy.published_at;
            own.push(copy);
        }
        own.shuffle(rng);
        for (i, p) in own.iter_mut().enumerate() {
            p.seq = i + 1;
        }
        own
    };
    let cci = build(s.cci_offers, false, &mut rng);
    let cma = build(s.cma_offers, true, &mut rng);
    Dataset { cci, cma }
}

/// Positions a craft exchange publishes after its dataset, one published at
/// each of `published`, numbered after `after_seq`: the same settings and
/// count always give the same positions.
pub fn fresh_positions(
    s: &DatasetSettings,
    after_seq: usize,
    published: &[DateTime<Utc>],
) -> Vec<Position> {
    published
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0xf5e5_4000 ^ (i as u64) << 20);
            let rome = pick(&mut rng, CRAFT_ROME);
            Position {
                seq: after_seq + i + 1,
                published_at: *at,
                updated_at: *at,
                ..position(&mut rng, rome, true, s)
            }
        })
        .collect()
}

/// Whether record `seq` is sent malformed at `rate`: the same records for
/// the same rate, so that repeated pulls agree.
pub fn is_malformed(seq: usize, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    // A fixed hash of the sequence number, spread over [0, 1).
    let h = (seq as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17);
    (h as f64 / u64::MAX as f64) < rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_schema::Siret;

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let s = DatasetSettings {
            cci_offers: 200,
            cma_offers: 150,
            shared_offers: 20,
            ..Default::default()
        };
        let a = dataset(&s);
        let b = dataset(&s);
        assert_eq!(a.cci, b.cci);
        assert_eq!(a.cma, b.cma);
        assert_eq!(a.cci.len(), 200);
        assert_eq!(a.cma.iter().filter(|p| p.shared).count(), 20);
    }

    #[test]
    fn generated_identifiers_pass_their_checks() {
        let d = dataset(&DatasetSettings {
            cci_offers: 300,
            cma_offers: 300,
            shared_offers: 30,
            ..Default::default()
        });
        for p in d.cci.iter().chain(&d.cma) {
            assert!(
                Siret::parse(&p.employer.siret).is_ok(),
                "{}",
                p.employer.siret
            );
            assert!(reference::common_rome_label(p.rome).is_some(), "{}", p.rome);
            assert!(p.start_date > s_ref());
        }
    }

    fn s_ref() -> NaiveDate {
        DatasetSettings::default().reference_date
    }

    #[test]
    fn malformed_records_follow_the_rate() {
        let n = (0..10_000).filter(|&i| is_malformed(i, 0.1)).count();
        assert!((800..1200).contains(&n), "{n}");
        assert_eq!((0..100).filter(|&i| is_malformed(i, 0.0)).count(), 0);
    }
}
