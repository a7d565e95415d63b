//! Health and metrics: `/readyz` (the store and every partner) and
//! Prometheus' `/metrics`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::routes::ServerState;

/// Prometheus metrics: GraphQL requests, partner calls and their outcomes,
/// breakers, caches, syncs. Every label is from a bounded set.
pub(super) async fn metrics() -> Response {
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
pub(super) async fn readyz(State(state): State<ServerState>) -> Response {
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
