//! `formations` and `formation`: which programmes to list, in what order.

use async_graphql::{Context, Enum, InputObject, Object};
use passerelle_schema::Rncp;

use super::connection::{FormationAfter, FormationConnection};
use crate::domain::formations::{search, FormationFilter};
use crate::graphql::common::errors::report_stale;
use crate::graphql::common::inputs::{self, page_size};
use crate::graphql::common::near::{decode_ranked_cursor, rank_asked, NearInput, Ranking};
use crate::graphql::common::ApiState;

/// The programmes' part of the root of queries.
#[derive(Default)]
pub struct FormationQuery;

/// What programmes to list; every field given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "FormationFilter")]
pub struct FormationFilterInput {
    /// Leading to any of these ROME codes.
    rome: Option<Vec<String>>,
    /// Preparing this RNCP certification (`RNCP35185`).
    rncp: Option<String>,
    /// At this level, 3 to 8.
    level: Option<i32>,
    /// Taught in this département.
    departement: Option<String>,
    /// Taught in this commune (INSEE code).
    commune: Option<String>,
    /// Taught around a place: at a place within the radius.
    near: Option<NearInput>,
    /// Run by the CFA with this UAI.
    cfa: Option<String>,
    /// With free places (`true`) or full (`false`).
    has_vacancies: Option<bool>,
    /// Words as people type them, each to be found in the title,
    /// objective, CFA, occupation or places, read as `OfferFilter.text`
    /// reads them: `cap coiffure` ranks the CAP first. Rank the results
    /// with `orderBy: RELEVANCE`.
    text: Option<String>,
}

impl FormationFilterInput {
    pub(crate) fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<FormationFilter> {
        Ok(FormationFilter {
            rome: inputs::romes("filter.rome", self.rome)?,
            rncp: self
                .rncp
                .map(|r| Rncp::parse(&r).map_err(|e| inputs::invalid("filter.rncp", e)))
                .transpose()?,
            level: inputs::level("filter.level", self.level)?,
            departement: inputs::departement(ctx, "filter.departement", self.departement)?,
            commune: inputs::commune("filter.commune", self.commune)?,
            near: self.near.map(|n| n.parse("filter.near")).transpose()?,
            cfa: inputs::uai("filter.cfa", self.cfa)?,
            has_vacancies: self.has_vacancies,
            text: inputs::words("filter.text", self.text)?,
        })
    }
}

/// How a catalogue's text is given.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextFormat {
    /// Without markup: a new line after each paragraph, break or list
    /// item.
    #[default]
    Plain,
    /// As HTML a page can insert as it is: paragraphs, breaks, lists and
    /// emphasis, without attributes; nothing else.
    Html,
}

impl TextFormat {
    pub(super) fn of(self, text: &str) -> String {
        match self {
            TextFormat::Plain => crate::domain::markup::plain(text),
            TextFormat::Html => crate::domain::markup::sanitised(text),
        }
    }
}

/// The order of a list of programmes.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormationOrder {
    /// By identifier, the catalogue's order.
    #[default]
    Catalogue,
    /// Nearest first (a programme at its place nearest the centre of
    /// `filter.near`), then by identifier.
    Distance,
    /// Most relevant to `filter.text` first, then by identifier.
    Relevance,
}

#[Object]
impl FormationQuery {
    /// Apprenticeship programmes of the training catalogue (Carif-Oref),
    /// with their sessions, capacity and free places; in catalogue order.
    async fn formations(
        &self,
        ctx: &Context<'_>,
        filter: Option<FormationFilterInput>,
        #[graphql(
            default = 20,
            desc = "How many programmes, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            default,
            desc = "The catalogue's order, nearest first from `filter.near`, or most \
                    relevant to `filter.text` first."
        )]
        order_by: FormationOrder,
    ) -> async_graphql::Result<FormationConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let rank = rank_asked(
            order_by == FormationOrder::Distance,
            order_by == FormationOrder::Relevance,
            filter.near.as_ref(),
            filter.text.as_deref(),
        )?;
        let after = match (after, rank) {
            (None, _) => None,
            (Some(a), None) => Some(FormationAfter::Catalogue(FormationConnection::identifier(
                &a,
            )?)),
            (Some(a), Some(rank)) => {
                let (m, inner) = decode_ranked_cursor(rank, &a)?;
                Some(FormationAfter::Ranked(
                    m,
                    FormationConnection::identifier(&inner)?,
                ))
            }
        };
        let catalogues = &state.sources.formations;
        let partners: Vec<_> = catalogues.iter().map(|f| f.partner()).collect();
        report_stale(ctx, &state.health, &partners);
        let found = search(catalogues, &filter);
        let ranking = Ranking::asked(rank, filter.near, found.scores, found.items.len());
        Ok(
            FormationConnection::ordered(found.items, filter.near, ranking, first, after)
                .with_words(filter.words()),
        )
    }
}
