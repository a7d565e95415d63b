//! End-to-end tests: the real gateway on port 0 against the real simulators.

mod helpers;

mod admission;
mod alerts;
mod audit;
mod auth;
mod browser;
mod cache;
mod campaign;
mod campus;
mod cfas;
mod chaos;
mod clients;
mod console;
mod distance;
mod errors;
mod events;
mod federation;
mod formations;
mod graphiql;
mod identity;
mod limits;
mod live;
mod mobility;
mod offers;
mod partners;
mod readme;
mod requests;
mod resilience;
mod schema;
mod scopes;
mod store_faults;
mod subscriptions;
mod supergraph;
mod sync;
mod timeouts;
