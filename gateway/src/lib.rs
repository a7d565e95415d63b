//! The Passerelle gateway: configuration, command line, HTTP server, GraphQL
//! API, store and sync scheduler. The `passerelle` binary is a thin shell
//! over [`cli::run`]; tests build an [`app::Application`] directly.

pub mod app;
pub mod auth;
pub mod campaign;
pub mod cfas;
pub mod cli;
pub mod config;
pub mod events;
pub mod formations;
pub mod graphql;
pub mod health;
pub mod lease;
pub mod mobility;
pub mod offers;
pub mod packed;
pub mod ratelimit;
mod server;
pub mod sources;
pub mod store;
pub mod sync;
pub mod telemetry;
