//! A simulated taxe d'apprentissage campaign: employers (most in
//! Normandy, some elsewhere) allocating their solde, through their OPCO,
//! to the sandbox's CFAs, to establishments outside Normandy, and to a few
//! UAIs the training catalogue does not know.
//!
//! Allocations are generated one at a time from a seed, so that a campaign
//! of millions is written to a file or pushed without being held in memory.

use chrono::{Duration, NaiveDate, NaiveTime};
use passerelle_schema::ids::luhn_check_digit;
use passerelle_schema::{reference, AllocationInput, Uai};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::cfas;
use super::generate::DatasetSettings;

/// The shape of a simulated campaign.
#[derive(Debug, Clone)]
pub struct CampaignSettings {
    /// The seed.
    pub seed: u64,
    /// The campaign year.
    pub year: i32,
    /// Distinct employers.
    pub employers: usize,
    /// Allocations.
    pub allocations: u64,
    /// Every `n`th record is spoiled (a bad check key, a zero amount…);
    /// none when `None`.
    pub invalid_every: Option<u64>,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            seed: 2026,
            year: 2026,
            employers: 1_000,
            allocations: 10_000,
            invalid_every: None,
        }
    }
}

/// Communes outside Normandy that employers allocate from.
const ELSEWHERE: [&str; 6] = ["75056", "69123", "35238", "72181", "28085", "80021"];

/// Départements outside Normandy whose establishments receive some money.
const OUTSIDE_DEPARTEMENTS: [&str; 5] = ["075", "035", "072", "069", "080"];

struct Employer {
    opco: &'static str,
    siret: String,
    commune: String,
}

/// The allocations of a simulated campaign, each with its OPCO's code.
pub struct Campaign {
    settings: CampaignSettings,
    employers: Vec<Employer>,
    normandy: Vec<String>,
    outside: Vec<String>,
    unknown: Vec<String>,
    rng: ChaCha8Rng,
    next: u64,
    start: NaiveDate,
}

fn uai(dep: &str, serial: u32) -> String {
    let digits = format!("{dep}{serial:04}");
    format!("{digits}{}", char::from(Uai::check_letter(&digits)))
}

fn siret(rng: &mut ChaCha8Rng) -> String {
    loop {
        let mut d: Vec<u8> = (0..8).map(|_| rng.gen_range(0..10)).collect();
        if d[0] == 0 {
            continue;
        }
        d.push(luhn_check_digit(&d));
        d.extend([0, 0, 0, rng.gen_range(1..4)]);
        d.push(luhn_check_digit(&d));
        return d.iter().map(|x| char::from(b'0' + x)).collect();
    }
}

impl Campaign {
    /// A campaign over the sandbox's CFAs.
    pub fn new(settings: CampaignSettings) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
        let opcos = reference::opcos();
        let communes = reference::communes();
        let employers = (0..settings.employers)
            .map(|_| {
                let commune = if rng.gen_bool(0.92) {
                    communes[rng.gen_range(0..communes.len())].code.clone()
                } else {
                    ELSEWHERE[rng.gen_range(0..ELSEWHERE.len())].to_owned()
                };
                Employer {
                    opco: &opcos[rng.gen_range(0..opcos.len())].0,
                    siret: siret(&mut rng),
                    commune,
                }
            })
            .collect();
        let normandy = cfas::cfas(&DatasetSettings::default())
            .into_iter()
            .map(|c| c.uai)
            .collect();
        let outside = OUTSIDE_DEPARTEMENTS
            .iter()
            .flat_map(|d| (1..=6).map(move |i| uai(d, 4000 + i)))
            .collect();
        let unknown = ["014", "076", "050"].iter().map(|d| uai(d, 9990)).collect();
        Self {
            start: NaiveDate::from_ymd_opt(settings.year, 5, 25).expect("a date"),
            rng: ChaCha8Rng::seed_from_u64(settings.seed ^ 0xA110C),
            settings,
            employers,
            normandy,
            outside,
            unknown,
            next: 0,
        }
    }

    /// The UAIs of establishments outside Normandy that receive money.
    pub fn outside_uais(&self) -> &[String] {
        &self.outside
    }

    /// The UAIs in Normandy that the catalogue does not know.
    pub fn unknown_uais(&self) -> &[String] {
        &self.unknown
    }

    /// Whether record `n` is one the generator spoiled.
    pub fn is_spoiled(&self, n: u64) -> bool {
        self.settings
            .invalid_every
            .is_some_and(|every| n % every == every - 1)
    }
}

impl Iterator for Campaign {
    /// The OPCO's code and the allocation.
    type Item = (&'static str, AllocationInput);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.settings.allocations {
            return None;
        }
        let n = self.next;
        self.next += 1;
        let rng = &mut self.rng;
        let employer = &self.employers[rng.gen_range(0..self.employers.len())];
        let roll: f64 = rng.gen();
        let establishment = if roll < 0.88 {
            &self.normandy[rng.gen_range(0..self.normandy.len())]
        } else if roll < 0.98 {
            &self.outside[rng.gen_range(0..self.outside.len())]
        } else {
            &self.unknown[rng.gen_range(0..self.unknown.len())]
        };
        // Mostly a few hundred euros, some large allocations.
        let cents: i64 = if rng.gen_bool(0.9) {
            rng.gen_range(5_000..200_000)
        } else {
            rng.gen_range(200_000..5_000_000)
        };
        let day = self.start + Duration::days(rng.gen_range(0..140));
        let time = NaiveTime::from_num_seconds_from_midnight_opt(rng.gen_range(0..86_400), 0)
            .expect("a time");
        let mut input = AllocationInput {
            employer_siret: employer.siret.clone(),
            employer_commune: employer.commune.clone(),
            establishment_uai: establishment.clone(),
            amount: format!("{}.{:02}", cents / 100, cents % 100),
            allocated_at: format!("{}T{}Z", day, time),
            reference: format!("{}-{}-{n:09}", employer.opco, self.settings.year),
        };
        if self.is_spoiled(n) {
            match (n / self.settings.invalid_every.unwrap_or(1)) % 4 {
                0 => input.employer_siret.replace_range(13..14, "X"),
                1 => input.amount = "0".into(),
                2 => input.establishment_uai.replace_range(7..8, "I"),
                _ => input.allocated_at = "yesterday".into(),
            }
        }
        Some((employer.opco, input))
    }
}

/// The header row of the CSV that `/ingest/allocations` takes.
pub const CSV_HEADER: &str =
    "reference;employer_siret;employer_commune;establishment_uai;amount;allocated_at";

/// Writes one allocation as a row of that CSV.
pub fn write_csv_record(out: &mut impl std::io::Write, a: &AllocationInput) -> std::io::Result<()> {
    writeln!(
        out,
        "{};{};{};{};{};{}",
        a.reference,
        a.employer_siret,
        a.employer_commune,
        a.establishment_uai,
        a.amount,
        a.allocated_at
    )
}

/// Writes allocations as the CSV that `/ingest/allocations` takes.
pub fn write_csv<'a>(
    out: &mut impl std::io::Write,
    records: impl IntoIterator<Item = &'a AllocationInput>,
) -> std::io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for a in records {
        write_csv_record(out, a)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_schema::{Allocation, Opco};

    #[test]
    fn generated_allocations_check_except_the_spoiled_ones() {
        let settings = CampaignSettings {
            allocations: 2_000,
            invalid_every: Some(100),
            ..CampaignSettings::default()
        };
        let campaign = Campaign::new(settings);
        let spoiled: Vec<bool> = (0..2_000).map(|n| campaign.is_spoiled(n)).collect();
        let now = "2026-11-29T00:00:00Z".parse().unwrap();
        let mut outside = 0;
        for (n, (opco, input)) in campaign.enumerate() {
            let opco = Opco::parse(opco).unwrap();
            let checked = Allocation::check(&input, &opco, 2026, n as u64, now);
            assert_eq!(checked.is_err(), spoiled[n], "{input:?}: {checked:?}");
            if let Ok(a) = checked {
                outside += usize::from(!a.to_normandy());
            }
        }
        assert!(
            (100..400).contains(&outside),
            "{outside} allocations leave Normandy"
        );
    }
}
