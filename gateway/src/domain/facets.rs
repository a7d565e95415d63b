//! Counts to refine a search by, as a portal shows them beside its
//! results ("CAP (124) · Bac pro (58)"): the records of the search counted
//! by level, département, occupation, exchange and kind of employer, each
//! value with its label, the most frequent first.

use std::collections::HashMap;

use passerelle_schema::reference;
use passerelle_schema::{DiplomaLevel, Formation, InseeCommune, Partner, RomeCode};

use crate::partners::packed::OfferSummary;

/// A value to refine by, and how many records of the search have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// The value, as a filter takes it (`3`, `14`, `D1102`, `CCI`, `true`).
    pub value: String,
    /// Its name for people, when it has one.
    pub label: Option<String>,
    /// How many records have it.
    pub count: usize,
}

/// Counts of one dimension, by value.
#[derive(Debug)]
struct Counts<K>(HashMap<K, usize>);

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<K: std::hash::Hash + Eq + Copy + Ord> Counts<K> {
    fn add(&mut self, key: K) {
        *self.0.entry(key).or_default() += 1;
    }

    /// Each value with its label, the most frequent first, then by value.
    fn facets(
        &self,
        value: impl Fn(K) -> String,
        label: impl Fn(K) -> Option<String>,
    ) -> Vec<Facet> {
        let mut counted: Vec<(K, usize)> = self.0.iter().map(|(k, n)| (*k, *n)).collect();
        counted.sort_unstable_by(|(ka, a), (kb, b)| b.cmp(a).then_with(|| ka.cmp(kb)));
        counted
            .into_iter()
            .map(|(k, count)| Facet {
                value: value(k),
                label: label(k),
                count,
            })
            .collect()
    }
}

/// What the facets of offers and of programmes count alike.
#[derive(Debug, Default)]
pub struct SharedFacets {
    levels: Counts<u8>,
    departements: Counts<&'static str>,
    occupations: Counts<&'static str>,
}

impl SharedFacets {
    /// Counts a record once per value: its level, the départements of
    /// `communes` and the occupations (fiches métier) of `rome_codes`.
    fn add<'a>(
        &mut self,
        level: Option<DiplomaLevel>,
        communes: impl Iterator<Item = &'a InseeCommune>,
        rome_codes: &[RomeCode],
    ) {
        if let Some(level) = level {
            self.levels.add(level.get());
        }
        let mut departements: Vec<&'static str> = communes
            .filter_map(|c| departement_code(c.departement_code()))
            .collect();
        departements.sort_unstable();
        departements.dedup();
        for d in departements {
            self.departements.add(d);
        }
        let mut occupations: Vec<&'static str> = rome_codes
            .iter()
            .filter_map(|r| reference::rome_parent(r.as_str()))
            .collect();
        occupations.sort_unstable();
        occupations.dedup();
        for o in occupations {
            self.occupations.add(o);
        }
    }

    /// By diploma level.
    pub fn levels(&self) -> Vec<Facet> {
        self.levels.facets(|l| l.to_string(), level_label)
    }

    /// By département: of an offer's workplace, of a programme's places.
    pub fn departements(&self) -> Vec<Facet> {
        self.departements.facets(str::to_owned, |d| {
            reference::departement_name(d).map(str::to_owned)
        })
    }

    /// By occupation (the ROME's fiche métier).
    pub fn occupations(&self) -> Vec<Facet> {
        self.occupations.facets(str::to_owned, |r| {
            reference::rome_label(r).map(str::to_owned)
        })
    }
}

/// A Normandy département's code as the reference holds it; `None` for
/// one outside the region.
fn departement_code(code: &str) -> Option<&'static str> {
    reference::departements()
        .iter()
        .find(|(c, _)| c == code)
        .map(|(c, _)| c.as_str())
}

/// What a diploma level names (`3` → `CAP, BEP`).
fn level_label(level: u8) -> Option<String> {
    let label = match level {
        3 => "CAP, BEP",
        4 => "Bac, bac pro, BP",
        5 => "Bac +2 : BTS, DUT",
        6 => "Bac +3 : licence, BUT",
        7 => "Bac +5 : master, ingénieur",
        8 => "Doctorat",
        _ => return None,
    };
    Some(label.to_owned())
}

/// The facets of a search of offers.
#[derive(Debug, Default)]
pub struct OfferFacets {
    /// By level, département and occupation.
    pub shared: SharedFacets,
    sources: Counts<Partner>,
    public: Counts<bool>,
}

impl OfferFacets {
    /// The facets of `offers`, each counted once per value it has.
    pub fn of<'a>(offers: impl Iterator<Item = OfferSummary<'a>>) -> Self {
        let mut facets = Self::default();
        for o in offers {
            facets
                .shared
                .add(o.level, std::iter::once(o.commune), o.rome_codes);
            let mut partners: Vec<Partner> = o.sources.partners().collect();
            partners.sort_unstable();
            partners.dedup();
            for p in partners {
                facets.sources.add(p);
            }
            facets.public.add(o.public);
        }
        facets
    }

    /// By exchange: an offer two exchanges publish counts for both.
    pub fn sources(&self) -> Vec<Facet> {
        self.sources.facets(
            |p| p.info().api_name.to_owned(),
            |p| Some(p.name().to_owned()),
        )
    }

    /// By kind of employer: public (`true`) or private (`false`).
    pub fn public_sector(&self) -> Vec<Facet> {
        self.public.facets(
            |p| p.to_string(),
            |p| {
                Some(match p {
                    true => "Employeurs publics".to_owned(),
                    false => "Employeurs privés".to_owned(),
                })
            },
        )
    }
}

/// The facets of a search of programmes.
#[derive(Debug, Default)]
pub struct FormationFacets {
    /// By level, département and occupation.
    pub shared: SharedFacets,
    /// Programmes with free places.
    pub with_vacancies: usize,
}

impl FormationFacets {
    /// The facets of `programmes`; a programme taught in two départements
    /// counts in each.
    pub fn of<'a>(programmes: impl Iterator<Item = &'a Formation>) -> Self {
        let mut facets = Self::default();
        for f in programmes {
            facets.shared.add(f.level, f.communes(), &f.rome_codes);
            if f.vacancies > 0 {
                facets.with_vacancies += 1;
            }
        }
        facets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_counted_once_per_record_most_frequent_first() {
        let mut counts: Counts<&str> = Counts::default();
        for v in ["b", "a", "b", "c", "a", "b"] {
            counts.add(v);
        }
        let facets = counts.facets(str::to_owned, |v| Some(v.to_uppercase()));
        let listed: Vec<(&str, usize)> =
            facets.iter().map(|f| (f.value.as_str(), f.count)).collect();
        assert_eq!(listed, [("b", 3), ("a", 2), ("c", 1)]);
        assert_eq!(facets[0].label.as_deref(), Some("B"));
    }

    #[test]
    fn occupations_count_as_their_fiche_and_departements_once() {
        let mut common = SharedFacets::default();
        let caen = InseeCommune::parse("14118").unwrap();
        let bayeux = InseeCommune::parse("14047").unwrap();
        let rouen = InseeCommune::parse("76540").unwrap();
        let codes = [
            RomeCode::parse("D1102").unwrap(),
            RomeCode::parse("D1108").unwrap(),
        ];
        common.add(
            Some(DiplomaLevel::new(3).unwrap()),
            [&caen, &bayeux, &rouen].into_iter(),
            &codes,
        );
        let occupations = common.occupations();
        assert_eq!(occupations.len(), 1, "D1108 is a finer code of D1102");
        assert_eq!(occupations[0].value, "D1102");
        assert_eq!(occupations[0].count, 1);
        let departements = common.departements();
        assert_eq!(departements.len(), 2);
        assert!(departements.iter().all(|d| d.count == 1));
        assert_eq!(common.levels()[0].label.as_deref(), Some("CAP, BEP"));
    }
}
