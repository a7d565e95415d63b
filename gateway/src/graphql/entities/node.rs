//! Relay's `Node`: every object a page may refetch by its global
//! identifier, and `node(id)`, which resolves one.

use async_graphql::{Context, Interface, Object, ID};

use crate::graphql::common::errors::{report_partner_errors, ErrorCode};
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::ApiState;
use crate::graphql::offers::OfferNode;
use crate::partners::sync::record_at;

/// An object with a global identifier, which `node(id)` resolves: every
/// entity a page may refetch (Relay's `@refetchable`, a normalised cache).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global identifier."))]
pub enum Node {
    /// An apprenticeship offer.
    Offer(OfferNode),
    /// A CFA.
    Cfa(crate::graphql::cfas::CfaNode),
    /// A programme of the training catalogue.
    Formation(crate::graphql::programmes::FormationNode),
    /// One occurrence of an orientation event.
    Event(crate::graphql::events::EventNode),
    /// An orientation site.
    OrientationSite(crate::graphql::events::OrientationSite),
}

/// The root of queries' `node`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
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
                .and_then(|uai| crate::graphql::cfas::CfaNode::of(state, &uai))
                .map(Node::Cfa),
            GlobalId::Formation {
                partner,
                partner_id,
            } => record_at(&sources.formations, partner, &partner_id)
                .map(|f| Node::Formation(crate::graphql::programmes::FormationNode(f))),
            GlobalId::OrientationSite {
                partner,
                partner_id,
            } => record_at(&sources.sites, partner, &partner_id)
                .map(|s| Node::OrientationSite(crate::graphql::events::OrientationSite(s))),
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
                .map(|o| Node::Event(crate::graphql::events::EventNode(o))),
        })
    }
}
