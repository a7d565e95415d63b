//! What `/graphql` serves with: the state its handlers share.

use std::collections::HashMap;

use async_graphql::parser::types::ExecutableDocument;

use super::cache::ResponseCache;
use crate::graphql::schema::PasserelleSchema;

/// What `/graphql` serves, shared by its handlers: a handle, cloned for
/// every request (axum hands each handler its own copy of the state), so
/// one reference count rather than a copy of every field's.
#[derive(Clone)]
pub struct Endpoint(std::sync::Arc<Served>);

impl Endpoint {
    /// The handle of `served`.
    pub fn new(served: Served) -> Self {
        Self(std::sync::Arc::new(served))
    }
}

impl std::ops::Deref for Endpoint {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.0
    }
}

/// What `/graphql` serves with: the schema, and how long an operation may
/// take.
pub struct Served {
    /// The schema.
    pub schema: PasserelleSchema,
    /// The deadline of an operation, from its arrival.
    pub operation_timeout: std::time::Duration,
    /// Bounds on documents and batches.
    pub limits: crate::config::Limits,
    /// The page a browser asking `/graphql` for HTML gets: GraphiQL, when
    /// it is on.
    pub graphiql: Option<fn() -> axum::response::Response>,
    /// When set, the only documents that run: SHA-256 (hex) → document.
    pub trusted: Option<std::sync::Arc<HashMap<String, String>>>,
    /// Automatic persisted queries, when trusted documents are off: SHA-256
    /// (hex) → a document admitted once, bounded in bytes.
    pub persisted: moka::sync::Cache<String, std::sync::Arc<str>>,
    /// Documents as parsed, by their text: a client sends the same few
    /// documents again and again, and parsing one costs more than copying
    /// its tree.
    pub parsed: moka::sync::Cache<String, std::sync::Arc<ExecutableDocument>>,
    /// Checks callers' bearer tokens.
    pub validator: std::sync::Arc<crate::auth::Validator>,
    /// Limits callers' request rates.
    pub limiter: std::sync::Arc<super::ratelimit::Limiter>,
    /// Answers kept and served again, when on.
    pub cache: Option<ResponseCache>,
    /// Bounds on subscriptions.
    pub subscriptions: crate::config::SubscriptionLimits,
    /// Subscriptions sharing one execution.
    pub shared: std::sync::Arc<super::SharedSubscriptions>,
    /// Subscription connections open, by address.
    pub connections: std::sync::Arc<super::stream::Connections>,
    /// Cancelled when the gateway stops: subscribers are told to
    /// reconnect.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The WebSocket connections, so that shutdown waits for their close.
    pub tracker: tokio_util::task::TaskTracker,
    /// Whether `_service { sdl }` carries `@requiresScopes`.
    pub subgraph_scopes: bool,
    /// Whether the schema may be introspected.
    pub introspection: bool,
}

/// The bytes of automatic persisted queries kept.
const PERSISTED_BYTES: u64 = 8 * 1024 * 1024;

/// An empty store of automatic persisted queries.
pub fn persisted_queries() -> moka::sync::Cache<String, std::sync::Arc<str>> {
    moka::sync::Cache::builder()
        .weigher(|k: &String, v: &std::sync::Arc<str>| {
            u32::try_from(k.len() + v.len()).unwrap_or(u32::MAX)
        })
        .max_capacity(PERSISTED_BYTES)
        .build()
}

/// The bytes of parsed documents kept, as their trees weigh: at most a
/// few hundred documents of the usual size. A client that writes its
/// values into its documents rather than in variables sends a new text at
/// each request: such texts only pass through.
const PARSED_BYTES: u64 = 4 * 1024 * 1024;

/// About what a parsed document weighs, from its text: its tree holds a
/// node, a position and a name for every few characters.
const TREE_PER_TEXT_BYTE: usize = 24;

/// An empty store of parsed documents.
pub fn parsed_documents() -> moka::sync::Cache<String, std::sync::Arc<ExecutableDocument>> {
    moka::sync::Cache::builder()
        .weigher(|k: &String, _: &std::sync::Arc<ExecutableDocument>| {
            u32::try_from(k.len().saturating_mul(TREE_PER_TEXT_BYTE)).unwrap_or(u32::MAX)
        })
        .max_capacity(PARSED_BYTES)
        .build()
}
