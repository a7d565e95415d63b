//! Words as young people type them, read as French and matched against what
//! records say: the analysis shared by the words indexes of the synced feeds
//! ([`WordsIndex`], tantivy) and the matching of a single record (an alert's
//! new offer), so that a search and an alert find the same records.
//!
//! What is typed is read word by word:
//! - folded (case, accents and punctuation aside), `l'` and `d'` elided,
//!   small words and what every record is (`apprenti`, `alternance`,
//!   `H/F`) dropped, feminine job titles read as masculine, the rest
//!   stemmed (Snowball's French stemmer, twice: `boulangères`,
//!   `boulangerie` and `boulanger` are one word);
//! - each word must be said by the record: in its title, its occupation's
//!   label, its description, employer or CFA, or its place; a word of five
//!   letters or more may be one edit away from the record's (a typo);
//! - words that name an occupation (`pâtissier`, found as
//!   [`Occupations`] finds it) also match the records filed under it,
//!   whatever their titles say;
//! - a diploma named (`CAP`, `bac pro`, `BTS`) is not a word to find but
//!   a level to prefer: records at that level rank first;
//! - a town named (`caen`, `le havre`, `st lo`: a Normandy commune of
//!   2,000 inhabitants or more) is not a word either but a place: records
//!   within 20 km match, those in the town itself rank first.
//!
//! Records are ranked by BM25 over those parts, the title counting most.

mod index;
mod masculine;

use std::sync::{Arc, LazyLock};

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};
use passerelle_schema::{reference, DiplomaLevel, RomeCode};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

pub use index::{Scored, WordsIndex, WordsStatistics};

use super::occupations::{Match, Occupations};

/// The longest text read, in characters: more is refused.
pub const MAX_TEXT: usize = 200;

/// Words read beyond this many are not.
const MAX_WORDS: usize = 8;

/// A word this long or longer (folded, before stemming) may hold one typo.
const TYPO_FROM: usize = 5;

/// The occupations a run of words may name, at most.
const EXPANSION: usize = 3;

/// How far from a town named records are found, in kilometres: a young
/// person's daily journey.
pub const PLACE_KM: f64 = 20.0;

/// The communes a search names by their names: those this populous or
/// more (a word like `vente` or `bois` is not taken for a village).
const PLACE_FROM: u32 = 2_000;

/// Words that say nothing a record could be told apart by: French small
/// words (`l'`, `d'` fold to `l`, `d`), what every record of an
/// apprenticeship plan is, and what people add to a search (`formation`,
/// `offre`, `je cherche`). Folded.
const STOP_WORDS: &[&str] = &[
    "a",
    "alternance",
    "alternant",
    "alternante",
    "apprenti",
    "apprentie",
    "apprentis",
    "apprentissage",
    "au",
    "aux",
    "avec",
    "c",
    "ce",
    "cherche",
    "chez",
    "contrat",
    "d",
    "dans",
    "de",
    "des",
    "du",
    "ecole",
    "emploi",
    "emplois",
    "en",
    "et",
    "f",
    "formation",
    "formations",
    "h",
    "j",
    "je",
    "job",
    "jobs",
    "l",
    "la",
    "le",
    "les",
    "m",
    "metier",
    "metiers",
    "n",
    "offre",
    "offres",
    "ou",
    "par",
    "poste",
    "postes",
    "pour",
    "pres",
    "qu",
    "recherche",
    "s",
    "stage",
    "stages",
    "sur",
    "t",
    "un",
    "une",
    "vers",
];

/// Diplomas as people name them, with the level they prepare (folded
/// words, `bac pro` as two).
const DIPLOMAS: &[(&[&str], u8)] = &[
    (&["cap"], 3),
    (&["bep"], 3),
    (&["mc"], 3),
    (&["bac", "pro"], 4),
    (&["bp"], 4),
    (&["bac"], 4),
    (&["bts"], 5),
    (&["dut"], 5),
    (&["but"], 6),
    (&["licence"], 6),
    (&["master"], 7),
    (&["ingenieur"], 7),
];

/// The analysis of French text, for records and searches alike.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            // And single letters (`apprenti(e)`).
            STOP_WORDS
                .iter()
                .map(|w| (*w).to_owned())
                .chain(('a'..='z').map(String::from)),
        ))
        .filter(masculine::Masculine)
        // Twice: Snowball's French stemmer takes one suffix at a time, so
        // that `boulangers`, `boulangerie` and `boulanger` are one word
        // only after a second pass (`boulanger`, `boulang`).
        .filter(Stemmer::new(Language::French))
        .filter(Stemmer::new(Language::French))
        .build()
}

thread_local! {
    /// Each thread's analyzer: building one per text would cost more than
    /// the analysis.
    static ANALYZER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(analyzer());
}

/// The words of `text` as the index keeps them, handed to `each`.
pub fn each_word(text: &str, mut each: impl FnMut(&str)) {
    ANALYZER.with_borrow_mut(|a| {
        let mut stream = a.token_stream(text);
        while let Some(token) = stream.next() {
            each(&token.text);
        }
    });
}

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

/// One word to find.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Word {
    /// As the index keeps it: folded and stemmed.
    pub stem: String,
    /// Whether it may be one edit away.
    pub typo: bool,
    /// The occupations (ROME codes) the run of words it belongs to names:
    /// records filed under them match this word whatever they say.
    pub occupations: Vec<&'static str>,
}

/// A words search, read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Words {
    /// Every one must match.
    pub words: Vec<Word>,
    /// The diploma level named, which ranks its records first.
    pub level: Option<DiplomaLevel>,
    /// The town named: records must be around it.
    pub place: Option<Place>,
}

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

impl Words {
    /// [`Words::read`], kept for the next search of the same text: an
    /// alert's filter is matched against every new offer.
    pub fn cached(text: &str) -> Option<Arc<Words>> {
        static READ: LazyLock<moka::sync::Cache<String, Option<Arc<Words>>>> =
            LazyLock::new(|| moka::sync::Cache::new(2_000));
        READ.get_with_by_ref(text, || Words::read(text).map(Arc::new))
    }

    /// Reads what was typed; `None` when nothing is left to find (only
    /// small words, or none).
    pub fn read(text: &str) -> Option<Words> {
        let folded = reference::fold_name(text);
        let mut raw: Vec<&str> = folded.split_whitespace().collect();
        let level = take_diploma(&mut raw);
        let place = take_place(&mut raw);
        raw.retain(|w| !STOP_WORDS.contains(w));
        raw.truncate(MAX_WORDS);
        let mut words: Vec<(usize, Word)> = Vec::new();
        for (at, w) in raw.iter().enumerate() {
            each_word(w, |stem| {
                if !words.iter().any(|(_, x)| x.stem == stem) {
                    words.push((
                        at,
                        Word {
                            stem: stem.to_owned(),
                            typo: w.chars().count() >= TYPO_FROM,
                            occupations: Vec::new(),
                        },
                    ));
                }
            });
        }
        if words.is_empty() {
            // A diploma or a town alone (`cap`, `caen`) is a search of it.
            return (level.is_some() || place.is_some()).then(|| Words {
                words: Vec::new(),
                level,
                place,
            });
        }
        // The longest runs of words that name an occupation, left to right.
        let mut at = 0;
        while at < raw.len() {
            let named = (at + 1..=raw.len()).rev().find_map(|end| {
                let found = named_occupations(&raw[at..end].join(" "));
                (!found.is_empty()).then_some((end, found))
            });
            match named {
                Some((end, found)) => {
                    for (_, word) in words.iter_mut().filter(|(w, _)| (at..end).contains(w)) {
                        word.occupations.clone_from(&found);
                    }
                    at = end;
                }
                None => at += 1,
            }
        }
        Some(Words {
            words: words.into_iter().map(|(_, w)| w).collect(),
            level,
            place,
        })
    }

    /// Whether a record says every word (see the module's rules), as the
    /// index finds it.
    pub fn matches(&self, said: &Said<'_>) -> bool {
        let around = self
            .place
            .as_ref()
            .is_none_or(|p| said.communes.iter().any(|c| p.around.contains(c)));
        if !around {
            return false;
        }
        if self.words.is_empty() {
            // A town alone, or a diploma alone.
            return self.place.is_some() || self.level.is_none_or(|l| said.level == Some(l));
        }
        let mut exact: Vec<String> = Vec::new();
        let mut typo: Vec<String> = Vec::new();
        each_word(said.title, |w| typo.push(w.to_owned()));
        for text in &said.occupations {
            each_word(text, |w| typo.push(w.to_owned()));
        }
        for text in &said.places {
            each_word(text, |w| typo.push(w.to_owned()));
        }
        for text in &said.body {
            each_word(text, |w| exact.push(w.to_owned()));
        }
        let filed = said.filed_under();
        self.words.iter().all(|word| {
            let dfa = word.typo.then(|| TYPOS.build_dfa(&word.stem));
            typo.iter().chain(&exact).any(|w| *w == word.stem)
                || dfa.is_some_and(|dfa| {
                    typo.iter()
                        .any(|w| matches!(dfa.eval(w), Distance::Exact(d) if d <= 1))
                })
                || word.occupations.iter().any(|o| filed.contains(o))
        })
    }
}

/// One edit, a swap of two letters counting as one, as the index's fuzzy
/// terms count them.
static TYPOS: LazyLock<LevenshteinAutomatonBuilder> =
    LazyLock::new(|| LevenshteinAutomatonBuilder::new(1, true));

/// Takes the first diploma named out of `words`: its level.
fn take_diploma(words: &mut Vec<&str>) -> Option<DiplomaLevel> {
    for (names, level) in DIPLOMAS {
        if let Some(at) = words.windows(names.len()).position(|w| w == *names) {
            words.drain(at..at + names.len());
            return DiplomaLevel::new(*level).ok();
        }
    }
    None
}

/// Takes the first town named out of `words`: the place.
fn take_place(words: &mut Vec<&str>) -> Option<Place> {
    for at in 0..words.len() {
        if let Some((n, place)) = Place::named(&words[at..]) {
            words.drain(at..at + n);
            return Some(place);
        }
    }
    None
}

/// The occupations (fiches métier) `words` name: labels all of whose words
/// are typed, or whose words the typed ones start, the best kind of match
/// only, at most [`EXPANSION`].
fn named_occupations(words: &str) -> Vec<&'static str> {
    let hits = Occupations::shared().search(words, EXPANSION * 4);
    let Some(best) = hits.first().map(|h| h.matched) else {
        return Vec::new();
    };
    if best == Match::Typo {
        return Vec::new();
    }
    let mut codes: Vec<&'static str> = Vec::new();
    for hit in hits.iter().filter(|h| h.matched == best) {
        if codes.len() < EXPANSION && !codes.contains(&hit.rome) {
            codes.push(hit.rome);
        }
    }
    codes
}

#[cfg(test)]
mod tests;
