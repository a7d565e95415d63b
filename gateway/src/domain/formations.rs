//! Apprenticeship programmes of the training catalogue.

use std::collections::BTreeMap;
use std::sync::Arc;

use passerelle_schema::{
    Departement, DiplomaLevel, Formation, InseeCommune, Near, Rncp, RomeCode, Uai,
};

use crate::domain::words::{Said, Words, WordsIndex, WordsStatistics};
use crate::partners::sync::{Snapshot, SyncedFeed};

/// A training catalogue.
pub type FormationFeed = SyncedFeed<Formation>;

/// What programmes to list; every part must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormationFilter {
    /// Leading to any of these occupations.
    pub rome: Vec<RomeCode>,
    /// Preparing this certification.
    pub rncp: Option<Rncp>,
    /// At this level.
    pub level: Option<DiplomaLevel>,
    /// Taught in this département, at any of its places.
    pub departement: Option<Departement>,
    /// Taught in this commune, at any of its places.
    pub commune: Option<InseeCommune>,
    /// Taught around this place, at any of its places.
    pub near: Option<Near>,
    /// Run by this CFA.
    pub cfa: Option<Uai>,
    /// With free places (`true`) or full (`false`).
    pub has_vacancies: Option<bool>,
    /// With these words (see [`crate::domain::words`]) in the title,
    /// objective, CFA, occupation or places; folded.
    pub text: Option<String>,
}

impl FormationFilter {
    /// The words to find, read.
    pub fn words(&self) -> Option<Arc<Words>> {
        Words::cached(self.text.as_deref()?)
    }

    /// Whether a programme matches.
    pub fn matches(&self, f: &Formation) -> bool {
        self.matches_beside_words(f) && self.words().is_none_or(|w| w.matches(&said(f)))
    }

    /// Whether a programme matches, its words aside.
    fn matches_beside_words(&self, f: &Formation) -> bool {
        (self.rome.is_empty() || f.rome_codes.iter().any(|r| self.rome.contains(r)))
            && self
                .rncp
                .as_ref()
                .is_none_or(|r| f.rncp.as_ref() == Some(r) || f.rncp_codes.contains(r))
            && self.level.is_none_or(|l| f.level == Some(l))
            && self
                .departement
                .as_ref()
                .is_none_or(|d| f.communes().any(|c| c.departement() == *d))
            && self
                .commune
                .as_ref()
                .is_none_or(|c| f.communes().any(|at| at == c))
            && self.near.is_none_or(|n| f.communes().any(|at| n.holds(at)))
            && self
                .cfa
                .as_ref()
                .is_none_or(|u| f.cfa.uai.as_ref() == Some(u))
            && self.has_vacancies.is_none_or(|v| (f.vacancies > 0) == v)
    }
}

/// The distance from `near`'s centre to a programme's nearest place whose
/// position is known, in kilometres.
pub fn distance_km(f: &Formation, near: &Near) -> Option<f64> {
    f.communes()
        .filter_map(|c| near.distance_to(c))
        .min_by(f64::total_cmp)
}

/// A programme's places and free places in Normandy: `None` for a
/// programme all of whose places are elsewhere, which the Région's figures
/// do not count.
pub fn places_in_normandy(f: &Formation) -> Option<(u32, u32)> {
    if f.places.is_empty() {
        return Some((f.capacity, f.vacancies));
    }
    f.places_in_normandy()
        .map(|p| (p.capacity, p.vacancies))
        .reduce(|a, b| (a.0 + b.0, a.1 + b.1))
}

/// A programme's places and free places by the département they are in: a
/// programme taught in two départements has its places split between them.
/// A place whose commune is unknown counts at the programme's commune; a
/// programme whose commune is unknown too is in no département. Places
/// outside Normandy are not counted.
pub fn places_by_departement(f: &Formation) -> BTreeMap<Departement, (u32, u32)> {
    places_by(f, |c| c.departement())
}

/// A programme's places (capacity, vacancies) by commune, counted as
/// [`places_by_departement`] counts them.
pub fn places_by_commune(f: &Formation) -> BTreeMap<String, (u32, u32)> {
    places_by(f, |c| c.as_str().to_owned())
}

fn places_by<K: Ord>(f: &Formation, key: impl Fn(&InseeCommune) -> K) -> BTreeMap<K, (u32, u32)> {
    let mut out: BTreeMap<K, (u32, u32)> = BTreeMap::new();
    for p in f.places_in_normandy() {
        if let Some(c) = p.commune.as_ref().or(f.commune.as_ref()) {
            let d = out.entry(key(c)).or_default();
            d.0 += p.capacity;
            d.1 += p.vacancies;
        }
    }
    if let (true, Some(c)) = (f.places.is_empty(), &f.commune) {
        out.insert(key(c), (f.capacity, f.vacancies));
    }
    out
}

/// The programmes of a search, in identifier order.
pub struct Programmes {
    /// The programmes.
    pub items: Vec<Arc<Formation>>,
    /// For a search by words: each programme's score, by position (the
    /// higher, the more relevant).
    pub scores: Option<Arc<[f32]>>,
}

/// Lists programmes from the synced catalogues, in identifier order; a
/// search by words reads the records its words find, from each
/// catalogue's words index.
pub fn search(catalogues: &[Arc<FormationFeed>], filter: &FormationFilter) -> Programmes {
    let snapshots: Vec<_> = catalogues.iter().map(|feed| feed.snapshot()).collect();
    let mut out: Vec<(Arc<Formation>, f32)> = Vec::new();
    let words = filter.words();
    match &words {
        None => {
            for s in &snapshots {
                out.extend(
                    s.records
                        .iter()
                        .filter(|f| filter.matches_beside_words(f))
                        .map(|f| (f.clone(), 0.0)),
                );
            }
        }
        Some(words) => {
            let indexes: Vec<Arc<WordsIndex>> = snapshots.iter().map(|s| words_index(s)).collect();
            let statistics = WordsStatistics(indexes.iter().map(|i| &**i).collect());
            for (s, index) in snapshots.iter().zip(&indexes) {
                out.extend(
                    index
                        .search(words, &statistics)
                        .into_iter()
                        .map(|(at, score)| (&s.records[at as usize], score))
                        .filter(|(f, _)| filter.matches_beside_words(f))
                        .map(|(f, score)| (f.clone(), score)),
                );
            }
        }
    }
    out.sort_by(|(a, _), (b, _)| {
        a.partner_id
            .cmp(&b.partner_id)
            .then_with(|| a.partner.cmp(&b.partner))
    });
    let scores = words.map(|_| out.iter().map(|(_, score)| *score).collect());
    Programmes {
        items: out.into_iter().map(|(f, _)| f).collect(),
        scores,
    }
}

/// What a programme says, for a words search.
fn said(f: &Formation) -> Said<'_> {
    Said {
        title: &f.title,
        occupations: Said::labels_of(&f.rome_codes),
        body: [f.objective.as_deref(), f.cfa.name.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        places: Said::places_of(f.communes()),
        communes: f.communes().map(|c| c.as_str()).collect(),
        rome: f.rome_codes.iter().collect(),
        level: f.level,
    }
}

/// The words index of a catalogue's snapshot, built at its first search
/// and kept with it.
pub fn words_index(snapshot: &Snapshot<Formation>) -> Arc<WordsIndex> {
    snapshot.derived(|s| WordsIndex::of(&s.records, |f, add| add(&said(f))))
}

#[cfg(test)]
mod tests {
    use passerelle_schema::{Place, Session, Siret, TrainingOrg};

    use super::*;

    fn place(commune: Option<&str>, capacity: u32, vacancies: u32) -> Place {
        let code = commune.map(|c| passerelle_schema::CommuneCode::parse(c).unwrap());
        Place {
            partner_id: None,
            address: None,
            postcode: None,
            city: None,
            commune: code
                .as_ref()
                .filter(|c| c.is_normandy())
                .map(|c| InseeCommune::parse(c.as_str()).unwrap()),
            commune_code: code,
            uai: None,
            capacity,
            vacancies,
        }
    }

    fn formation(commune: Option<&str>, places: Vec<Place>) -> Formation {
        Formation {
            partner: passerelle_connectors::carif::PARTNER,
            partner_id: "F-1".into(),
            title: "BP Boulanger".into(),
            objective: None,
            contents: None,
            rncp: None,
            rncp_codes: Vec::new(),
            certifinfo_codes: Vec::new(),
            formacodes: Vec::new(),
            level: None,
            rome_codes: Vec::new(),
            cfa: TrainingOrg {
                uai: None,
                siret: Some(Siret::parse("73282932000074").unwrap()),
                name: Some("CFA".into()),
            },
            contact: None,
            commune: commune.map(|c| InseeCommune::parse(c).unwrap()),
            capacity: places.iter().map(|p| p.capacity).sum(),
            vacancies: places.iter().map(|p| p.vacancies).sum(),
            sessions: vec![Session {
                place: 0,
                start: None,
                end: None,
                recruiting: Some(true),
                places: 0,
                vacancies: 0,
            }],
            places,
            hours_centre: None,
            hours_company: None,
        }
    }

    #[test]
    fn a_programme_taught_in_two_departements_splits_its_places_between_them() {
        let f = formation(
            Some("14366"),
            vec![
                place(Some("14366"), 20, 4),
                place(Some("27229"), 12, 3),
                place(None, 5, 1),
            ],
        );
        let by: Vec<(String, (u32, u32))> = places_by_departement(&f)
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        assert_eq!(by, [("14".to_owned(), (25, 5)), ("27".to_owned(), (12, 3))]);
        let (capacity, vacancies) = places_by_departement(&f)
            .values()
            .fold((0, 0), |(c, v), (pc, pv)| (c + pc, v + pv));
        assert_eq!((capacity, vacancies), (f.capacity, f.vacancies));
        // A programme at several places is found at each of them.
        let filter = FormationFilter {
            departement: Some(Departement::parse("27").unwrap()),
            ..Default::default()
        };
        assert!(filter.matches(&f));
        let filter = FormationFilter {
            commune: Some(InseeCommune::parse("76540").unwrap()),
            ..Default::default()
        };
        assert!(!filter.matches(&f));
    }

    #[test]
    fn places_across_the_border_are_kept_but_not_counted_in_normandy() {
        // Nogent-le-Rotrou (Eure-et-Loir) and Évreux; then Tours alone.
        let f = formation(
            Some("27229"),
            vec![place(Some("28280"), 10, 2), place(Some("27229"), 12, 3)],
        );
        assert_eq!(places_in_normandy(&f), Some((12, 3)));
        let by: Vec<(String, (u32, u32))> = places_by_departement(&f)
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        assert_eq!(by, [("27".to_owned(), (12, 3))]);
        let filter = FormationFilter {
            departement: Some(Departement::parse("27").unwrap()),
            ..Default::default()
        };
        assert!(filter.matches(&f));
        let tours = formation(None, vec![place(Some("37261"), 10, 2)]);
        assert_eq!(places_in_normandy(&tours), None);
        assert!(places_by_departement(&tours).is_empty());
        assert!(!filter.matches(&tours));
        assert!(
            FormationFilter::default().matches(&tours),
            "listed, not counted"
        );
    }
}
