//! Objects by their identity: Relay's `Node` and `node(id)`, and the
//! entities a supergraph's router resolves by key (`_entities`).

mod federation;
mod node;

pub use federation::{check_representation, EntityLoaders, EntityMemo, EntityQuery};
pub use node::NodeQuery;
