//! The schema: the roots gathered from every room of the API, its bounds
//! and its SDL.

use async_graphql::{MergedObject, Schema};

use crate::config::Limits;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::{partner_id, written, ApiState};
use crate::graphql::documents::{order, shape};
use crate::graphql::{
    alerts, campaign, cfas, entities, events, mobility, occupations, offers, partners, programmes,
    public_sector, region,
};

/// The root of queries, gathered from each part of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    offers::OfferQuery,
    occupations::OccupationQuery,
    entities::NodeQuery,
    partners::PartnerQuery,
    programmes::FormationQuery,
    mobility::MobilityQuery,
    events::EventQuery,
    public_sector::PublicSectorQuery,
    cfas::CfaQuery,
    region::RegionQuery,
    campaign::CampaignQuery,
    alerts::AlertQuery,
    entities::EntityQuery,
);

/// The root of mutations.
#[derive(MergedObject, Default)]
pub struct Mutation(campaign::CampaignMutation, alerts::AlertMutation);

/// The root of subscriptions.
pub type Subscription = alerts::Subscription;

/// The gateway's schema.
pub type PasserelleSchema = Schema<Query, Mutation, Subscription>;

/// Checks a document's text as admission does before the schema reads it
/// (its bounds, then the operation it runs), and plans the order of its
/// answer: what a request costs before anything runs, for the fuzzer to
/// feed arbitrary text. The error is the refusal's code.
#[doc(hidden)]
pub fn check_document(
    text: &str,
    operation: Option<&str>,
    limits: &Limits,
) -> Result<(), ErrorCode> {
    let doc = async_graphql::parser::parse_query(text).map_err(|_| ErrorCode::ParseFailed)?;
    shape::admit(&doc, operation, None, limits).map_err(|(code, _)| code)?;
    if let Some(op) = shape::chosen(&doc, operation) {
        order::Plan::of(&doc, &op.node);
    }
    Ok(())
}

/// Builds the schema over `state`.
pub fn build_schema(state: ApiState) -> PasserelleSchema {
    let depth = state.limits.max_depth;
    let complexity = state.limits.max_complexity;
    let introspection = state.introspection;
    let (offer_loader, mobility_loader) = cfas::loaders(
        state.offers.clone(),
        state.mobility.clone(),
        state.sources.clone(),
        state.cfas.clone(),
    );
    let entity_loaders = entities::EntityLoaders::new(state.offers.clone());
    let partners = state.registry.partners().collect();
    let schema = partner_id::with_partners(partners, builder)
        .data(offer_loader)
        .data(entity_loaders)
        .data(cfas::employer_loader(state.offers.clone()))
        .data(mobility_loader)
        .data(written::Allowed(state.write_json))
        .data(state)
        // The bounds are `shape`'s, checked first at every door, with
        // fragments expanded and introspection on its own terms; the
        // schema's are what is left should a door not check them.
        .limit_depth(depth.max(shape::INTROSPECTION_DEPTH))
        .limit_complexity(complexity);
    // Automatic persisted queries are read at admission, before the
    // document's bounds are checked (see `http::admit`).
    let schema = if introspection {
        schema
    } else {
        schema.disable_introspection()
    };
    schema.finish()
}

/// The schema, before its data and limits: a Federation 2 subgraph.
fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .enable_federation()
}

/// The SDL of `schema` as a subgraph: what `_service { sdl }` answers, with
/// Federation's directives (`@key`, `@requiresScopes`, `@inaccessible`…).
pub fn subgraph_sdl(schema: &PasserelleSchema) -> String {
    schema.sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}

fn standard_schema() -> PasserelleSchema {
    let partners = passerelle_connectors::Registry::standard()
        .partners()
        .collect();
    partner_id::with_partners(partners, builder).finish()
}

/// The schema's SDL, as committed in `schema/passerelle.graphql`.
pub fn sdl() -> String {
    standard_schema().sdl()
}

/// The schema's SDL as a subgraph, as committed in
/// `schema/passerelle.subgraph.graphql`.
pub fn federation_sdl() -> String {
    subgraph_sdl(&standard_schema())
}
