//! A simulator of the Pass Monde API: the executable specification of its
//! protocol.
//!
//! `GET /api/v2/bourses?statut=&uai=&annee=&pays=&page=&par_page=` with an
//! `X-Api-Key` header answers `{"bourses": [...], "page", "pages", "total"}`;
//! a missing or wrong key gets 401. Grants go to lycéens and apprentices
//! (`statut_beneficiaire`); amounts follow the published scale, €280 to €880.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::sandbox::cfas::Cfa;
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::is_malformed;
use crate::sandbox::mobility::PassMondeGrant;

/// Passerelle's API key, in the sandbox only.
pub const API_KEY: &str = "sandbox-pass-monde-key";

struct Sim {
    records: Vec<(usize, &'static str, Value)>,
    faults: Faults,
}

/// The simulator's routes: every grant in `grants` goes to an apprentice of
/// the CFAs; three times as many go to lycéens.
pub fn router(cfas: &[Cfa], grants: &[PassMondeGrant], faults: Faults) -> Router {
    let mut records = Vec::new();
    for g in grants {
        let record = json!({
            "numero": format!("PM-{}-{:05}", g.start.year(), g.seq),
            "beneficiaire_id": format!("b-{:05}", g.seq * 7919 % 100_000),
            "statut_beneficiaire": "apprenti",
            "uai_etablissement": cfas[g.cfa].uai,
            "pays_destination": g.country,
            "date_depart": g.start.to_string(),
            "duree_semaines": g.weeks,
            "montant_accorde": g.amount_euros,
        });
        records.push((g.seq, "apprenti", record));
        for k in 0..3 {
            let seq = grants.len() * (k + 1) + g.seq;
            records.push((
                seq,
                "lyceen",
                json!({
                    "numero": format!("PM-{}-{:05}", g.start.year(), seq),
                    "beneficiaire_id": format!("b-{:05}", seq * 7919 % 100_000),
                    "statut_beneficiaire": "lyceen",
                    "uai_etablissement": "0141274J",
                    "pays_destination": g.country,
                    "date_depart": g.start.to_string(),
                    "duree_semaines": g.weeks,
                    "montant_accorde": g.amount_euros,
                }),
            ));
        }
    }
    let sim = Arc::new(Sim {
        records,
        faults: faults.clone(),
    });
    faulty(
        Router::new()
            .route("/api/v2/bourses", get(list))
            .with_state(sim),
        faults,
    )
}

#[derive(Deserialize)]
struct Params {
    statut: Option<String>,
    uai: Option<String>,
    annee: Option<i32>,
    pays: Option<String>,
    page: Option<usize>,
    par_page: Option<usize>,
}

async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Response {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"erreur": "clé d'API absente ou invalide"})),
        )
            .into_response();
    }
    let per_page = p.par_page.unwrap_or(50).clamp(1, 200);
    let page = p.page.unwrap_or(1).max(1);
    let rate = sim.faults.malformed_rate();
    let matching: Vec<Value> = sim
        .records
        .iter()
        .filter(|(_, statut, r)| {
            p.statut.as_deref().is_none_or(|s| s == *statut)
                && p.uai.as_deref().is_none_or(|u| r["uai_etablissement"] == u)
                && p.pays.as_deref().is_none_or(|c| r["pays_destination"] == c)
                && p.annee.is_none_or(|y| {
                    r["date_depart"]
                        .as_str()
                        .is_some_and(|d| d.starts_with(&y.to_string()))
                })
        })
        .map(|(seq, _, r)| {
            let mut r = r.clone();
            if is_malformed(*seq, rate) {
                r["pays_destination"] = Value::Null;
            }
            r
        })
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = matching
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    Json(json!({ "bourses": slice, "page": page, "pages": pages, "total": total })).into_response()
}

/// The simulator's routes, serving the sandbox's data with `faults`.
pub fn simulate(
    data: &crate::sandbox::SandboxData,
    faults: crate::sandbox::Faults,
) -> axum::Router {
    router(&data.cfas, &data.grants, faults)
}

/// The settings of the declaration against a simulator at `base`.
pub fn settings(base: &url::Url) -> crate::registry::Table {
    crate::registry::Table::from_iter([
        ("base_url".to_owned(), base.as_str().into()),
        ("api_key".to_owned(), API_KEY.into()),
    ])
}
