//! The HTTP server: the routes beside GraphQL (health, readiness, metrics,
//! the campaign's upload and export, the sandbox's syncs and fault knobs)
//! and their wiring with GraphQL's.

pub mod body_timeout;
pub mod book;
pub mod campaign;
pub use crate::graphql::transports::client;
pub mod console;
pub mod entry;
pub mod graphiql;
mod health;
pub mod idle;
mod routes;
pub mod sandbox_oidc;
mod sandbox_routes;
pub mod sandbox_webhooks;
pub mod serve;

pub use routes::{router, ServerState};
