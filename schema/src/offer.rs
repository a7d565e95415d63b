//! Apprenticeship offers, the same whichever exchange published them.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::geo::{GeoPoint, InseeCommune, Postcode};
use crate::ids::{Naf, Opco, RomeCode, Siret};
use crate::level::DiplomaLevel;
use crate::partner::Partner;

/// An apprenticeship offer.
///
/// Its texts are [`CompactString`]s: held inline up to 24 bytes (a name, an
/// address, a rhythm), so that a synced feed of a hundred thousand offers
/// does not make a million small allocations.
///
/// A partner's record maps to an offer with one source; offers that two
/// exchanges publish for the same position are merged into one offer that
/// lists both sources (see [`merge_duplicates`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Where the offer is published: one entry per exchange.
    pub sources: Vec<OfferSource>,
    /// The position's title.
    pub title: CompactString,
    /// What the apprentice will do.
    #[serde(default)]
    pub description: Option<CompactString>,
    /// The occupations of the position, most specific first.
    #[serde(default)]
    pub rome_codes: Vec<RomeCode>,
    /// The level of the diploma prepared.
    #[serde(default)]
    pub level: Option<DiplomaLevel>,
    /// The employer.
    pub employer: Employer,
    /// Where the apprentice works.
    pub location: Location,
    /// When the contract starts.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// The contract's length in months.
    #[serde(default)]
    pub duration_months: Option<u32>,
    /// The alternation between school and company, as the partner words it.
    #[serde(default)]
    pub rhythm: Option<CompactString>,
    /// How many apprentices the employer takes on this offer.
    #[serde(default = "one")]
    pub openings: u32,
    /// When the offer was published.
    pub published_at: DateTime<Utc>,
    /// When the offer stops being valid.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the offer is still open.
    #[serde(default)]
    pub status: OfferStatus,
}

fn one() -> u32 {
    1
}

/// One exchange's copy of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferSource {
    /// The exchange.
    pub partner: Partner,
    /// The offer's identifier at that exchange.
    pub partner_id: CompactString,
    /// The offer's page at that exchange.
    #[serde(default)]
    pub url: Option<CompactString>,
}

/// The employer of an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employer {
    /// The establishment's SIRET.
    pub siret: Siret,
    /// The employer's trade name.
    pub name: CompactString,
    /// The headcount band as the partner states it (`0-9`, `10-49`, …).
    #[serde(default)]
    pub size: Option<CompactString>,
    /// The employer's activity.
    #[serde(default)]
    pub naf: Option<Naf>,
    /// The OPCO the employer belongs to.
    #[serde(default)]
    pub opco: Option<Opco>,
    /// For a public employer, which part of the public sector.
    #[serde(default)]
    pub public_type: Option<PublicEmployerType>,
}

/// The three parts of the French public sector, as apprenticeship counts
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicEmployerType {
    /// The State and its establishments (CERFA employer type 21).
    Etat,
    /// Local authorities: communes, départements, régions (types 22 to 24).
    Territoriale,
    /// Public hospitals (type 25).
    Hospitaliere,
}

impl PublicEmployerType {
    /// Reads `etat`, `territoriale` or `hospitaliere`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "etat" => Ok(Self::Etat),
            "territoriale" => Ok(Self::Territoriale),
            "hospitaliere" => Ok(Self::Hospitaliere),
            other => Err(format!(
                "{other:?} is not etat, territoriale or hospitaliere"
            )),
        }
    }
}

/// Where an offer's work takes place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// The commune (its département and name follow from it).
    pub commune: InseeCommune,
    /// The postcode.
    #[serde(default)]
    pub postcode: Option<Postcode>,
    /// The street address.
    #[serde(default)]
    pub address: Option<CompactString>,
    /// The position, when the partner gives one.
    #[serde(default)]
    pub coordinates: Option<GeoPoint>,
}

/// Whether an offer is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    /// Open to candidates.
    #[default]
    Active,
    /// Taken.
    Filled,
    /// Withdrawn by the employer.
    Cancelled,
    /// Not yet published.
    Pending,
}

/// What makes two exchanges' offers the same position.
///
/// An employer that posts one position on both the CCI and the CMA exchange
/// gives both the same establishment (SIRET), occupation (first ROME code),
/// workplace (commune) and start date; titles, descriptions and identifiers
/// differ between exchanges and are not compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupKey {
    siret: Siret,
    rome: Option<RomeCode>,
    commune: InseeCommune,
    start_date: Option<NaiveDate>,
}

impl Offer {
    /// The key under which copies of this offer on other exchanges are found.
    pub fn dedup_key(&self) -> DedupKey {
        DedupKey {
            siret: self.employer.siret.clone(),
            rome: self.rome_codes.first().cloned(),
            commune: self.location.commune.clone(),
            start_date: self.start_date,
        }
    }

    /// A hash of [`Offer::dedup_key`], computed without copying it: offers
    /// with equal keys have equal hashes.
    pub fn dedup_hash(&self) -> u64 {
        dedup_hash(
            &self.employer.siret,
            self.rome_codes.first(),
            &self.location.commune,
            self.start_date,
        )
    }

    /// Whether two offers have the same [`Offer::dedup_key`].
    pub fn same_dedup_key(&self, other: &Offer) -> bool {
        self.employer.siret == other.employer.siret
            && self.rome_codes.first() == other.rome_codes.first()
            && self.location.commune == other.location.commune
            && self.start_date == other.start_date
    }

    /// The source that names the merged offer: the first in partner order.
    pub fn primary_source(&self) -> &OfferSource {
        self.sources
            .iter()
            .min_by_key(|s| s.partner)
            .expect("an offer has at least one source")
    }
}

/// [`Offer::dedup_hash`] of an offer's fields, for the forms of an offer
/// other than [`Offer`].
pub fn dedup_hash(
    siret: &Siret,
    first_rome: Option<&RomeCode>,
    commune: &InseeCommune,
    start_date: Option<NaiveDate>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    siret.as_str().hash(&mut h);
    first_rome.map(RomeCode::as_str).hash(&mut h);
    commune.as_str().hash(&mut h);
    start_date.hash(&mut h);
    h.finish()
}

/// Merges offers that several exchanges publish for the same position.
///
/// Copies are recognised by [`DedupKey`] across different partners only: two
/// offers of one exchange are two positions even when their keys agree. The
/// merged offer keeps the fields of its primary source (CCI before CMA) and
/// fills what that source leaves empty from the others.
pub fn merge_duplicates(offers: Vec<Arc<Offer>>) -> Vec<Arc<Offer>> {
    // Offers are grouped by a hash of their key, compared whole within a
    // group: no key is copied, and a fast hash serves (searches merge tens
    // of thousands of records).
    let key_hash = Offer::dedup_hash;
    let same_key = Offer::same_dedup_key;
    let mut merged: Vec<Arc<Offer>> = Vec::with_capacity(offers.len());
    let mut by_key: rustc_hash::FxHashMap<u64, Vec<usize>> = Default::default();
    let mut sorted = offers;
    sorted.sort_by_key(|o| o.primary_source().partner);
    for offer in sorted {
        let partner = offer.primary_source().partner;
        let slots = by_key.entry(key_hash(&offer)).or_default();
        let target = slots.iter().copied().find(|&i| {
            same_key(&merged[i], &offer) && merged[i].sources.iter().all(|s| s.partner != partner)
        });
        match target {
            Some(i) => absorb(Arc::make_mut(&mut merged[i]), Arc::unwrap_or_clone(offer)),
            None => {
                slots.push(merged.len());
                merged.push(offer);
            }
        }
    }
    merged
}

fn absorb(into: &mut Offer, other: Offer) {
    into.sources.extend(other.sources);
    into.description = into.description.take().or(other.description);
    into.level = into.level.or(other.level);
    into.duration_months = into.duration_months.or(other.duration_months);
    into.rhythm = into.rhythm.take().or(other.rhythm);
    into.expires_at = into.expires_at.or(other.expires_at);
    into.published_at = into.published_at.min(other.published_at);
    let e = &mut into.employer;
    e.size = e.size.take().or(other.employer.size);
    e.naf = e.naf.take().or(other.employer.naf);
    e.opco = e.opco.take().or(other.employer.opco);
    e.public_type = e.public_type.or(other.employer.public_type);
    let l = &mut into.location;
    l.postcode = l.postcode.take().or(other.location.postcode);
    l.address = l.address.take().or(other.location.address);
    l.coordinates = l.coordinates.or(other.location.coordinates);
    for code in other.rome_codes {
        if !into.rome_codes.contains(&code) {
            into.rome_codes.push(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner::examples;

    fn offer(partner: Partner, id: &str, siret: &str, published: &str) -> Offer {
        Offer {
            sources: vec![OfferSource {
                partner,
                partner_id: id.into(),
                url: None,
            }],
            title: format!("offer {id}").into(),
            description: None,
            rome_codes: vec![RomeCode::parse("D1102").unwrap()],
            level: None,
            employer: Employer {
                siret: Siret::parse(siret).unwrap(),
                name: "Boulangerie".into(),
                size: None,
                naf: None,
                opco: None,
                public_type: None,
            },
            location: Location {
                commune: InseeCommune::parse("14118").unwrap(),
                postcode: None,
                address: None,
                coordinates: None,
            },
            start_date: NaiveDate::from_ymd_opt(2027, 9, 1),
            duration_months: Some(24),
            rhythm: None,
            openings: 1,
            published_at: published.parse().unwrap(),
            expires_at: None,
            status: OfferStatus::Active,
        }
    }

    #[test]
    fn the_same_position_on_two_exchanges_is_one_offer() {
        let cma = offer(
            examples::partner("cma"),
            "m1",
            "73282932000074",
            "2026-10-02T00:00:00Z",
        );
        let mut cci = offer(
            examples::partner("cci"),
            "c1",
            "73282932000074",
            "2026-10-01T00:00:00Z",
        );
        cci.level = DiplomaLevel::new(3).ok();
        let merged = merge_duplicates(vec![Arc::new(cma), Arc::new(cci)]);
        assert_eq!(merged.len(), 1);
        let o = &merged[0];
        assert_eq!(o.primary_source().partner_id, "c1");
        assert_eq!(o.sources.len(), 2);
        assert_eq!(o.published_at.to_rfc3339(), "2026-10-01T00:00:00+00:00");
    }

    #[test]
    fn two_positions_of_one_exchange_stay_two() {
        let a = offer(
            examples::partner("cma"),
            "m1",
            "73282932000074",
            "2026-10-02T00:00:00Z",
        );
        let b = offer(
            examples::partner("cma"),
            "m2",
            "73282932000074",
            "2026-10-02T00:00:00Z",
        );
        let c = offer(
            examples::partner("cci"),
            "c1",
            "73282932000074",
            "2026-10-02T00:00:00Z",
        );
        let merged = merge_duplicates(vec![Arc::new(a), Arc::new(b), Arc::new(c)]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged.iter().map(|o| o.sources.len()).sum::<usize>(), 3);
    }
}
