//! A page of programmes, with the totals of their places.

use std::sync::Arc;

use async_graphql::{MergedObject, Object, SimpleObject};
use base64::Engine;
use passerelle_schema::{Formation, Near};

use super::node::FormationNode;
use crate::domain::facets;
use crate::domain::formations::distance_km;
use crate::domain::words::Words;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::facets::SharedFacetFields;
use crate::graphql::common::near::{ranked_cursor, Rank, Ranking};
use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::written::{resolved, Planned, Writer, Written};
use crate::graphql::occupations::Understood;

use crate::graphql::common::connection::{b64_of, B64};

/// A page of programmes.
pub struct FormationConnection {
    items: Vec<Arc<Formation>>,
    /// When the list is ranked: the programmes' positions in `items`, in
    /// order, each with its key (its distance in metres, or its score).
    ranked: Option<(Rank, Vec<(u32, u32)>)>,
    /// The centre the edges give their distance from.
    near: Option<Near>,
    /// The search's words, read.
    words: Option<Arc<Words>>,
    start: usize,
    end: usize,
}

fn cursor(f: &Formation) -> String {
    b64_of(format_args!("f1|{}", f.partner_id))
}

/// Where a page of programmes starts: after a programme, in the
/// catalogue's order or by distance.
pub enum FormationAfter {
    /// After this identifier.
    Catalogue(String),
    /// After this key of a ranked list (a distance in metres, a score),
    /// then this identifier.
    Ranked(u32, String),
}

impl FormationConnection {
    /// Reads an `after` argument: a cursor of a programme list, the
    /// identifier of the programme it follows.
    pub fn cursor(after: Option<String>) -> async_graphql::Result<Option<String>> {
        after.map(|a| Self::identifier(&a)).transpose()
    }

    pub(super) fn identifier(after: &str) -> async_graphql::Result<String> {
        B64.decode(after.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("f1|").map(str::to_owned))
            .ok_or_else(|| ErrorCode::InvalidCursor.error("after is not a cursor of this list"))
    }

    /// The page of `first` programmes of `items` (by identifier) after the
    /// programme `after`.
    pub fn at(items: Vec<Arc<Formation>>, first: usize, after: Option<&str>) -> Self {
        let after = after.map(|a| FormationAfter::Catalogue(a.to_owned()));
        Self::ordered(items, None, None, first, after)
    }

    /// The page of `first` programmes after `after`, ranked by `ranking`
    /// when given; edges give their distance from `near`'s centre.
    pub(super) fn ordered(
        items: Vec<Arc<Formation>>,
        near: Option<Near>,
        ranking: Option<Ranking>,
        first: usize,
        after: Option<FormationAfter>,
    ) -> Self {
        let ranked = ranking.map(|r| {
            let order = r.order(|centre| items.iter().map(|f| distance_km(f, centre)).collect());
            (r.rank(), order)
        });
        let start = match (&after, &ranked) {
            (None, _) => 0,
            (Some(FormationAfter::Catalogue(id)), None) => {
                items.partition_point(|f| f.partner_id.as_str() <= id.as_str())
            }
            (Some(FormationAfter::Ranked(m, id)), Some((_, order))) => {
                order.partition_point(|(at, i)| {
                    *at < *m || (*at == *m && items[*i as usize].partner_id.as_str() <= id.as_str())
                })
            }
            // A cursor of the other order: refused before.
            (Some(_), _) => 0,
        };
        let len = ranked.as_ref().map_or(items.len(), |(_, o)| o.len());
        let end = (start + first).min(len);
        Self {
            items,
            ranked,
            near,
            words: None,
            start,
            end,
        }
    }

    /// The page, for a search by these words.
    pub(super) fn with_words(self, words: Option<Arc<Words>>) -> Self {
        Self { words, ..self }
    }

    fn len(&self) -> usize {
        self.ranked
            .as_ref()
            .map_or(self.items.len(), |(_, o)| o.len())
    }

    /// The `k`th programme of the list.
    fn item(&self, k: usize) -> &Arc<Formation> {
        let i = self
            .ranked
            .as_ref()
            .map_or(k, |(_, order)| order[k].1 as usize);
        &self.items[i]
    }

    /// The cursor of the `k`th programme of the list.
    fn cursor_at(&self, k: usize) -> String {
        let inner = cursor(self.item(k));
        match &self.ranked {
            Some((rank, order)) => ranked_cursor(*rank, order[k].0, &inner),
            None => inner,
        }
    }
}

/// Counts to refine a search of programmes by, the most frequent first.
#[derive(MergedObject)]
pub struct FormationFacets(SharedFacetFields, FreePlaces);

/// How many programmes of a search have free places.
pub struct FreePlaces(usize);

#[Object]
impl FreePlaces {
    /// How many have free places (the filter's `hasVacancies`).
    async fn with_vacancies(&self) -> usize {
        self.0
    }
}

/// A page of programmes.
#[Object]
impl FormationConnection {
    /// How many programmes match, across every page.
    async fn total_count(&self) -> usize {
        self.len()
    }

    /// Places in all and free places, across every page.
    async fn totals(&self) -> PlaceTotals {
        PlaceTotals {
            capacity: self.items.iter().map(|f| u64::from(f.capacity)).sum(),
            vacancies: self.items.iter().map(|f| u64::from(f.vacancies)).sum(),
        }
    }

    /// How the words of `filter.text` were read (the town, the diploma
    /// level and the occupations they name); null without words.
    async fn understood(&self) -> Option<Understood> {
        self.words.clone().map(Understood)
    }

    /// Counts to refine the search by, over every programme `totalCount`
    /// counts (not the page alone).
    async fn facets(&self) -> FormationFacets {
        let all = facets::FormationFacets::of((0..self.len()).map(|k| &**self.item(k)));
        FormationFacets(
            SharedFacetFields(all.shared),
            FreePlaces(all.with_vacancies),
        )
    }

    /// The programmes of the page.
    async fn nodes(&self) -> Vec<FormationNode> {
        (self.start..self.end)
            .map(|k| FormationNode(self.item(k).clone()))
            .collect()
    }

    /// The programmes of the page, with their cursors.
    async fn edges(&self) -> Vec<FormationEdge> {
        (self.start..self.end)
            .map(|k| {
                let f = self.item(k);
                FormationEdge {
                    cursor: self.cursor_at(k),
                    distance_km: self
                        .near
                        .and_then(|n| distance_km(f, &n))
                        .map(|d| (d * 1000.0).round() / 1000.0),
                    node: FormationNode(f.clone()),
                }
            })
            .collect()
    }

    /// Where the page stands.
    async fn page_info(&self) -> PageInfo {
        PageInfo::at(self.len(), self.start, self.end, |k| self.cursor_at(k))
    }
}

/// Places of a set of programmes.
#[derive(SimpleObject)]
pub struct PlaceTotals {
    /// Places in all.
    capacity: u64,
    /// Places still free.
    vacancies: u64,
}

/// A programme and its cursor.
#[derive(SimpleObject)]
pub struct FormationEdge {
    /// The position to page from.
    cursor: String,
    /// The programme.
    node: FormationNode,
    /// The distance from the centre of `filter.near` to the programme's
    /// nearest place, in kilometres (great-circle); null without `near`.
    distance_km: Option<f64>,
}

impl Written for FormationConnection {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "totalCount" => w.put(resolved!(w, self.total_count)),
            "totals" => w.object(&resolved!(w, self.totals), f.sub()),
            "nodes" => w.objects(&resolved!(w, self.nodes), f.sub()),
            "edges" => w.objects(&resolved!(w, self.edges), f.sub()),
            "pageInfo" => w.object(&resolved!(w, self.page_info), f.sub()),
            _ => None,
        }
    }
}

impl Written for PlaceTotals {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "capacity" => w.put(self.capacity),
            "vacancies" => w.put(self.vacancies),
            _ => None,
        }
    }
}

impl Written for FormationEdge {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "cursor" => w.str(&self.cursor),
            "node" => w.object(&self.node, f.sub()),
            "distanceKm" => w.put(self.distance_km),
            _ => None,
        }
    }
}
