//! A search's words, read: the words to find, the diploma level and the
//! town named; and whether one record says them.

use std::sync::{Arc, LazyLock};

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};
use passerelle_schema::{reference, DiplomaLevel};

use super::analysis::{each_word, STOP_WORDS};
use super::place::{take_place, Place};
use super::Said;
use crate::domain::occupations::{Match, Occupations};

/// Words read beyond this many are not.
const MAX_WORDS: usize = 8;

/// A word this long or longer (folded, before stemming) may hold one typo.
const TYPO_FROM: usize = 5;

/// The occupations a run of words may name, at most.
const EXPANSION: usize = 3;
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
