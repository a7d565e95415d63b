//! The root of queries.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use passerelle_schema::{reference, Near, Offer, Partner};

use super::errors::{report_partner_errors, report_stale, store_failure, ErrorCode, RequireScope};
use super::ids::{GlobalId, OfferCursor};
use super::inputs::{self, page_size};
use super::near::{by_distance, decode_distance_cursor, distance_cursor, order_centre, NearInput};
// Re-exported for the event and formation lists, which import it from here.
use super::page_info::PageInfo;
use super::scalars::DateTime;
use super::types::{Node, OfferNode, PartnerId, PartnerMode};
use super::ApiState;
use crate::domain::offers::OfferFilter;
use crate::partners::health::PartnerStatus;
use crate::partners::packed::OfferList;
use crate::partners::sources::FeedSize;
use crate::partners::sync::record_at;

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
    /// Words to find in the title, description, employer or occupation.
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
            text: self
                .text
                .map(|t| reference::fold_name(&t))
                .filter(|t| !t.is_empty()),
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
}

pub struct OfferConnection {
    offers: Arc<OfferList>,
    /// When the list is ordered by distance: the offers' positions in
    /// `offers`, nearest first, each with its distance in metres.
    by_distance: Option<Vec<(u32, u32)>>,
    /// The centre the edges give their distance from.
    near: Option<Near>,
    start: usize,
    end: usize,
}

/// Where a page of offers starts.
enum After {
    Newest(OfferCursor),
    Distance(u32, OfferCursor),
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

    /// The page of `first` offers after `after`, nearest first from
    /// `order`'s centre when given; edges give their distance from
    /// `near`'s centre.
    fn at(
        offers: Arc<OfferList>,
        near: Option<Near>,
        order: Option<Near>,
        first: usize,
        after: Option<After>,
    ) -> Self {
        let by_distance =
            order.map(|o| by_distance(offers.summaries().map(|s| o.distance_to(s.commune))));
        let start = match (&after, &by_distance) {
            (None, _) => 0,
            (Some(After::Newest(c)), None) => offers.partition_point(|o| !c.is_before(o)),
            (Some(After::Distance(m, c)), Some(order)) => order.partition_point(|(at, i)| {
                *at < *m || (*at == *m && !c.is_before(&offers.summary(*i as usize)))
            }),
            // A cursor of the other order: refused before.
            (Some(_), _) => 0,
        };
        let len = by_distance.as_ref().map_or(offers.len(), Vec::len);
        let end = (start + first).min(len);
        Self {
            offers,
            by_distance,
            near,
            start,
            end,
        }
    }

    /// The position in `offers` of the `k`th offer of the list.
    fn position(&self, k: usize) -> usize {
        self.by_distance
            .as_ref()
            .map_or(k, |order| order[k].1 as usize)
    }

    fn len(&self) -> usize {
        self.by_distance
            .as_ref()
            .map_or(self.offers.len(), Vec::len)
    }

    /// The cursor of the `k`th offer of the list.
    fn cursor_at(&self, k: usize) -> String {
        let inner = OfferCursor::of_summary(&self.offers.summary(self.position(k))).encode();
        match &self.by_distance {
            Some(order) => distance_cursor(order[k].0, &inner),
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

pub struct PartnerInfo {
    partner: Partner,
    state: crate::partners::health::PartnerState,
    serving: Option<u64>,
    /// The entity whose syncs are its history, for a synced partner.
    synced: Option<&'static str>,
}

/// A partner system and what Passerelle knows of its health.
#[Object(name = "Partner")]
impl PartnerInfo {
    /// The partner's identifier.
    async fn id(&self) -> PartnerId {
        self.partner.into()
    }

    /// The partner's name.
    async fn name(&self) -> &str {
        self.partner.name()
    }

    /// How Passerelle reaches its data.
    async fn mode(&self) -> PartnerMode {
        self.partner.mode().into()
    }

    /// Its health, from Passerelle's last calls or syncs.
    async fn status(&self) -> PartnerStatus {
        self.state.status(self.serving.is_some_and(|n| n > 0))
    }

    /// When a call or sync last succeeded.
    async fn last_success(&self) -> Option<DateTime> {
        self.state.last_success.map(DateTime)
    }

    /// The last failure. Needs the scope `region:bi`.
    #[graphql(guard = "RequireScope(\"region:bi\")")]
    async fn last_error(&self) -> Option<PartnerError> {
        self.state.last_error.as_ref().map(|f| PartnerError {
            at: DateTime(f.at),
            code: f.code.to_owned(),
            message: f.message.clone(),
        })
    }

    /// How many records it holds: for a synced partner, those served; for
    /// a live one, as it last said.
    async fn record_count(&self) -> Option<u64> {
        self.serving.or(self.state.record_count)
    }

    /// The last sync, for a synced partner. Needs the scope `region:bi`.
    #[graphql(guard = "RequireScope(\"region:bi\")")]
    async fn last_sync(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SyncOutcome>> {
        let Some(entity) = self.synced else {
            return Ok(None);
        };
        let state = ctx.data::<ApiState>()?;
        Ok(runs(state, self.partner, entity, 1)
            .await?
            .first()
            .map(SyncOutcome::from))
    }

    /// Its last syncs, newest first; none for a live partner. Needs the
    /// scope `region:bi`.
    #[graphql(guard = "RequireScope(\"region:bi\")")]
    async fn syncs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, 1 to 100.")] last: Option<i32>,
    ) -> async_graphql::Result<Vec<SyncOutcome>> {
        let last = last.unwrap_or(10);
        if !(1..=100).contains(&last) {
            return Err(super::inputs::invalid("last", "from 1 to 100"));
        }
        let Some(entity) = self.synced else {
            return Ok(Vec::new());
        };
        let state = ctx.data::<ApiState>()?;
        Ok(runs(state, self.partner, entity, last as i64)
            .await?
            .iter()
            .map(SyncOutcome::from)
            .collect())
    }
}

/// A partner's failure.
#[derive(SimpleObject)]
pub struct PartnerError {
    /// When.
    at: DateTime,
    /// The error code clients saw.
    code: String,
    /// What happened.
    message: String,
}

/// The outcome of one sync of a feed.
#[derive(SimpleObject)]
pub struct SyncOutcome {
    /// When it started.
    started_at: String,
    /// How long it took.
    duration_ms: i64,
    /// `updated`, `not_modified` or `failed`.
    outcome: String,
    /// Records served after it.
    records: i64,
    /// Records the partner sent that were rejected.
    rejected: i64,
    /// Why some records were rejected (the first hundred).
    rejections: Vec<Rejection>,
    /// What was done to records kept that is not a rejection: an
    /// identifier derived for records without one, a site's calendar
    /// served as last read because it could not be read this time.
    notices: Vec<String>,
    /// Why the sync failed.
    error: Option<String>,
}

/// A partner record that was rejected, and why.
#[derive(SimpleObject, serde::Deserialize)]
pub struct Rejection {
    /// Its position in the partner's payload.
    index: usize,
    /// Its identifier at the partner, when readable.
    partner_id: Option<String>,
    /// The unified field that failed.
    field: String,
    /// Why.
    reason: String,
}

impl From<&crate::store::SyncRun> for SyncOutcome {
    fn from(r: &crate::store::SyncRun) -> Self {
        Self {
            started_at: r.started_at.clone(),
            duration_ms: r.duration_ms,
            outcome: r.outcome.clone(),
            records: r.records,
            rejected: r.rejected,
            rejections: serde_json::from_str(&r.rejects).unwrap_or_default(),
            notices: serde_json::from_str(&r.notes).unwrap_or_default(),
            error: r.error.clone(),
        }
    }
}

/// Offers and partners: part of the root of queries.
#[Object]
impl OfferQuery {
    /// Apprenticeship offers from every exchange, newest first. An offer
    /// that two exchanges publish appears once, with both sources. When an
    /// exchange fails, the others' offers are answered with an error naming
    /// the exchange.
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
        #[graphql(default, desc = "Newest first, or nearest first from `filter.near`.")]
        order_by: OfferOrder,
    ) -> async_graphql::Result<OfferConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let order = order_centre(order_by == OfferOrder::Distance, filter.near.as_ref())?;
        let after = match (after, order) {
            (None, _) => None,
            (Some(a), None) => Some(After::Newest(OfferConnection::offer_cursor(&a)?)),
            (Some(a), Some(_)) => {
                let (m, inner) = decode_distance_cursor(&a)?;
                Some(After::Distance(m, OfferConnection::offer_cursor(&inner)?))
            }
        };
        let results = state.offers.search(&filter).await;
        report_partner_errors(ctx, &results.errors);
        report_stale(ctx, &state.health, &state.offers.feeds_read(&filter));
        Ok(OfferConnection::at(
            results.offers,
            filter.near,
            order,
            first,
            after,
        ))
    }

    /// One offer by its global identifier.
    async fn offer(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<OfferNode>> {
        let (partner, partner_id) = GlobalId::offer_source(&id)?;
        let state = ctx.data::<ApiState>()?;
        let found = state.offers.by_source(partner, &partner_id).await;
        report_partner_errors(ctx, &found.errors);
        Ok(found.offer.map(OfferNode))
    }

    /// Any object by its global identifier: an offer, a CFA, a programme,
    /// an event's occurrence, an orientation site.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let state = ctx.data::<ApiState>()?;
        let Some(global) = GlobalId::decode(&id) else {
            return Err(ErrorCode::InvalidInput.error("id is not an identifier of this API"));
        };
        let sources = &state.sources;
        Ok(match global {
            GlobalId::Offer {
                partner,
                partner_id,
            } => {
                let found = state.offers.by_source(partner, &partner_id).await;
                report_partner_errors(ctx, &found.errors);
                found.offer.map(|o| Node::Offer(OfferNode(o)))
            }
            GlobalId::Cfa { uai } => passerelle_schema::Uai::parse(&uai)
                .ok()
                .and_then(|uai| super::cfa::CfaNode::of(state, &uai))
                .map(Node::Cfa),
            GlobalId::Formation {
                partner,
                partner_id,
            } => record_at(&sources.formations, partner, &partner_id)
                .map(|f| Node::Formation(super::formation::FormationNode(f))),
            GlobalId::OrientationSite {
                partner,
                partner_id,
            } => record_at(&sources.sites, partner, &partner_id)
                .map(|s| Node::OrientationSite(super::events::OrientationSite(s))),
            GlobalId::Event {
                partner,
                partner_id,
                start,
            } => chrono::DateTime::from_timestamp(start, 0)
                .and_then(|start| {
                    crate::domain::events::occurrence(
                        &sources.events,
                        &sources.sites,
                        partner,
                        &partner_id,
                        start,
                    )
                })
                .map(|o| Node::Event(super::events::EventNode(o))),
        })
    }

    /// Every partner system and its health.
    async fn partners(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PartnerInfo>> {
        let state = ctx.data::<ApiState>()?;
        let sizes = state.sources.sizes();
        let mut out = Vec::new();
        for &partner in &state.sources.partners {
            let feeds: Vec<FeedSize> = sizes
                .iter()
                .filter(|f| f.partner == partner)
                .copied()
                .collect();
            let (serving, synced) = match feeds.first() {
                Some(first) => (
                    Some(feeds.iter().map(|f| f.records as u64).sum()),
                    Some(first.entity.name()),
                ),
                None if state.sources.is_live(partner) => (None, None),
                None => continue,
            };
            out.push(PartnerInfo {
                partner,
                state: state.health.state(partner),
                serving,
                synced,
            });
        }
        Ok(out)
    }
}

/// The last syncs of a partner's feed, newest first.
async fn runs(
    state: &ApiState,
    partner: Partner,
    entity: &str,
    last: i64,
) -> async_graphql::Result<Vec<crate::store::SyncRun>> {
    state
        .store
        .runs(partner.id(), entity, last)
        .await
        .map_err(store_failure(&state.store, "the sync history"))
}
