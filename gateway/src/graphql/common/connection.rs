//! Relay connections of the lists that are paged by position: every such
//! list answers `edges { cursor node }`, `nodes`, `pageInfo` and
//! `totalCount`, as the offers do. Each list builds its page and its
//! cursors; this module gives them the one shape, and each list's room
//! names its page types with [`connection_types!`].

use async_graphql::OutputType;
use base64::Engine as _;

use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::written::{Planned, Writer, Written};

/// How cursors are written: opaque URL-safe base64.
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `raw` in [`B64`], in a string allocated once, at its size: cursors and
/// identifiers are made by the thousand for a page of CFAs, and the
/// engine's `encode` fills a zeroed buffer before it copies it.
pub fn b64(raw: &[u8]) -> String {
    let mut out = String::with_capacity(base64::encoded_len(raw.len(), false).unwrap_or_default());
    B64.encode_string(raw, &mut out);
    out
}

/// What `raw` writes, in [`B64`]: a cursor, written on the stack and
/// encoded once.
pub fn b64_of(raw: std::fmt::Arguments<'_>) -> String {
    use std::io::Write as _;
    let mut bytes = smallvec::SmallVec::<[u8; 128]>::new();
    // Writing to memory cannot fail.
    let _ = bytes.write_fmt(raw);
    b64(&bytes)
}

/// A page of a list, with its cursors.
pub struct Connection<N> {
    pub(in crate::graphql) total_count: usize,
    pub(in crate::graphql) page_info: PageInfo,
    pub(in crate::graphql) edges: Vec<Edge<N>>,
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

/// An item of a page and its cursor.
pub struct Edge<N> {
    pub(in crate::graphql) cursor: String,
    pub(in crate::graphql) node: N,
}

/// Names the page types of a list of `$node`: `$connection` (its items
/// with their cursors, the items alone, where the page stands, how many
/// match) and `$edge`, both of the one shape every connection has.
macro_rules! connection_types {
    ($node:ty, $connection:tt, $edge:tt) => {
        /// A page of a list: its items with their cursors (`edges`), the items
        /// alone (`nodes`), where the page stands and how many items match.
        #[async_graphql::Object(name = $connection)]
        impl $crate::graphql::common::connection::Connection<$node> {
            /// How many items match, across every page.
            async fn total_count(&self) -> usize {
                self.total_count
            }

            /// The items of the page, with their cursors.
            async fn edges(&self) -> Vec<&$crate::graphql::common::connection::Edge<$node>> {
                self.edges.iter().collect()
            }

            /// The items of the page.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }

            /// Where the page stands: pass `endCursor` as `after` for the next.
            async fn page_info(&self) -> &$crate::graphql::common::page_info::PageInfo {
                &self.page_info
            }
        }

        /// An item of a page and its cursor.
        #[async_graphql::Object(name = $edge)]
        impl $crate::graphql::common::connection::Edge<$node> {
            /// The position to page from.
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            /// The item.
            async fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}
pub(crate) use connection_types;

impl<N: Written> Written for Connection<N>
where
    Connection<N>: OutputType,
    Edge<N>: OutputType,
{
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "totalCount" => w.put(self.total_count),
            "edges" => w.objects(&self.edges, f.sub()),
            "nodes" => w.objects(self.edges.iter().map(|e| &e.node), f.sub()),
            "pageInfo" => w.object(&self.page_info, f.sub()),
            _ => None,
        }
    }
}

impl<N: Written> Written for Edge<N>
where
    Edge<N>: OutputType,
{
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "cursor" => w.str(&self.cursor),
            "node" => w.object(&self.node, f.sub()),
            _ => None,
        }
    }
}
