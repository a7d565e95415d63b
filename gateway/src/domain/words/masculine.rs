//! A token filter that reads the feminine of a job title as its masculine
//! (`coiffeuse` → `coiffeur`, `boulangère` → `boulanger`, `conductrice` →
//! `conducteur`), which Snowball's French stemmer keeps apart: a young
//! woman typing her future job finds the offers titled in the masculine,
//! and the other way round. Runs on folded words, before stemming.

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Feminine endings and their masculine, longest first; a word keeps at
/// least three letters before the ending.
const ENDINGS: &[(&str, &str)] = &[
    ("euses", "eur"),
    ("euse", "eur"),
    ("trices", "teur"),
    ("trice", "teur"),
    ("iennes", "ien"),
    ("ienne", "ien"),
    ("ieres", "ier"),
    ("iere", "ier"),
    ("eres", "er"),
    ("ere", "er"),
];

/// The masculine of a folded word, when it ends as a feminine does.
pub fn masculine(word: &str) -> Option<String> {
    ENDINGS.iter().find_map(|(feminine, masculine)| {
        let stem = word.strip_suffix(feminine)?;
        (stem.len() >= 3).then(|| format!("{stem}{masculine}"))
    })
}

/// The filter.
#[derive(Clone)]
pub struct Masculine;

impl TokenFilter for Masculine {
    type Tokenizer<T: Tokenizer> = MasculineFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MasculineFilter<T> {
        MasculineFilter(tokenizer)
    }
}

#[derive(Clone)]
pub struct MasculineFilter<T>(T);

impl<T: Tokenizer> Tokenizer for MasculineFilter<T> {
    type TokenStream<'a> = MasculineStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MasculineStream(self.0.token_stream(text))
    }
}

pub struct MasculineStream<T>(T);

impl<T: TokenStream> TokenStream for MasculineStream<T> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        if let Some(m) = masculine(&self.0.token().text) {
            self.0.token_mut().text = m;
        }
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}
