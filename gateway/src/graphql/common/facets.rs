//! Facets in the API: counts beside a search's results, to refine it by.

use async_graphql::{Object, SimpleObject};

use crate::domain::facets;

/// A value to refine a search by, and how many of its results have it.
#[derive(SimpleObject)]
pub struct Facet {
    /// The value, as the search's filter takes it (`3` for a level, `14`
    /// for a département, `D1102` for an occupation, `CCI` for an
    /// exchange, `true` for public employers).
    value: String,
    /// Its name for people (`CAP, BEP`, `Calvados`, `Boulanger /
    /// Boulangère`), when it has one.
    label: Option<String>,
    /// How many results have it.
    count: usize,
}

/// The facets of one dimension, the most frequent first, at most `first`.
pub fn listed(all: Vec<facets::Facet>, first: Option<usize>) -> Vec<Facet> {
    all.into_iter()
        .take(first.unwrap_or(usize::MAX))
        .map(|f| Facet {
            value: f.value,
            label: f.label,
            count: f.count,
        })
        .collect()
}

/// The most values `first` may ask of a facet.
pub const MAX_FACET_VALUES: usize = 200;

/// Reads a facet's `first`: 1 to [`MAX_FACET_VALUES`].
pub fn facet_first(first: Option<i32>) -> async_graphql::Result<Option<usize>> {
    first
        .map(|n| {
            usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_FACET_VALUES).contains(n))
                .ok_or_else(|| {
                    super::inputs::invalid(
                        "first",
                        format!("must be between 1 and {MAX_FACET_VALUES}"),
                    )
                })
        })
        .transpose()
}

/// The facets offers and programmes share: by level, département and
/// occupation; a part of each one's facets.
pub struct SharedFacetFields(pub facets::SharedFacets);

#[Object]
impl SharedFacetFields {
    /// By diploma level (the filter's `level`).
    async fn levels(&self) -> Vec<Facet> {
        listed(self.0.levels(), None)
    }

    /// By département (the filter's `departement`): an offer's workplace's;
    /// each of a programme's places' (a programme taught in two counts in
    /// each).
    async fn departements(&self) -> Vec<Facet> {
        listed(self.0.departements(), None)
    }

    /// By occupation, the ROME's fiche métier (the filter's `rome`).
    async fn occupations(
        &self,
        #[graphql(desc = "The most frequent this many, 1 to 200; all when not given.")]
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Facet>> {
        Ok(listed(self.0.occupations(), facet_first(first)?))
    }
}
