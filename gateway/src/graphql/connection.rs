//! Relay connections of the lists that are paged by position: every such
//! list answers `edges { cursor node }`, `nodes`, `pageInfo` and
//! `totalCount`, as the offers do. Each list builds its page and its
//! cursors; this module gives them the one shape.

use async_graphql::{Object, OutputType};

use super::alerts::OfferAlert;
use super::campaign::{AllocationNode, CampaignEstablishment};
use super::cfa::CfaNode;
use super::events::{EventNode, OrientationSite};
use super::mobility::MobilityRecord;
use super::page_info::PageInfo;

/// How cursors are written: opaque URL-safe base64.
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A page of a list, with its cursors.
pub struct Connection<N> {
    total_count: usize,
    page_info: PageInfo,
    edges: Vec<Edge<N>>,
}

impl<N> Connection<N> {
    /// The page `items[start..end]` of a list of `total_count` items,
    /// where `cursor(i)` is the cursor of the item at position `i`.
    pub fn new(
        total_count: usize,
        start: usize,
        items: impl IntoIterator<Item = N>,
        cursor: impl Fn(usize) -> String,
    ) -> Self {
        let edges: Vec<Edge<N>> = items
            .into_iter()
            .enumerate()
            .map(|(i, node)| Edge {
                cursor: cursor(start + i),
                node,
            })
            .collect();
        let end = start + edges.len();
        Self {
            page_info: PageInfo::at(total_count, start, end, |i| edges[i - start].cursor.clone()),
            total_count,
            edges,
        }
    }
}

impl<N> Connection<N> {
    /// A page read by keys rather than positions: its items with their
    /// cursors, where it stands, and how many items match.
    pub fn of_edges(total_count: usize, page_info: PageInfo, edges: Vec<(String, N)>) -> Self {
        Self {
            total_count,
            page_info,
            edges: edges
                .into_iter()
                .map(|(cursor, node)| Edge { cursor, node })
                .collect(),
        }
    }
}

/// A page of a list: its items with their cursors (`edges`), the items
/// alone (`nodes`), where the page stands and how many items match.
#[Object(
    concrete(name = "CfaConnection", params(CfaNode)),
    concrete(
        name = "CampaignEstablishmentConnection",
        params(CampaignEstablishment)
    ),
    concrete(name = "AllocationConnection", params(AllocationNode)),
    concrete(name = "MobilityRecordConnection", params(MobilityRecord)),
    concrete(name = "EventConnection", params(EventNode)),
    concrete(name = "OrientationSiteConnection", params(OrientationSite)),
    concrete(name = "OfferAlertConnection", params(OfferAlert))
)]
impl<N: OutputType> Connection<N>
where
    Edge<N>: OutputType,
{
    /// How many items match, across every page.
    async fn total_count(&self) -> usize {
        self.total_count
    }

    /// The items of the page, with their cursors.
    async fn edges(&self) -> Vec<&Edge<N>> {
        self.edges.iter().collect()
    }

    /// The items of the page.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Where the page stands: pass `endCursor` as `after` for the next.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
}

/// An item of a page and its cursor.
pub struct Edge<N> {
    cursor: String,
    node: N,
}

/// An item of a page and its cursor.
#[Object(
    concrete(name = "CfaEdge", params(CfaNode)),
    concrete(name = "CampaignEstablishmentEdge", params(CampaignEstablishment)),
    concrete(name = "AllocationEdge", params(AllocationNode)),
    concrete(name = "MobilityRecordEdge", params(MobilityRecord)),
    concrete(name = "EventEdge", params(EventNode)),
    concrete(name = "OrientationSiteEdge", params(OrientationSite)),
    concrete(name = "OfferAlertEdge", params(OfferAlert))
)]
impl<N: OutputType> Edge<N> {
    /// The position to page from.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}
