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

mod analysis;
mod index;
mod masculine;
mod place;
mod read;
mod said;

pub use analysis::{analyzer, each_word};
pub use index::{Scored, WordsIndex, WordsStatistics};
pub use place::{Place, PLACE_KM};
pub use read::{Word, Words};
pub use said::Said;

/// The longest text read, in characters: more is refused.
pub const MAX_TEXT: usize = 200;

#[cfg(test)]
mod tests;
