//! `events` and `orientationSites`: the events part of the root of
//! queries.

use async_graphql::{Context, Object};

use super::occurrences::{event_page, EventConnection, EventFilterInput};
use super::sites::{OrientationSite, OrientationSiteConnection, SiteFilterInput};
use crate::graphql::common::errors::report_stale;
use crate::graphql::common::inputs::page_size;
use crate::graphql::common::ApiState;

/// The widest window of occurrences one query may ask for.
pub(super) const MAX_WINDOW_DAYS: i64 = 400;

/// The events part of the root of queries.
#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Orientation events (open days, forums, the Quinzaine de
    /// l'apprentissage, company visits), one entry per occurrence within
    /// the window, soonest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilterInput>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let partners: Vec<_> = state.sources.events.iter().map(|f| f.partner()).collect();
        report_stale(ctx, &state.health, &partners);
        event_page(state, &filter, first, after)
    }

    /// The orientation sites of the SPRO directory, by identifier.
    async fn orientation_sites(
        &self,
        ctx: &Context<'_>,
        filter: Option<SiteFilterInput>,
        #[graphql(
            default = 100,
            desc = "How many sites, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<OrientationSiteConnection> {
        let first = first.unwrap_or(100);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let mut sites: Vec<OrientationSite> =
            crate::partners::sync::records_of(&state.sources.sites, |s| filter.matches(s))
                .into_iter()
                .map(OrientationSite)
                .collect();
        sites.sort_by(|a, b| a.0.partner_id.cmp(&b.0.partner_id));
        // Cursors are the sites' identifiers.
        let start = match after {
            Some(id) => sites.partition_point(|s| s.0.partner_id.as_str() <= id.as_str()),
            None => 0,
        };
        let end = (start + first).min(sites.len());
        let ids: Vec<String> = sites.iter().map(|s| s.0.partner_id.to_string()).collect();
        let total = sites.len();
        Ok(OrientationSiteConnection::new(
            total,
            start,
            sites.drain(start..end),
            |i| ids[i].clone(),
        ))
    }
}
