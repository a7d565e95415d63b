//! What the routes share, and the gateway's routes: GraphQL's doors, the
//! console and GraphiQL, health, the campaign's upload and export, the
//! sandbox's knobs, behind one admission and one set of bounds. Every
//! request reaches them through the entry ([`super::entry`]).

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use passerelle_connectors::sandbox::Sandbox;
use passerelle_connectors::Registry;

use super::health::{metrics, readyz};
use super::sandbox_routes::{faults_get, faults_post, sync_now};
use super::{book, console, graphiql, sandbox_oidc, sandbox_webhooks};
use crate::graphql::{transports as graphql_http, PasserelleSchema};
use crate::partners::health::Health;
use crate::partners::sources::Sources;
use crate::store::Store;

/// What the routes share.
#[derive(Clone)]
pub struct ServerState {
    /// The GraphQL schema.
    pub schema: PasserelleSchema,
    /// The partners known.
    pub registry: Registry,
    /// Every configured partner's sources, for readiness and syncs.
    pub sources: Arc<Sources>,
    /// Partners' health.
    pub health: Arc<Health>,
    /// The store, for readiness.
    pub store: Store,
    /// The sandbox, in sandbox mode only.
    pub sandbox: Option<Arc<Sandbox>>,
    /// The largest request body.
    pub max_body_bytes: usize,
    /// How long one GraphQL operation may take.
    pub operation_timeout: std::time::Duration,
    /// Bounds on requests.
    pub limits: crate::config::Limits,
    /// What the API exposes besides answers.
    pub api: crate::config::ApiConfig,
    /// Whether the subgraph SDL carries `@requiresScopes`.
    pub subgraph_scopes: bool,
    /// The trusted documents, when only they may run.
    pub trusted: Option<Arc<std::collections::HashMap<String, String>>>,
    /// Checks callers' tokens.
    pub validator: Arc<crate::auth::Validator>,
    /// The sandbox's token issuer, whose keys `/.well-known/jwks.json` publishes.
    pub issuer: Option<Arc<crate::auth::issuer::Issuer>>,
    /// Bounds on subscriptions.
    pub subscriptions: crate::config::SubscriptionLimits,
    /// Cancelled when the gateway stops.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The WebSocket connections open.
    pub tracker: tokio_util::task::TaskTracker,
    /// Subscriptions sharing one execution.
    pub shared: Arc<crate::graphql::transports::SharedSubscriptions>,
    /// What the sandbox's webhook receiver got, in sandbox mode.
    pub webhooks: Option<Arc<sandbox_webhooks::Inbox>>,
    /// The web console's settings.
    pub console: crate::config::ConsoleConfig,
    /// The address the gateway listens on (bound): the sandbox's sign-in
    /// is built from it, never from a request's `Host`.
    pub listen: std::net::SocketAddr,
    /// Signs the console's sign-in cookies, when the console is served.
    pub console_key: Option<Arc<console::signed::CookieKey>>,
}

/// The gateway's routes.
pub fn router(state: ServerState) -> Router {
    // One rate per caller, whichever route it calls.
    let limiter = Arc::new(crate::graphql::transports::ratelimit::Limiter::new(
        &state.limits.rate,
    ));
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql_http::get_or_upgrade)
                .post(graphql_http::post)
                .fallback(graphql_http::other_method),
        )
        .route(
            "/graphql/stream",
            axum::routing::post(graphql_http::sse).fallback(graphql_http::other_method),
        )
        .with_state(graphql_http::Endpoint::new(graphql_http::Served {
            schema: state.schema.clone(),
            operation_timeout: state.operation_timeout,
            limits: state.limits.clone(),
            graphiql: state
                .api
                .graphiql
                .then_some(graphiql::page as fn() -> Response),
            trusted: state.trusted.clone(),
            persisted: graphql_http::persisted_queries(),
            parsed: graphql_http::parsed_documents(),
            validator: state.validator.clone(),
            limiter: limiter.clone(),
            cache: crate::graphql::transports::cache::ResponseCache::new(
                state.api.response_cache_ttl,
                state.api.response_cache_max_bytes,
                state.store.clone(),
            ),
            subscriptions: state.subscriptions.clone(),
            shared: state.shared.clone(),
            connections: Default::default(),
            shutdown: state.shutdown.clone(),
            tracker: state.tracker.clone(),
            subgraph_scopes: state.subgraph_scopes,
            introspection: state.api.introspection,
        }));
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.clone())
        .merge(graphql);
    if let Some(sandbox) = &state.sandbox {
        app = app
            .merge(
                Router::new()
                    .route(
                        "/_sandbox/{partner}/faults",
                        get(faults_get).post(faults_post),
                    )
                    .with_state((sandbox.clone(), state.store.clone())),
            )
            .merge(
                Router::new()
                    .route("/_sandbox/{partner}/sync", axum::routing::post(sync_now))
                    .with_state(state.clone()),
            );
        if let Some(inbox) = &state.webhooks {
            app = app.merge(sandbox_webhooks::routes(inbox.clone()));
        }
        if let Some(issuer) = &state.issuer {
            let jwks = issuer.jwks();
            app = app
                .route(
                    "/.well-known/jwks.json",
                    get(move || async move { Json(jwks) }),
                )
                .merge(sandbox_oidc::routes(Arc::new(sandbox_oidc::Provider::new(
                    issuer.clone(),
                    issuer.name().to_owned(),
                    console::site_origin(state.console.public_url.as_ref(), state.listen),
                ))));
        }
    }
    if let (true, Some(key)) = (state.console.enabled, &state.console_key) {
        app = app.merge(console::routes(Arc::new(console::Console::new(
            state.console.clone(),
            state.validator.clone(),
            state.sandbox.is_some(),
            state.issuer.is_some(),
            state.listen,
            key.clone(),
        ))));
    }
    if state.api.graphiql {
        app = app.merge(graphiql::routes());
    }
    app = app.merge(book::routes());
    let app = app.layer(DefaultBodyLimit::max(state.max_body_bytes));
    let campaign = crate::http::campaign::CampaignHttp {
        store: state.store.clone(),
        validator: state.validator.clone(),
        limiter,
        session_cookie: console::session_cookie(console::secure(state.console.public_url.as_ref())),
    };
    let app = app.merge(
        Router::new()
            .route(
                "/ingest/allocations",
                axum::routing::post(crate::http::campaign::upload).layer(
                    tower_http::limit::RequestBodyLimitLayer::new(state.limits.max_upload_bytes),
                ),
            )
            .route(
                "/export/tax-campaign/{file}",
                get(crate::http::campaign::export),
            )
            .with_state(campaign),
    );
    let app = app.fallback(graphql_http::not_found);
    match cors(&state.api.cors_origins) {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// The CORS policy for browsers on the configured origins; none when no
/// origin is configured.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
