//! Subscriptions over the two transports frontends use: graphql-ws (the
//! `graphql-transport-ws` protocol) on `/graphql`, and GraphQL over
//! Server-Sent Events (the `graphql-sse` protocol, distinct connections
//! mode) on `/graphql/stream`.
//!
//! The caller is authenticated as for queries: from `connection_init`'s
//! `Authorization` (graphql-ws) or the request's header (SSE); each
//! operation counts against its rate. Bounds come
//! from `[subscriptions]`: time to send `connection_init`, subscriptions
//! per connection, connections per address. A subscriber that does not
//! read is cut off (its buffer is bounded): closed with 1013 on graphql-ws,
//! its stream ended on SSE. On shutdown, connections are closed with 1012
//! (graphql-ws) or their streams ended without `complete` (SSE): both tell
//! a client to reconnect.

mod connections;
mod runs;
mod sse;
mod ws;

pub use connections::Connections;
pub use sse::sse;
pub use ws::get_or_upgrade;
