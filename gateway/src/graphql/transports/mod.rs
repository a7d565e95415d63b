//! The transports: GraphQL over HTTP, as the GraphQL-over-HTTP
//! specification says, and subscriptions over graphql-ws and Server-Sent
//! Events, all behind one admission (see `admit`); answers, their media
//! types and the response cache.
//!
//! - `POST` with `Content-Type: application/json` (UTF-8) and a body
//!   `{"query", "operationName"?, "variables"?, "extensions"?}`; `GET` with
//!   the same parameters in the query string (variables and extensions as
//!   JSON), for queries only: a mutation over GET is refused with 405.
//! - The answer is `application/graphql-response+json` when the client
//!   accepts it, else `application/json`; 406 when it accepts neither.
//! - With `application/graphql-response+json`, a request that could not be
//!   executed (malformed document, validation failure) is answered 400 with
//!   no `data`; with `application/json`, a well-formed request is always
//!   answered 200.
//! - A malformed HTTP request (no query, invalid JSON, wrong parameter
//!   types) is answered 400; an unsupported media type 415.
//! - A browser asking for HTML with no query gets GraphiQL.
//! - Subscriptions are served over graphql-ws on `/graphql` and over
//!   Server-Sent Events on `/graphql/stream` (see `stream`).

mod admit;
mod answer;
pub mod cache;
pub mod client;
mod endpoint;
mod execute;
mod negotiate;
pub mod ratelimit;
mod routes;
mod shared;
mod stream;

pub use endpoint::{parsed_documents, persisted_queries, Endpoint, Served};
pub use routes::{get, not_found, other_method, post};
pub use shared::SharedSubscriptions;
pub use stream::{get_or_upgrade, sse, Connections};

pub(crate) use admit::{bearer, identify_with, over_rate_with};
pub(crate) use answer::{refuse_with, MediaType};
