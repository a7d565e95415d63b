//! Orientation events and sites in the API: the `Event` type (one
//! occurrence of an event), the `OrientationSite` type, and the queries
//! that list them.

mod occurrences;
mod query;
mod sites;

pub use occurrences::{occurrence_page, EventConnection, EventNode};
pub use query::EventQuery;
pub use sites::OrientationSite;
