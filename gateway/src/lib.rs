//! The Passerelle gateway. Each room of the crate is a folder, and a room
//! uses only the rooms before it (a test, `tests/rooms.rs`, checks it):
//!
//! - [`store`]: the store (SQLite or PostgreSQL), its migrations, leases;
//! - [`partners`]: partners' health, their configured sources, and the
//!   engine that syncs the synced ones;
//! - [`domain`]: what the API answers, built from the sources: offers merged
//!   across exchanges and packed, programmes, events, mobility, CFAs, the
//!   taxe d'apprentissage campaign;
//! - [`auth`] and [`telemetry`]: callers' tokens, logs, traces and metrics;
//! - [`graphql`]: the schema, its resolvers, and GraphQL over HTTP;
//! - [`http`]: the routes beside GraphQL (health, readiness, metrics, the
//!   sandbox's), and the rate limit.
//!
//! What is left at the top is the binary's own: [`config`], `memory` (how
//! the allocator holds memory, set before the runtime starts; syncs and
//! detections give theirs back through it), the [`cli`], and [`app`],
//! which wires the rooms together. The `passerelle` binary is a
//! thin shell over [`cli::run`]; tests build an [`app::Application`]
//! directly.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod graphql;
pub mod http;
mod memory;
pub mod partners;
pub mod store;
pub mod telemetry;
