//! What `/graphql` serves with: the state its handlers share.

use std::collections::HashMap;

use crate::graphql::cache::ResponseCache;
use crate::graphql::PasserelleSchema;

/// What `/graphql` serves: the schema, and how long an operation may take.
#[derive(Clone)]
pub struct Endpoint {
    /// The schema.
    pub schema: PasserelleSchema,
    /// The deadline of an operation, from its arrival.
    pub operation_timeout: std::time::Duration,
    /// Bounds on documents and batches.
    pub limits: crate::config::Limits,
    /// Whether a browser gets GraphiQL.
    pub graphiql: bool,
    /// When set, the only documents that run: SHA-256 (hex) → document.
    pub trusted: Option<std::sync::Arc<HashMap<String, String>>>,
    /// Checks callers' bearer tokens.
    pub validator: std::sync::Arc<crate::auth::Validator>,
    /// Limits callers' request rates.
    pub limiter: std::sync::Arc<crate::graphql::http::ratelimit::Limiter>,
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
}
