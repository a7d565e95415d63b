//! Towns named in a search: the communes around them.

use std::sync::{Arc, LazyLock};

use passerelle_schema::reference;

use super::analysis::each_word;

/// How far from a town named records are found, in kilometres: a young
/// person's daily journey.
pub const PLACE_KM: f64 = 20.0;

/// The communes a search names by their names: those this populous or
/// more (a word like `vente` or `bois` is not taken for a village).
const PLACE_FROM: u32 = 2_000;
/// A town named in a search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    /// The commune's INSEE code.
    pub commune: &'static str,
    /// Its name's words, as the index keeps them: records in the town
    /// itself say them.
    pub stems: Vec<String>,
    /// The communes within [`PLACE_KM`], the town's own among them, by
    /// code: one list per town, shared by the searches that name it.
    pub around: Arc<[&'static str]>,
}

impl Place {
    /// The longest run of `words` at its start that names a town, and
    /// how many words it takes.
    fn named(words: &[&str]) -> Option<(usize, Place)> {
        (1..=words.len().min(4)).rev().find_map(|n| {
            let name = words[..n].join(" ");
            let commune = TOWNS.get(name.as_str())?;
            let around = around(commune)?;
            let mut stems = Vec::new();
            each_word(&commune.name, |w| stems.push(w.to_owned()));
            Some((
                n,
                Place {
                    commune: commune.code.as_str(),
                    stems,
                    around,
                },
            ))
        })
    }
}

/// The communes within [`PLACE_KM`] of a town, by code, kept per town.
fn around(town: &'static reference::Commune) -> Option<Arc<[&'static str]>> {
    static AROUND: LazyLock<moka::sync::Cache<&'static str, Option<Arc<[&'static str]>>>> =
        LazyLock::new(|| moka::sync::Cache::new(512));
    AROUND.get_with(town.code.as_str(), || {
        let centre = passerelle_schema::InseeCommune::parse(&town.code).ok()?;
        let near = passerelle_schema::Near {
            centre: centre.position()?,
            radius_km: PLACE_KM,
        };
        Some(
            reference::communes()
                .iter()
                .filter_map(|c| passerelle_schema::InseeCommune::parse(&c.code).ok())
                .filter(|c| near.holds(c))
                .map(|c| c.commune().code.as_str())
                .collect(),
        )
    })
}

/// Towns by their folded names, the most populous of a name.
static TOWNS: LazyLock<std::collections::HashMap<String, &'static reference::Commune>> =
    LazyLock::new(|| {
        let mut towns: std::collections::HashMap<String, &'static reference::Commune> =
            std::collections::HashMap::new();
        for c in reference::communes()
            .iter()
            .filter(|c| c.population >= PLACE_FROM)
        {
            let known = towns.entry(reference::fold_name(&c.name)).or_insert(c);
            if c.population > known.population {
                *known = c;
            }
        }
        towns
    });

/// Takes the first town named out of `words`: the place.
pub(super) fn take_place(words: &mut Vec<&str>) -> Option<Place> {
    for at in 0..words.len() {
        if let Some((n, place)) = Place::named(&words[at..]) {
            words.drain(at..at + n);
            return Some(place);
        }
    }
    None
}
