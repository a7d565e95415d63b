//! The HTTP server: the routes beside GraphQL (health, readiness, metrics,
//! the campaign's upload and export, the sandbox's syncs and fault knobs)
//! and their wiring with GraphQL's.

pub mod body_timeout;
pub mod campaign;
pub use crate::graphql::transports::client;
pub mod console;
pub mod graphiql;
pub mod idle;
pub mod sandbox_oidc;
pub mod sandbox_webhooks;
pub mod serve;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use passerelle_connectors::sandbox::{FaultUpdate, Sandbox};
use passerelle_connectors::Registry;
use passerelle_schema::Partner;
use serde_json::json;
use tower_http::trace::TraceLayer;

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
    /// The proxies believed about clients' addresses.
    pub trusted_proxies: client::TrustedProxies,
    /// The longest a request's body may stall.
    pub body_read_timeout: std::time::Duration,
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
        .with_state(graphql_http::Endpoint {
            schema: state.schema.clone(),
            operation_timeout: state.operation_timeout,
            limits: state.limits.clone(),
            graphiql: state
                .api
                .graphiql
                .then_some(graphiql::page as fn() -> Response),
            trusted: state.trusted.clone(),
            persisted: graphql_http::persisted_queries(),
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
        });
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
    let app = match cors(&state.api.cors_origins) {
        Some(layer) => app.layer(layer),
        None => app,
    };
    app.layer(axum::middleware::from_fn_with_state(
        state.body_read_timeout,
        body_timeout::limit,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.trusted_proxies.clone(),
        client::resolve,
    ))
    .layer(TraceLayer::new_for_http())
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

/// Prometheus metrics: GraphQL requests, partner calls and their outcomes,
/// breakers, caches, syncs. Every label is from a bounded set.
async fn metrics() -> Response {
    match crate::telemetry::metrics() {
        Some(handle) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are recorded elsewhere\n",
        )
            .into_response(),
    }
}

/// Ready when the store answers a read and commits a write, and the
/// synced feeds have data to serve. The store's health is its watch's last
/// probe (at most a few seconds old), so that this answers at once even
/// while the store does not. Every partner's health is reported as
/// `partners` shows it; live partners' failures do not make the gateway
/// unready, since they are answered per field while the other partners
/// still serve.
async fn readyz(State(state): State<ServerState>) -> Response {
    let store = state.store.health();
    let store_ok = store.read && store.write;
    let sizes = state.sources.sizes();
    let feeds_ok = sizes.iter().all(|f| f.records > 0);
    let mut partners = serde_json::Map::new();
    for &partner in &state.sources.partners {
        let mut feeds = sizes.iter().filter(|f| f.partner == partner).peekable();
        let records = match feeds.peek() {
            Some(_) => Some(feeds.map(|f| f.records).sum::<usize>()),
            None if state.sources.is_live(partner) => None,
            None => continue,
        };
        let health = state.health.state(partner);
        let status = health.status(records.is_some_and(|n| n > 0));
        let mut entry = json!({ "status": format!("{status:?}").to_uppercase() });
        if let Some(n) = records {
            entry["records"] = json!(n);
        }
        if let Some(e) = &health.last_error {
            entry["last_error"] = json!(e.code);
        }
        if let Some(n) = health.rejected {
            entry["rejected"] = json!(n);
        }
        partners.insert(partner.id().into(), entry);
    }
    let ready = store_ok && feeds_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "ready": ready,
            "store": store_ok,
            "store_checks": store,
            "partners": partners,
        })),
    )
        .into_response()
}

/// Syncs a synced partner's feeds now, in sandbox mode: for demos and tests
/// that should not wait for the schedule.
async fn sync_now(State(state): State<ServerState>, Path(partner): Path<String>) -> Response {
    let Some(p) = state.registry.partner(&partner) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("unknown partner {partner:?}") })),
        )
            .into_response();
    };
    let mut runs = Vec::new();
    for feed in state.sources.feeds_of(p) {
        runs.push(feed.sync_once().await);
    }
    if runs.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("{p} is live: there is nothing to sync") })),
        )
            .into_response();
    }
    match runs.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(runs) => Json(runs).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "sync could not be stored");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "the sync could not be stored" })),
            )
                .into_response()
        }
    }
}

fn simulator_faults<'a>(
    sandbox: &'a Sandbox,
    partner: &str,
) -> Result<&'a passerelle_connectors::sandbox::Faults, Box<Response>> {
    let not_found = |message: String| {
        Box::new((StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response())
    };
    let p: Partner = partner
        .parse()
        .map_err(|e: passerelle_schema::partner::UnknownPartner| not_found(e.to_string()))?;
    sandbox
        .simulator(p)
        .map(|s| &s.faults)
        .ok_or_else(|| not_found(format!("no simulator for {p}")))
}

async fn faults_get(
    State((sandbox, _)): State<(Arc<Sandbox>, Store)>,
    Path(partner): Path<String>,
) -> Response {
    match simulator_faults(&sandbox, &partner) {
        Ok(f) => Json(f.report()).into_response(),
        Err(r) => *r,
    }
}

async fn faults_post(
    State((sandbox, store)): State<(Arc<Sandbox>, Store)>,
    Path(partner): Path<String>,
    body: Result<Json<FaultUpdate>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let faults = match simulator_faults(&sandbox, &partner) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Json(update) = match body {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.body_text() })),
            )
                .into_response()
        }
    };
    match faults.update(&update) {
        Ok(report) => {
            tracing::info!(partner = %partner, ?update, "sandbox faults changed");
            // Answers kept from before no longer say what the partner does.
            store.data_changed();
            Json(report).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": e })),
        )
            .into_response(),
    }
}
