//! Apprenticeship programmes in the API: the `Formation` type and its
//! places, the pages of programmes, and the queries that list them.

mod connection;
mod node;
mod query;

pub use connection::FormationConnection;
pub use node::FormationNode;
pub use query::{FormationFilterInput, FormationQuery};
