//! A simulator of the CCI exchange's API: the executable specification of
//! its protocol, serving generated offers.
//!
//! - `POST /oauth/token`: OAuth2 client credentials (HTTP basic or form
//!   credentials), tokens that expire after the configured lifetime.
//! - `GET /api/v1/offres?rome=&departement=&niveau=&maj_depuis=&curseur=&limite=`:
//!   offers in identifier order, filtered, one page at a time (`limite` ≤ 500),
//!   with the total and the next page's cursor. A bearer token is required.
//! - `GET /api/v1/offres/{id}`: one offer.
//! - `GET /openapi.json`: the OpenAPI 3 document of the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;

use super::wire::{self, Offre, Page, Pagination};
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::{is_malformed, Position};

/// The client Passerelle is registered as at the simulated CCI.
pub const CLIENT_ID: &str = "passerelle";
/// Its secret, in the sandbox only.
pub const CLIENT_SECRET: &str = "sandbox-cci-secret";
/// The most offers one page holds.
pub const MAX_PAGE: usize = 500;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

struct Sim {
    offers: Vec<(usize, Offre, DateTime<Utc>, String, u8)>,
    tokens: Mutex<HashMap<String, Instant>>,
    token_ttl: Duration,
    faults: Faults,
}

/// The simulator's routes, serving `positions` with tokens that live
/// `token_ttl`.
pub fn router(positions: &[Position], token_ttl: Duration, faults: Faults) -> Router {
    let mut offers: Vec<_> = positions
        .iter()
        .map(|p| {
            (
                p.seq,
                offre(p),
                p.updated_at,
                p.commune.departement.clone(),
                p.level,
            )
        })
        .collect();
    offers.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let sim = Arc::new(Sim {
        offers,
        tokens: Mutex::new(HashMap::new()),
        token_ttl,
        faults: faults.clone(),
    });
    faulty(
        Router::new()
            .route("/oauth/token", post(token))
            .route("/api/v1/offres", get(list))
            .route("/api/v1/offres/{id}", get(one))
            .route("/openapi.json", get(openapi))
            .with_state(sim),
        faults,
    )
}

/// How the exchange words a generated position.
fn offre(p: &Position) -> Offre {
    let rfc = |d: DateTime<Utc>| {
        d.with_timezone(&chrono_tz::Europe::Paris)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    };
    let id = format!("CCI-{:06}", p.seq);
    Offre {
        url: format!("https://bourse-apprentissage.example/offres/{id}"),
        id,
        intitule: format!("{} (H/F) — contrat d'apprentissage", p.rome_label),
        description: Some(p.description.clone()),
        codes_rome: vec![p.rome.to_owned()],
        niveau_vise: Some(wire::NiveauVise {
            europeen: p.level.to_string(),
            libelle: match p.level {
                3 => "CAP, BEP",
                4 => "BAC, Bac pro, BP",
                5 => "BTS, DUT",
                6 => "Licence, BUT",
                _ => "Master, titre d'ingénieur",
            }
            .to_owned(),
        }),
        entreprise: wire::Entreprise {
            siret: p.employer.siret.clone(),
            raison_sociale: p.employer.name.clone(),
            tranche_effectif: Some(p.employer.size.to_owned()),
            code_naf: Some(p.employer.naf.replace('.', "")),
            opco: passerelle_schema::reference::opco_name(p.employer.opco).map(str::to_owned),
        },
        lieu: wire::Lieu {
            adresse: Some(p.street.clone()),
            code_postal: p.postcode.to_owned(),
            code_insee: p.commune.code.clone(),
            ville: p.commune.name.clone(),
            geo: p.coordinates.map(|(lat, lon)| wire::Geo { lat, lon }),
        },
        contrat: wire::Contrat {
            date_debut: p.start_date.to_string(),
            duree_mois: p.duration_months,
            rythme: Some(p.rhythm.to_owned()),
        },
        nombre_postes: p.openings,
        statut: p.status.to_owned(),
        publication: wire::Publication {
            creation: rfc(p.published_at),
            expiration: Some(rfc(p.expires_at)),
        },
        maj: rfc(p.updated_at),
    }
}

/// A record as sent, broken in one of the ways real feeds break when
/// `seq` falls in the malformed share.
fn render(seq: usize, o: &Offre, malformed_rate: f64) -> Value {
    let mut v = serde_json::to_value(o).expect("offers serialize");
    if is_malformed(seq, malformed_rate) {
        match seq % 3 {
            0 => v["entreprise"]["siret"] = Value::String(flip_last_digit(&o.entreprise.siret)),
            1 => v["lieu"]["code_insee"] = Value::String("99999".into()),
            _ => v["publication"]["creation"] = Value::String("hier".into()),
        }
    }
    v
}

fn flip_last_digit(s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last = b'0' + (*last - b'0' + 1) % 10;
    }
    String::from_utf8(b).unwrap_or_default()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(wire::OAuthError {
            error: error.into(),
            error_description: description.into(),
        }),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

async fn token(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials",
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            Some((url_decode(id), url_decode(secret)))
        });
    let (id, secret) = basic.unwrap_or((
        form.client_id.unwrap_or_default(),
        form.client_secret.unwrap_or_default(),
    ));
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let mut raw = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut raw);
    let access_token = B64.encode(raw);
    let mut tokens = sim.tokens.lock().expect("token lock");
    let now = Instant::now();
    tokens.retain(|_, expiry| *expiry > now);
    tokens.insert(access_token.clone(), now + sim.token_ttl);
    Json(wire::TokenAnswer {
        access_token,
        token_type: "Bearer".into(),
        expires_in: sim.token_ttl.as_secs(),
        scope: form.scope.unwrap_or_else(|| "offres:lecture".into()),
    })
    .into_response()
}

/// Decodes the form-encoding OAuth2 applies to basic credentials.
fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect()
}

fn authorised(sim: &Sim, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let valid = token.is_some_and(|t| {
        sim.tokens
            .lock()
            .expect("token lock")
            .get(t)
            .is_some_and(|expiry| *expiry > Instant::now())
    });
    valid
}

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        Json(serde_json::json!({"erreur": "jeton absent, invalide ou expiré"})),
    )
        .into_response()
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "erreur": message })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    rome: Option<String>,
    departement: Option<String>,
    niveau: Option<String>,
    maj_depuis: Option<String>,
    curseur: Option<String>,
    limite: Option<String>,
}

async fn list(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if !authorised(&sim, &headers) {
        return unauthorised();
    }
    let romes: Vec<String> = q
        .rome
        .iter()
        .flat_map(|r| r.split(','))
        .map(|r| r.trim().to_ascii_uppercase())
        .filter(|r| !r.is_empty())
        .collect();
    let level = match q.niveau.as_deref().map(str::parse::<u8>) {
        None => None,
        Some(Ok(l)) if (3..=8).contains(&l) => Some(l),
        Some(_) => return bad_request("niveau: un niveau européen de 3 à 8".into()),
    };
    let since = match q.maj_depuis.as_deref().map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(d)) => Some(d.to_utc()),
        Some(Err(_)) => return bad_request("maj_depuis: une date RFC 3339".into()),
    };
    let limit = match q.limite.as_deref().map(str::parse::<usize>) {
        None => 100,
        Some(Ok(l)) if (1..=MAX_PAGE).contains(&l) => l,
        Some(_) => return bad_request(format!("limite: de 1 à {MAX_PAGE}")),
    };
    let after = match q.curseur.as_deref() {
        None => None,
        Some(c) => match B64.decode(c).ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(id) => Some(id),
            None => return bad_request("curseur: inconnu".into()),
        },
    };
    let matching: Vec<_> = sim
        .offers
        .iter()
        .filter(|(_, o, updated, dep, l)| {
            (romes.is_empty() || o.codes_rome.iter().any(|r| romes.contains(r)))
                && q.departement.as_deref().is_none_or(|d| d.trim() == dep)
                && level.is_none_or(|x| x == *l)
                && since.is_none_or(|s| *updated >= s)
        })
        .collect();
    let total = matching.len() as u64;
    let start = match &after {
        Some(id) => matching.partition_point(|(_, o, ..)| o.id.as_str() <= id.as_str()),
        None => 0,
    };
    let page = &matching[start..(start + limit).min(matching.len())];
    let rate = sim.faults.malformed_rate();
    let next = (start + limit < matching.len())
        .then(|| page.last().map(|(_, o, ..)| B64.encode(&o.id)))
        .flatten();
    Json(Page {
        data: page
            .iter()
            .map(|(seq, o, ..)| render(*seq, o, rate))
            .collect(),
        pagination: Pagination {
            total,
            suivant: next,
        },
    })
    .into_response()
}

async fn one(State(sim): State<Arc<Sim>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorised(&sim, &headers) {
        return unauthorised();
    }
    match sim
        .offers
        .binary_search_by(|(_, o, ..)| o.id.as_str().cmp(&id))
    {
        Ok(i) => {
            let (seq, o, ..) = &sim.offers[i];
            Json(render(*seq, o, sim.faults.malformed_rate())).into_response()
        }
        Err(_) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"erreur": "offre inconnue"})),
        )
            .into_response(),
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}

/// The simulator's routes, serving the sandbox's data with `faults`.
pub fn simulate(
    data: &crate::sandbox::SandboxData,
    faults: crate::sandbox::Faults,
) -> axum::Router {
    router(&data.offers.cci, data.settings.cci_token_ttl, faults)
}

/// The settings of the declaration against a simulator at `base`.
pub fn settings(base: &url::Url) -> crate::registry::Table {
    let credentials = serde_json::json!({
        "token_url": base.join("oauth/token").expect("a relative path").as_str(),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": ["offres:lecture"],
    });
    crate::registry::Table::from_iter([
        ("base_url".to_owned(), base.as_str().into()),
        ("credentials".to_owned(), credentials),
    ])
}
