//! CFAs and employers joined across partners: the `Cfa` type and its
//! joins loaded in batches, employers by SIRET, and the queries that list
//! them.

mod employer;
mod joins;
mod node;
mod query;

pub use employer::{employer_loader, employer_offers, EmployerProfile};
pub use joins::{loaders, spawn_in_operation, Joined};
pub use node::CfaNode;
pub use query::CfaQuery;
