//! How French text is read into words, for records and searches alike.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

use super::masculine;

/// Words that say nothing a record could be told apart by: French small
/// words (`l'`, `d'` fold to `l`, `d`), what every record of an
/// apprenticeship plan is, and what people add to a search (`formation`,
/// `offre`, `je cherche`). Folded.
pub(super) const STOP_WORDS: &[&str] = &[
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
