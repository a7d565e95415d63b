//! What a record says, in the parts a words search reads.

use passerelle_schema::{reference, DiplomaLevel, RomeCode};

/// What a record says, in the parts a words search reads.
#[derive(Debug, Default)]
pub struct Said<'a> {
    /// Its title: what counts most.
    pub title: &'a str,
    /// Its occupations' labels, from the ROME referential.
    pub occupations: Vec<&'static str>,
    /// Its description, employer, CFA.
    pub body: Vec<&'a str>,
    /// Its communes' and départements' names.
    pub places: Vec<&'static str>,
    /// Its communes' INSEE codes.
    pub communes: Vec<&'a str>,
    /// Its ROME codes.
    pub rome: Vec<&'a RomeCode>,
    /// Its diploma level.
    pub level: Option<DiplomaLevel>,
}

impl<'a> Said<'a> {
    /// The labels of `codes` and of the occupations they belong to, for
    /// [`Said::occupations`].
    pub fn labels_of(codes: impl IntoIterator<Item = &'a RomeCode>) -> Vec<&'static str> {
        let mut labels = Vec::new();
        for code in codes {
            let parent = reference::rome_parent(code.as_str()).filter(|p| *p != code.as_str());
            for label in std::iter::once(code.as_str())
                .chain(parent)
                .filter_map(reference::rome_label)
            {
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
        }
        labels
    }

    /// The names of `communes` and of their départements, for
    /// [`Said::places`].
    pub fn places_of<'c>(
        communes: impl IntoIterator<Item = &'c passerelle_schema::InseeCommune>,
    ) -> Vec<&'static str> {
        let mut places = Vec::new();
        for c in communes {
            for name in [Some(c.name()), c.departement().name()]
                .into_iter()
                .flatten()
            {
                if !places.contains(&name) {
                    places.push(name);
                }
            }
        }
        places
    }

    /// The ROME codes an index files the record under: its own, and the
    /// occupations (fiches) they belong to.
    pub fn filed_under(&self) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = Vec::new();
        for code in &self.rome {
            let own = reference::rome_codes()
                .binary_search_by(|(c, _)| (*c).cmp(code.as_str()))
                .ok()
                .map(|i| reference::rome_codes()[i].0);
            for c in own.into_iter().chain(reference::rome_parent(code.as_str())) {
                if !codes.contains(&c) {
                    codes.push(c);
                }
            }
        }
        codes
    }
}
