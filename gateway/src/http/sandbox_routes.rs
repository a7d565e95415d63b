//! The sandbox's knobs: a synced partner's feeds synced now, and the
//! simulators' faults read and set.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use passerelle_connectors::sandbox::{FaultUpdate, Sandbox};
use passerelle_schema::Partner;
use serde_json::json;

use super::routes::ServerState;
use crate::store::Store;

/// Syncs a synced partner's feeds now, in sandbox mode: for demos and tests
/// that should not wait for the schedule.
pub(super) async fn sync_now(
    State(state): State<ServerState>,
    Path(partner): Path<String>,
) -> Response {
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

pub(super) async fn faults_get(
    State((sandbox, _)): State<(Arc<Sandbox>, Store)>,
    Path(partner): Path<String>,
) -> Response {
    match simulator_faults(&sandbox, &partner) {
        Ok(f) => Json(f.report()).into_response(),
        Err(r) => *r,
    }
}

pub(super) async fn faults_post(
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
