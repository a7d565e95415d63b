//! Occupations found by what a young person types: the ROME referential's
//! labels and job titles (appellations), folded, matched word by word
//! (exactly, as the start of a word, or with one typo on longer words) and
//! ranked, one hit per occupation.
//!
//! The words of every label are kept in order: the words a typed one
//! starts are a run of them, found by two binary searches. For typos, the
//! same words are a finite-state set (`fst`), walked by a prefix
//! Levenshtein automaton (`levenshtein_automata`, tantivy's) along the
//! branches within one edit of what was typed, and only when exact words
//! and starts of words leave room in the answer.

use std::sync::LazyLock;

use fst::{IntoStreamer, Streamer};
use levenshtein_automata::LevenshteinAutomatonBuilder;
use passerelle_schema::reference::{self, fold_name};

/// The longest search read, in characters: more is refused.
pub const MAX_SEARCH: usize = 100;

/// Words typed beyond this many are not read.
const MAX_WORDS: usize = 8;

/// A typed word this long or longer may hold one typo.
const TYPO_FROM: usize = 5;

/// Words that tell nothing of an occupation: small words (`l'`, `d'` fold
/// to `l`, `d`), diplomas and what a search for an apprenticeship adds
/// (`CAP coiffure`, `apprenti boulanger`, `H/F`). Dropped from what is
/// typed, unless nothing else is typed.
const STOP_WORDS: &[&str] = &[
    "a",
    "alternance",
    "apprenti",
    "apprentie",
    "apprentissage",
    "au",
    "aux",
    "bac",
    "bep",
    "bp",
    "bts",
    "but",
    "cap",
    "d",
    "de",
    "des",
    "du",
    "dut",
    "en",
    "et",
    "f",
    "h",
    "l",
    "la",
    "le",
    "les",
    "mc",
    "ou",
    "pro",
    "un",
    "une",
];

/// How a hit's words matched what was typed, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Match {
    /// Every word typed is a word of the label.
    Exact,
    /// Every word typed is a word of the label or the start of one.
    Prefix,
    /// One of the words typed is one edit away from a word of the label,
    /// or from its start.
    Typo,
}

/// One occupation found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The occupation's ROME code (`D1102`): one of the 532 fiches métier,
    /// which offers and programmes are filed under.
    pub rome: &'static str,
    /// The label that matched: the job title's, or a code's own.
    pub label: &'static str,
    /// The job title whose words matched, `None` when a code's own label
    /// did.
    pub appellation: Option<&'static reference::RomeAppellation>,
    /// How well.
    pub matched: Match,
}

/// A label that may be found: an occupation's own, or one of its job
/// titles.
struct Entry {
    /// The occupation, by its rank in [`reference::rome_codes`].
    rome: u16,
    /// The job title, by its rank in [`reference::rome_appellations`].
    appellation: Option<u32>,
    /// The label.
    label: &'static str,
    /// The folded label's length, shorter labels ranking first.
    length: u16,
}

/// The labels and their words.
pub struct Occupations {
    entries: Vec<Entry>,
    /// Every folded word, in order: a word's rank names its postings, and
    /// the words a typed one starts are a run of ranks.
    words: Vec<Box<str>>,
    /// The same words in a finite-state set, for the search by typo.
    typo_words: fst::Map<Vec<u8>>,
    /// By word rank: the entries holding it, ascending, in one list.
    postings: Vec<u32>,
    /// Where each word's postings start, and where the last ends.
    starts: Vec<u32>,
}

/// What a search writes as it goes, kept by each thread from one search
/// to the next, so that a keystroke allocates nothing it does not answer.
#[derive(Default)]
struct Scratch {
    /// By entry: how the word being read matched it, [`ABSENT`] if not.
    word: Vec<u8>,
    /// The entries the word being read matched.
    touched: Vec<u32>,
    /// By entry: its worst match over the words read, for `candidates`.
    found: Vec<u8>,
    /// The entries every word read so far matched.
    candidates: Vec<u32>,
    /// By occupation: its best entry's rank key, [`NO_KEY`] if none.
    best: Vec<(u8, u16, u32)>,
    /// The occupations with a best entry.
    occupations: Vec<u16>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = Default::default();
}

/// No entry yet for an occupation.
const NO_KEY: (u8, u16, u32) = (u8::MAX, u16::MAX, u32::MAX);

static TYPOS: LazyLock<LevenshteinAutomatonBuilder> =
    LazyLock::new(|| LevenshteinAutomatonBuilder::new(1, true));

static OCCUPATIONS: LazyLock<Occupations> = LazyLock::new(Occupations::build);

/// A word's matches, the absent ones [`ABSENT`].
const ABSENT: u8 = u8::MAX;

impl Occupations {
    /// The referential's occupations, indexed on first use.
    pub fn shared() -> &'static Occupations {
        &OCCUPATIONS
    }

    fn build() -> Self {
        let codes = reference::rome_codes();
        let rank: std::collections::HashMap<&str, u16> = (0u16..)
            .zip(codes)
            .map(|(i, (code, _))| (*code, i))
            .collect();
        // Each label found counts for its occupation (fiche métier), the
        // code offers and programmes are filed under.
        let occupation = |code: &str| {
            let parent = reference::rome_parent(code).unwrap_or(code);
            rank.get(parent).copied()
        };
        let mut labels: Vec<(Entry, String)> = Vec::new();
        for (i, a) in (0u32..).zip(reference::rome_appellations()) {
            let Some(rome) = occupation(a.rome) else {
                continue;
            };
            labels.push((entry(rome, Some(i), a.label), fold_name(a.label)));
        }
        // A code's label is the title of one of its job titles, as a rule:
        // it is searched on its own only where none is.
        for (code, label) in codes {
            let titled = reference::appellations_of(code)
                .iter()
                .any(|a| a.label == *label);
            if let (false, Some(rome)) = (titled, occupation(code)) {
                labels.push((entry(rome, None, label), fold_name(label)));
            }
        }
        let mut by_word: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
        for (e, (_, folded)) in (0u32..).zip(&labels) {
            for word in folded.split(' ').filter(|w| !w.is_empty()) {
                let list = by_word.entry(word.to_owned()).or_default();
                if list.last() != Some(&e) {
                    list.push(e);
                }
            }
        }
        let typo_words = fst::Map::from_iter((0u64..).zip(by_word.keys()).map(|(i, w)| (w, i)))
            .expect("words in order, each once");
        let mut postings = Vec::new();
        let mut starts = vec![0u32];
        let mut words = Vec::with_capacity(by_word.len());
        for (word, list) in by_word {
            words.push(word.into_boxed_str());
            postings.extend(list);
            starts.push(u32::try_from(postings.len()).expect("fewer than 2³² postings"));
        }
        Self {
            entries: labels.into_iter().map(|(e, _)| e).collect(),
            words,
            typo_words,
            postings,
            starts,
        }
    }

    /// The number of labels searched: occupations and job titles.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing to search.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The occupations whose label or a job title matches `search`, best
    /// first: by how the words matched, then the shorter label, then the
    /// code; each occupation once, with its best label.
    pub fn search(&self, search: &str, first: usize) -> Vec<Hit> {
        let folded = fold_name(&without_gender_marks(search));
        let all: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        let meaningful: Vec<&str> = all
            .iter()
            .copied()
            .filter(|w| !STOP_WORDS.contains(w))
            .collect();
        let typed = match meaningful.is_empty() {
            true => all,
            false => meaningful,
        };
        if typed.is_empty() || first == 0 {
            return Vec::new();
        }
        let typed = &typed[..typed.len().min(MAX_WORDS)];
        SCRATCH.with_borrow_mut(|scratch| {
            // Typos rank after every exact word and start of word: they are
            // read only when those leave room.
            let mut hits = self.ranked(typed, first, false, scratch);
            if hits.len() < first && typed.iter().any(|w| w.chars().count() >= TYPO_FROM) {
                hits = self.ranked(typed, first, true, scratch);
            }
            hits
        })
    }

    /// The best `first` occupations whose entries every word of `typed`
    /// matches, by typo too when `typos`.
    fn ranked(&self, typed: &[&str], first: usize, typos: bool, s: &mut Scratch) -> Vec<Hit> {
        if s.word.len() != self.entries.len() {
            s.word = vec![ABSENT; self.entries.len()];
            s.found = vec![ABSENT; self.entries.len()];
            s.best = vec![NO_KEY; reference::rome_codes().len()];
        }
        s.candidates.clear();
        for (n, word) in typed.iter().enumerate() {
            s.touched.clear();
            self.mark(word, typos, &mut s.word, &mut s.touched);
            if n == 0 {
                for e in &s.touched {
                    s.found[*e as usize] = s.word[*e as usize];
                }
                s.candidates.extend_from_slice(&s.touched);
            } else {
                let (found, matched) = (&mut s.found, &s.word);
                s.candidates.retain(|e| {
                    let m = matched[*e as usize];
                    let f = &mut found[*e as usize];
                    *f = (*f).max(m);
                    m != ABSENT
                });
            }
            for e in &s.touched {
                s.word[*e as usize] = ABSENT;
            }
            if s.candidates.is_empty() {
                break;
            }
        }
        // The best entry of each occupation.
        s.occupations.clear();
        for e in &s.candidates {
            let entry = &self.entries[*e as usize];
            let key = (s.found[*e as usize], entry.length, *e);
            let best = &mut s.best[entry.rome as usize];
            if *best == NO_KEY {
                s.occupations.push(entry.rome);
            }
            *best = (*best).min(key);
        }
        // Codes are in order: a rank orders occupations as their codes do.
        let best = &s.best;
        s.occupations
            .sort_unstable_by_key(|r| (best[*r as usize].0, best[*r as usize].1, *r));
        let codes = reference::rome_codes();
        let hits = s
            .occupations
            .iter()
            .take(first)
            .map(|r| {
                let (m, _, e) = best[*r as usize];
                let entry = &self.entries[e as usize];
                Hit {
                    rome: codes[*r as usize].0,
                    label: entry.label,
                    appellation: entry
                        .appellation
                        .map(|a| &reference::rome_appellations()[a as usize]),
                    matched: [Match::Exact, Match::Prefix, Match::Typo][m as usize],
                }
            })
            .collect();
        for r in &s.occupations {
            s.best[*r as usize] = NO_KEY;
        }
        hits
    }

    /// Marks in `matches` each entry that holds a word `typed` reaches,
    /// with how well (the best of its words), and lists it in `touched`
    /// the first time.
    fn mark(&self, typed: &str, typos: bool, matches: &mut [u8], touched: &mut Vec<u32>) {
        let mut mark = |rank: usize, how: Match| {
            let list = &self.postings[self.starts[rank] as usize..self.starts[rank + 1] as usize];
            for e in list {
                let m = &mut matches[*e as usize];
                if *m == ABSENT {
                    touched.push(*e);
                }
                *m = (*m).min(how as u8);
            }
        };
        // The words typed starts are a run of the ordered words.
        let start = self.words.partition_point(|w| &**w < typed);
        let run = self.words[start..].partition_point(|w| w.starts_with(typed));
        for rank in start..start + run {
            let how = match &*self.words[rank] == typed {
                true => Match::Exact,
                false => Match::Prefix,
            };
            mark(rank, how);
        }
        if typos && typed.chars().count() >= TYPO_FROM {
            let dfa = TYPOS.build_prefix_dfa(typed);
            let mut near = self.typo_words.search(&dfa).into_stream();
            while let Some((_, rank)) = near.next() {
                mark(rank as usize, Match::Typo);
            }
        }
    }
}

/// `search` without the marks of a feminine or plural written inside a
/// word's parentheses (`apprenti(e)`, `vendeur(se)`), which would be read
/// as words of their own.
fn without_gender_marks(search: &str) -> std::borrow::Cow<'_, str> {
    if !search.contains('(') {
        return search.into();
    }
    let mut out = String::with_capacity(search.len());
    let mut rest = search;
    while let Some(open) = rest.find('(') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let mark = after[1..].find(')').filter(|end| {
            (1..=3).contains(end) && after[1..=*end].chars().all(char::is_alphabetic)
        });
        match mark {
            Some(end) => rest = &after[end + 2..],
            None => {
                out.push('(');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// An entry of `rome`'s label or its job title `appellation`.
fn entry(rome: u16, appellation: Option<u32>, label: &'static str) -> Entry {
    Entry {
        rome,
        appellation,
        label,
        length: u16::try_from(label.chars().count()).unwrap_or(u16::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(search: &str) -> Vec<&'static str> {
        Occupations::shared()
            .search(search, 5)
            .into_iter()
            .map(|h| h.rome)
            .collect()
    }

    #[test]
    fn a_job_title_finds_its_occupation_whatever_the_case_and_accents() {
        for typed in ["boulanger", "BOULANGER", "Boulangère", "boulangere"] {
            let hits = Occupations::shared().search(typed, 5);
            assert_eq!(hits[0].rome, "D1102", "{typed}");
            assert_eq!(hits[0].matched, Match::Exact, "{typed}");
        }
        assert_eq!(codes("pâtissier")[0], "D1104");
        assert_eq!(codes("coiffeur")[0], "D1202");
    }

    #[test]
    fn the_start_of_a_word_and_one_typo_are_enough() {
        let started = Occupations::shared().search("boulan", 5);
        assert_eq!(started[0].rome, "D1102");
        assert_eq!(started[0].matched, Match::Prefix);
        for typo in ["boulnager", "boulangre", "coifeur", "patisier"] {
            let hits = Occupations::shared().search(typo, 5);
            assert!(!hits.is_empty(), "{typo}");
            assert_eq!(hits[0].matched, Match::Typo, "{typo}");
        }
        assert_eq!(codes("boulnager")[0], "D1102");
        assert_eq!(codes("coifeur")[0], "D1202");
        // Short words are taken as typed: no typo on them.
        assert!(Occupations::shared()
            .search("cuisx", 5)
            .iter()
            .all(|h| h.matched == Match::Typo));
        assert!(Occupations::shared().search("xqz", 5).is_empty());
    }

    #[test]
    fn every_word_typed_must_match_and_stop_words_are_left_out() {
        let hits = Occupations::shared().search("mécanicien auto", 10);
        assert!(!hits.is_empty());
        assert!(hits.iter().any(|h| h.rome == "I1604"), "{hits:?}");
        assert_eq!(
            codes("agent de sécurité"),
            codes("agent sécurité"),
            "de is not read"
        );
        assert_eq!(codes("CAP coiffure"), codes("coiffure"));
        assert_eq!(codes("apprenti(e) boulanger H/F")[0], "D1102");
        assert!(Occupations::shared()
            .search("boulanger astronaute", 5)
            .is_empty());
    }

    #[test]
    fn hits_are_ranked_exact_then_prefix_then_typo_each_occupation_once() {
        let hits = Occupations::shared().search("vend", 50);
        let mut seen = std::collections::HashSet::new();
        for h in &hits {
            assert!(seen.insert(h.rome), "{} twice", h.rome);
        }
        assert!(hits.windows(2).all(|w| w[0].matched <= w[1].matched));
        assert_eq!(Occupations::shared().search("", 5), Vec::new());
        assert_eq!(Occupations::shared().search(" - ' ", 5), Vec::new());
        assert_eq!(Occupations::shared().search("boulanger", 0), Vec::new());
    }
}
