//! `offers` and `offer`: the filter, the order and the pages of offers.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, MergedObject, Object, ID};

use crate::domain::facets;
use crate::graphql::common::facets::{listed, Facet, SharedFacetFields};
use passerelle_schema::{Near, Offer};

use super::node::OfferNode;
use crate::domain::offers::OfferFilter;
use crate::domain::words::Words;
use crate::graphql::common::errors::{report_partner_errors, report_stale, ErrorCode};
use crate::graphql::common::ids::{GlobalId, OfferCursor};
use crate::graphql::common::inputs::{self, page_size};
use crate::graphql::common::near::{
    decode_ranked_cursor, rank_asked, ranked_cursor, NearInput, Rank, Ranking,
};
use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::partner_id::PartnerId;
use crate::graphql::common::written::{resolved, Planned, Writer, Written};
use crate::graphql::common::ApiState;
use crate::graphql::occupations::Understood;
use crate::partners::packed::OfferList;

#[derive(Default)]
pub struct OfferQuery;

/// What offers to list; every field given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "OfferFilter")]
pub struct OfferFilterInput {
    /// Any of these ROME codes (`D1102`).
    rome: Option<Vec<String>>,
    /// The département code (`14`).
    departement: Option<String>,
    /// The INSEE code of the commune (`14118`).
    commune: Option<String>,
    /// Around a place: offers whose workplace commune lies within the
    /// radius.
    near: Option<NearInput>,
    /// The diploma level, 3 (CAP) to 8 (doctorate).
    level: Option<i32>,
    /// Offers published on this exchange.
    source: Option<PartnerId>,
    /// Words as people type them, each to be found in the title,
    /// description, employer, occupation or place: accents and case aside,
    /// plurals and feminines as the word, one typo on words of five letters
    /// or more; words naming an occupation also find the offers filed
    /// under it, a diploma named (`CAP`) ranks its level first. Rank the
    /// results with `orderBy: RELEVANCE`.
    text: Option<String>,
    /// Offers of public employers (`true`, from the CNFPT) or private ones
    /// (`false`).
    public_sector: Option<bool>,
}

impl OfferFilterInput {
    pub(crate) fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<OfferFilter> {
        Ok(OfferFilter {
            rome: inputs::romes("filter.rome", self.rome)?,
            departement: inputs::departement(ctx, "filter.departement", self.departement)?,
            commune: inputs::commune("filter.commune", self.commune)?,
            near: self.near.map(|n| n.parse("filter.near")).transpose()?,
            level: inputs::level("filter.level", self.level)?,
            source: self.source.map(Into::into),
            text: inputs::words("filter.text", self.text)?,
            public_sector: self.public_sector,
        })
    }

    /// How many ROME codes it names, as given.
    pub(crate) fn rome_count(&self) -> usize {
        self.rome.as_ref().map_or(0, Vec::len)
    }

    /// How long its text is in characters, as given.
    pub(crate) fn text_chars(&self) -> usize {
        self.text.as_ref().map_or(0, |t| t.chars().count())
    }
}

/// The order of a list of offers.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OfferOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Nearest first from the centre of `filter.near`, then newest first.
    Distance,
    /// Most relevant to `filter.text` first, then newest first.
    Relevance,
}

pub struct OfferConnection {
    offers: Arc<OfferList>,
    /// When the list is ranked: the offers' positions in `offers`, in
    /// order, each with its key (its distance in metres, or its score).
    ranked: Option<(Rank, Vec<(u32, u32)>)>,
    /// The centre the edges give their distance from.
    near: Option<Near>,
    /// The search's words, read.
    words: Option<Arc<Words>>,
    start: usize,
    end: usize,
}

/// Where a page of offers starts.
enum After {
    Newest(OfferCursor),
    Ranked(u32, OfferCursor),
}

impl OfferConnection {
    /// Reads an `after` argument: a cursor of an offer list.
    fn cursor(after: Option<String>) -> async_graphql::Result<Option<OfferCursor>> {
        after.map(|a| Self::offer_cursor(&a)).transpose()
    }

    fn offer_cursor(after: &str) -> async_graphql::Result<OfferCursor> {
        OfferCursor::decode(after)
            .ok_or_else(|| ErrorCode::InvalidCursor.error("after is not a cursor of this list"))
    }

    /// The page of `first` offers of `offers` after the cursor `after`.
    pub fn page(
        offers: Arc<OfferList>,
        first: usize,
        after: Option<String>,
    ) -> async_graphql::Result<Self> {
        let after = Self::cursor(after)?.map(After::Newest);
        Ok(Self::at(offers, None, None, first, after))
    }

    /// The page of `first` offers after `after`, ranked by `ranking` when
    /// given; edges give their distance from `near`'s centre.
    fn at(
        offers: Arc<OfferList>,
        near: Option<Near>,
        ranking: Option<Ranking>,
        first: usize,
        after: Option<After>,
    ) -> Self {
        let ranked = ranking.map(|r| {
            let order = r.order(|centre| {
                offers
                    .summaries()
                    .map(|s| centre.distance_to(s.commune))
                    .collect()
            });
            (r.rank(), order)
        });
        let start = match (&after, &ranked) {
            (None, _) => 0,
            (Some(After::Newest(c)), None) => offers.partition_point(|o| !c.is_before(o)),
            (Some(After::Ranked(m, c)), Some((_, order))) => order.partition_point(|(at, i)| {
                *at < *m || (*at == *m && !c.is_before(&offers.summary(*i as usize)))
            }),
            // A cursor of the other order: refused before.
            (Some(_), _) => 0,
        };
        let len = ranked.as_ref().map_or(offers.len(), |(_, o)| o.len());
        let end = (start + first).min(len);
        Self {
            offers,
            ranked,
            near,
            words: None,
            start,
            end,
        }
    }

    /// The position in `offers` of the `k`th offer of the list.
    fn position(&self, k: usize) -> usize {
        self.ranked
            .as_ref()
            .map_or(k, |(_, order)| order[k].1 as usize)
    }

    fn len(&self) -> usize {
        self.ranked
            .as_ref()
            .map_or(self.offers.len(), |(_, o)| o.len())
    }

    /// The cursor of the `k`th offer of the list.
    fn cursor_at(&self, k: usize) -> String {
        let inner = OfferCursor::of_summary(&self.offers.summary(self.position(k))).encode();
        match &self.ranked {
            Some((rank, order)) => ranked_cursor(*rank, order[k].0, &inner),
            None => inner,
        }
    }

    fn page_offers(&self) -> impl Iterator<Item = (usize, Arc<Offer>)> + '_ {
        (self.start..self.end).map(|k| (k, self.offers.get(self.position(k))))
    }
}

/// A page of offers.
#[Object]
impl OfferConnection {
    /// How many offers match, across every page.
    async fn total_count(&self) -> usize {
        self.len()
    }

    /// The offers of the page, with their cursors.
    async fn edges(&self) -> Vec<OfferEdge> {
        self.page_offers()
            .map(|(k, offer)| OfferEdge {
                cursor: self.cursor_at(k),
                distance_km: self
                    .near
                    .and_then(|n| n.distance_to(&offer.location.commune)),
                offer,
            })
            .collect()
    }

    /// The offers of the page.
    async fn nodes(&self) -> Vec<OfferNode> {
        self.page_offers().map(|(_, o)| OfferNode(o)).collect()
    }

    /// Where the page stands.
    async fn page_info(&self) -> PageInfo {
        PageInfo::at(self.len(), self.start, self.end, |k| self.cursor_at(k))
    }

    /// How the words of `filter.text` were read (the town, the diploma
    /// level and the occupations they name); null without words.
    async fn understood(&self) -> Option<Understood> {
        self.words.clone().map(Understood)
    }

    /// Counts to refine the search by, over every offer `totalCount`
    /// counts (not the page alone).
    async fn facets(&self) -> OfferFacets {
        let listed = (0..self.len()).map(|k| self.offers.summary(self.position(k)));
        OfferFacets::of(facets::OfferFacets::of(listed))
    }
}

/// Counts to refine a search of offers by, the most frequent first: each
/// offer once per value it has.
#[derive(MergedObject)]
pub struct OfferFacets(SharedFacetFields, OfferOnlyFacets);

impl OfferFacets {
    fn of(mut all: facets::OfferFacets) -> Self {
        let shared = std::mem::take(&mut all.shared);
        Self(SharedFacetFields(shared), OfferOnlyFacets(all))
    }
}

/// The facets of offers that programmes do not have.
pub struct OfferOnlyFacets(facets::OfferFacets);

#[Object]
impl OfferOnlyFacets {
    /// By exchange (the filter's `source`): an offer two exchanges publish
    /// counts for both.
    async fn sources(&self) -> Vec<Facet> {
        listed(self.0.sources(), None)
    }

    /// By kind of employer (the filter's `publicSector`).
    async fn public_sector(&self) -> Vec<Facet> {
        listed(self.0.public_sector(), None)
    }
}

pub struct OfferEdge {
    offer: Arc<Offer>,
    cursor: String,
    distance_km: Option<f64>,
}

/// An offer and its cursor.
#[Object]
impl OfferEdge {
    /// The position to page from.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The offer.
    async fn node(&self) -> OfferNode {
        OfferNode(self.offer.clone())
    }

    /// The distance from the centre of `filter.near` to the workplace's
    /// commune, in kilometres (great-circle); null without `near`.
    async fn distance_km(&self) -> Option<f64> {
        self.distance_km.map(|d| (d * 1000.0).round() / 1000.0)
    }
}

#[Object]
impl OfferQuery {
    /// Apprenticeship offers from every exchange, newest first (or nearest,
    /// or most relevant to the words searched). An offer that two exchanges
    /// publish appears once, with both sources. When an exchange fails, the
    /// others' offers are answered with an error naming the exchange.
    async fn offers(
        &self,
        ctx: &Context<'_>,
        filter: Option<OfferFilterInput>,
        #[graphql(
            default = 20,
            desc = "How many offers, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            default,
            desc = "Newest first, nearest first from `filter.near`, or most relevant to \
                    `filter.text` first."
        )]
        order_by: OfferOrder,
    ) -> async_graphql::Result<OfferConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let rank = rank_asked(
            order_by == OfferOrder::Distance,
            order_by == OfferOrder::Relevance,
            filter.near.as_ref(),
            filter.text.as_deref(),
        )?;
        let after = match (after, rank) {
            (None, _) => None,
            (Some(a), None) => Some(After::Newest(OfferConnection::offer_cursor(&a)?)),
            (Some(a), Some(rank)) => {
                let (m, inner) = decode_ranked_cursor(rank, &a)?;
                Some(After::Ranked(m, OfferConnection::offer_cursor(&inner)?))
            }
        };
        let results = state.offers.search(&filter).await;
        report_partner_errors(ctx, &results.errors);
        report_stale(ctx, &state.health, &state.offers.feeds_read(&filter));
        let ranking = Ranking::asked(
            rank,
            filter.near,
            results.scores.clone(),
            results.offers.len(),
        );
        Ok(OfferConnection {
            words: filter.words(),
            ..OfferConnection::at(results.offers, filter.near, ranking, first, after)
        })
    }

    /// One offer by its global identifier.
    async fn offer(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<OfferNode>> {
        let (partner, partner_id) = GlobalId::offer_source(&id)?;
        let state = ctx.data::<ApiState>()?;
        let found = state.offers.by_source(partner, &partner_id).await;
        report_partner_errors(ctx, &found.errors);
        Ok(found.offer.map(OfferNode))
    }
}

impl Written for OfferConnection {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "totalCount" => w.put(resolved!(w, self.total_count)),
            "edges" => w.objects(&resolved!(w, self.edges), f.sub()),
            "nodes" => w.objects(&resolved!(w, self.nodes), f.sub()),
            "pageInfo" => w.object(&resolved!(w, self.page_info), f.sub()),
            _ => None,
        }
    }
}

impl Written for OfferEdge {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "cursor" => w.str(resolved!(w, self.cursor)),
            "node" => w.object(&resolved!(w, self.node), f.sub()),
            "distanceKm" => w.put(resolved!(w, self.distance_km)),
            _ => None,
        }
    }
}
