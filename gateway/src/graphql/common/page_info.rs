//! Where a page stands in its list: the `pageInfo` of every connection.

use async_graphql::SimpleObject;

use super::written::{Planned, Writer, Written};

/// Where a page stands in its list.
// Shareable: every subgraph of a supergraph that pages its lists may
// define the same type.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct PageInfo {
    /// Whether more items follow.
    pub has_next_page: bool,
    /// Whether items precede.
    pub has_previous_page: bool,
    /// The first item's cursor.
    pub start_cursor: Option<String>,
    /// The last item's cursor: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// Where the page from `start` to `end` stands in a list of `len`
    /// items; `cursor` gives the cursor of the item at a position.
    pub fn at(len: usize, start: usize, end: usize, cursor: impl Fn(usize) -> String) -> Self {
        let page = start..end;
        PageInfo {
            has_next_page: end < len,
            has_previous_page: start > 0,
            start_cursor: (!page.is_empty()).then(|| cursor(start)),
            end_cursor: (!page.is_empty()).then(|| cursor(end - 1)),
        }
    }
}

impl Written for PageInfo {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "hasNextPage" => w.put(self.has_next_page),
            "hasPreviousPage" => w.put(self.has_previous_page),
            "startCursor" => w.opt_str(self.start_cursor.as_deref()),
            "endCursor" => w.opt_str(self.end_cursor.as_deref()),
            _ => None,
        }
    }
}
