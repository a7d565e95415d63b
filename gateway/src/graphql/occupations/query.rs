//! `occupations`: the ROME referential searched as a portal's box is typed.

use async_graphql::{Enum, Object};

use super::rome::{Appellation, Rome};
use crate::domain::occupations::{self, Occupations};
use crate::graphql::common::inputs::invalid;

/// The occupations' part of the root of queries.
#[derive(Default)]
pub struct OccupationQuery;

/// The most hits `occupations` answers.
const MAX_OCCUPATIONS: usize = 50;

#[Object]
impl OccupationQuery {
    /// The occupations of the ROME referential for what a person types in
    /// a search box: each word typed must be a word of the occupation's
    /// label or of one of its job titles (appellations), or the start of
    /// one, or one edit away on words of five letters or more; case,
    /// accents, punctuation and small words (`de`, `l'`…) aside. Best
    /// first: exact words, then starts of words, then typos, and the
    /// shorter label first; each occupation once, with the label that
    /// matched. Use its `rome.code` in `OfferFilter.rome` or
    /// `FormationFilter.rome`.
    async fn occupations(
        &self,
        #[graphql(desc = "What was typed, at most 100 characters.")] search: String,
        #[graphql(desc = "How many occupations at most, up to 50; 10 when not given.")]
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Occupation>> {
        if search.chars().count() > occupations::MAX_SEARCH {
            return Err(invalid(
                "search",
                format!("at most {} characters", occupations::MAX_SEARCH),
            ));
        }
        let first = usize::try_from(first.unwrap_or(10))
            .ok()
            .filter(|n| *n <= MAX_OCCUPATIONS)
            .ok_or_else(|| invalid("first", format!("must be between 0 and {MAX_OCCUPATIONS}")))?;
        Ok(Occupations::shared()
            .search(&search, first)
            .into_iter()
            .map(Occupation)
            .collect())
    }
}
pub struct Occupation(occupations::Hit);

/// An occupation found by `occupations`.
#[Object]
impl Occupation {
    /// The occupation: one of the ROME's 532 fiches métier, the codes
    /// offers and programmes are filed under.
    async fn rome(&self) -> Rome<'static> {
        Rome(self.0.rome)
    }

    /// The job title whose words matched (it may be listed under a finer
    /// code of the occupation); null when a code's own label did.
    async fn appellation(&self) -> Option<Appellation> {
        self.0.appellation.map(Appellation)
    }

    /// The label whose words matched: the job title's, or the
    /// occupation's.
    async fn matched_label(&self) -> &str {
        self.0.label
    }

    /// How the words typed matched it.
    async fn matched(&self) -> OccupationMatch {
        match self.0.matched {
            occupations::Match::Exact => OccupationMatch::Exact,
            occupations::Match::Prefix => OccupationMatch::Prefix,
            occupations::Match::Typo => OccupationMatch::Typo,
        }
    }
}

/// How the words typed matched an occupation, best first.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OccupationMatch {
    /// Every word typed is a word of the label.
    Exact,
    /// Every word typed is a word of the label or the start of one.
    Prefix,
    /// A word typed is one edit away from a word of the label, or from
    /// its start.
    Typo,
}
