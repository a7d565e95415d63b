//! `cfas`, `cfa` and `employer`: CFAs by UAI, and employers by SIRET.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object};
use passerelle_schema::{Siret, Uai};

use super::employer::{employer_offers, EmployerProfile};
use super::joins::PageJoins;
use super::node::CfaNode;
use crate::domain::cfas::CfaInfo;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::errors::{report_partner_errors, ErrorCode};
use crate::graphql::common::inputs::{self, page_size};
use crate::graphql::common::written::Page;
use crate::graphql::common::ApiState;

/// Which CFAs to list.
#[derive(InputObject, Default)]
#[graphql(name = "CfaFilter")]
pub struct CfaFilterInput {
    /// In this département.
    departement: Option<String>,
    /// In this commune (INSEE code).
    commune: Option<String>,
    /// Training for any of these occupations.
    rome: Option<Vec<String>>,
}

/// A page of CFAs, by UAI: cursors are UAIs.
pub type CfaConnection = crate::graphql::common::connection::Connection<CfaNode>;
connection_types!(CfaNode, "CfaConnection", "CfaEdge");

/// The joins the page's CFAs are asked for, loaded for the page at once;
/// `None` when none is asked, or when a load fails (each CFA's field then
/// loads its own, and says its own error).
async fn page_joins(ctx: &Context<'_>, page: &[Arc<CfaInfo>]) -> Option<Arc<PageJoins>> {
    let look = ctx.look_ahead();
    let asks = |join: &str| {
        look.field("nodes").field(join).exists()
            || look.field("edges").field("node").field(join).exists()
    };
    let (offers, mobility) = (asks("offers"), asks("mobility"));
    if !offers && !mobility {
        return None;
    }
    let uais: Vec<Uai> = page.iter().map(|c| c.uai.clone()).collect();
    PageJoins::load(ctx, &uais, offers, mobility)
        .await
        .ok()
        .map(Arc::new)
}

/// The CFA and employer part of the root of queries.
#[derive(Default)]
pub struct CfaQuery;

#[Object]
impl CfaQuery {
    /// A CFA by UAI, gathered from every partner.
    async fn cfa(&self, ctx: &Context<'_>, uai: String) -> async_graphql::Result<Option<CfaNode>> {
        let uai =
            Uai::parse(&uai).map_err(|e| ErrorCode::InvalidInput.error(format!("uai: {e}")))?;
        let state = ctx.data::<ApiState>()?;
        Ok(CfaNode::of(state, &uai))
    }

    /// The CFAs of Normandy, by UAI.
    async fn cfas(
        &self,
        ctx: &Context<'_>,
        filter: Option<CfaFilterInput>,
        #[graphql(default = 20)] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Page<CfaConnection>> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let f = filter.unwrap_or_default();
        let departement = inputs::departement(ctx, "filter.departement", f.departement)?;
        let commune = inputs::commune("filter.commune", f.commune)?;
        let romes = inputs::romes("filter.rome", f.rome)?;
        let directory = state.cfa_directory();
        let items: Vec<Arc<CfaInfo>> = directory
            .iter()
            .filter(|c| {
                departement
                    .as_ref()
                    .is_none_or(|d| c.departement().as_ref() == Some(d))
                    && commune
                        .as_ref()
                        .is_none_or(|x| c.commune.as_ref() == Some(x))
                    && (romes.is_empty() || c.romes.iter().any(|r| romes.contains(r)))
            })
            .cloned()
            .collect();
        let start = match after {
            Some(a) => {
                let uai = Uai::parse(&a).map_err(|_| {
                    ErrorCode::InvalidCursor.error("after is not a cursor of this list")
                })?;
                items.partition_point(|c| c.uai <= uai)
            }
            None => 0,
        };
        let end = (start + first).min(items.len());
        let joins = page_joins(ctx, &items[start..end]).await;
        Ok(Page(CfaConnection::new(
            items.len(),
            start,
            items[start..end]
                .iter()
                .map(|c| CfaNode(c.clone(), directory.clone(), joins.clone())),
            |i| items[i].uai.to_string(),
        )))
    }

    /// An employer by SIRET, with its offers on every exchange; null when no
    /// exchange publishes an offer of it.
    async fn employer(
        &self,
        ctx: &Context<'_>,
        siret: String,
    ) -> async_graphql::Result<Option<EmployerProfile>> {
        let siret = Siret::parse(&siret)
            .map_err(|e| ErrorCode::InvalidInput.error(format!("siret: {e}")))?;
        let Some(joined) = employer_offers(ctx, siret.clone()).await? else {
            return Ok(None);
        };
        report_partner_errors(ctx, &joined.errors);
        Ok((!joined.value.is_empty()).then(|| EmployerProfile::new(siret, Arc::new(joined.value))))
    }
}
