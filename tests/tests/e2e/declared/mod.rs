//! Partners no code knows, declared in configuration (`kind =
//! "declared"`) with a mapping file beside it: a branch's XML catalogue of
//! programmes, served beside a shipped partner that is itself a
//! declaration (the Carif-Oref), with everything a compiled partner gets.

mod live;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use passerelle_connectors::sandbox::SimServer;
use serde_json::{json, Value};

use passerelle::auth::issuer::Issuer;

use crate::helpers::{spawn_app_rooted, TestApp, SMALL};

/// An identity provider's issuer, its key under `dir`.
fn idp(dir: &std::path::Path) -> Issuer {
    Issuer::load_or_create(dir, "https://idp.example", "passerelle").unwrap()
}

/// What `query` answers for the Région's BI, with a token of `idp`.
async fn data_bi(app: &TestApp, idp: &Issuer, query: &str) -> Value {
    let token = idp.mint("analyst", "region:bi", None, None, Duration::from_secs(600));
    let (_, body) = app.post_as(Some(&token), query, json!({})).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// The branch's catalogue, answered while `up`, else 503; and the keys of
/// the identity provider the gateway trusts (`/jwks`).
async fn branch_serving(up: Arc<AtomicBool>, idp: &Issuer) -> SimServer {
    let jwks = idp.jwks();
    let router = axum::Router::new()
        .route("/jwks", get(move || async move { axum::Json(jwks) }))
        .route(
            "/catalogue.xml",
            get(move || {
                let up = up.load(Ordering::SeqCst);
                async move {
                    if up {
                        (
                            axum::http::StatusCode::OK,
                            [("content-type", "application/xml")],
                            include_str!("catalogue.xml"),
                        )
                    } else {
                        (
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            [("content-type", "text/plain")],
                            "maintenance",
                        )
                    }
                }
            }),
        );
    SimServer::start("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
}

/// A folder of mapping files holding `partner`'s of `entity`.
fn mappings_of(partner: &str, entity: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(partner)).unwrap();
    std::fs::write(dir.path().join(format!("{partner}/{entity}.toml")), text).unwrap();
    dir
}

/// A folder of mapping files holding the branch's.
fn mappings() -> tempfile::TempDir {
    mappings_of("branche", "formation", include_str!("formation.toml"))
}

/// The configuration of the branch (pulled every `interval`) and of the
/// Carif-Oref, the latter by its identifier as before.
fn partners(branch: &SimServer, carif: &SimServer, interval: &str) -> String {
    format!(
        r#"
[sandbox]
enabled = false

[auth]
jwks_url = "{}"
issuer = "https://idp.example"

[[partners]]
kind = "declared"
id = "branche"
api_name = "BRANCHE"
name = "Branche — catalogue des formations"
about = "A branch's catalogue of programmes (declared in a test)."

[[partners.feeds]]
entity = "formation"
url = "{}"
sync_interval = "{interval}"

[[partners]]
kind = "carif"
feed_url = "{}"
"#,
        branch.base_url().join("/jwks").unwrap(),
        branch.base_url().join("/catalogue.xml").unwrap(),
        carif.base_url().join("/lheo/offres.xml").unwrap(),
    )
}

async fn carif_serving() -> SimServer {
    let lheo: axum::body::Bytes =
        include_bytes!("../../../../mappings/carif/samples/offres-lheo-2.2.xml")[..].into();
    let router = axum::Router::new().route(
        "/lheo/offres.xml",
        get(move || async move { ([("content-type", "application/xml")], lheo) }),
    );
    SimServer::start("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
}

async fn readiness(app: &TestApp) -> Value {
    app.client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_partner_declared_in_configuration_is_served_like_the_compiled_ones() {
    let up = Arc::new(AtomicBool::new(true));
    let dir = mappings();
    let idp = idp(dir.path());
    let branch = branch_serving(up.clone(), &idp).await;
    let carif = carif_serving().await;
    let app = spawn_app_rooted(
        &format!("mappings_dir = {:?}", dir.path().display().to_string()),
        SMALL,
        &partners(&branch, &carif, "1s"),
    )
    .await;

    // The API names it; `partners` lists them as configured.
    assert!(app.sdl.contains("BRANCHE"), "PartnerId lists it");
    let data = app
        .data(
            "{ partners { id name mode status recordCount } }",
            json!({}),
        )
        .await;
    let partners = data["partners"].as_array().unwrap();
    let ids: Vec<&str> = partners.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["BRANCHE", "CARIF"], "{data}");
    let branche = &partners[0];
    assert_eq!(branche["name"], "Branche — catalogue des formations");
    assert_eq!(branche["mode"], "SYNCED");
    // One programme has no title: rejected, the other two served, and the
    // partner DEGRADED while the rejection stands.
    assert_eq!(branche["recordCount"], 2, "{branche}");
    assert_eq!(branche["status"], "DEGRADED", "{branche}");

    let ready = readiness(&app).await;
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["partners"]["branche"]["records"], 2, "{ready}");

    // Its syncs are recorded, the rejected programme named.
    let data = data_bi(
        &app,
        &idp,
        "{ partners { id lastSync { outcome records rejected rejections { partnerId field } } } }",
    )
    .await;
    let sync = &data["partners"][0]["lastSync"];
    assert_eq!(sync["rejected"], 1, "{sync}");
    assert_eq!(sync["rejections"][0]["partnerId"], "BR-003", "{sync}");
    assert_eq!(sync["rejections"][0]["field"], "title", "{sync}");

    // Its programmes among the Carif-Oref's, and on their CFA's page.
    let query = r#"{ formations(first: 100) {
        totalCount nodes { source partnerId title level romeCodes communeCode cfa { uai name } } } }"#;
    let own = |data: &Value| -> Vec<Value> {
        data["formations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["source"] == "BRANCHE")
            .cloned()
            .collect()
    };
    let all = app.data(query, json!({})).await;
    let nodes = all["formations"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|n| n["source"] == "CARIF"), "{all}");
    let branch_programmes = own(&all);
    assert_eq!(branch_programmes.len(), 2, "{all}");
    assert_eq!(
        branch_programmes[0],
        json!({
            "source": "BRANCHE", "partnerId": "BR-001", "title": "CAP Boulanger", "level": 3,
            "romeCodes": ["D1102"], "communeCode": "14118",
            "cfa": { "uai": "0141234R", "name": "CFA de la branche" },
        }),
        "{all}"
    );
    let page = app
        .data(
            r#"{ cfa(uai: "0141234R") { formations(first: 100) { nodes { source partnerId } } } }"#,
            json!({}),
        )
        .await;
    let programmes = page["cfa"]["formations"]["nodes"].as_array().unwrap();
    assert!(
        programmes
            .iter()
            .any(|p| p["source"] == "BRANCHE" && p["partnerId"] == "BR-002"),
        "{page}"
    );

    // Its feed fails: its programmes are still served, as last synced, with
    // a notice that names it, as a compiled partner's are.
    up.store(false, Ordering::SeqCst);
    let mut status = Value::Null;
    for _ in 0..100 {
        let data = data_bi(&app, &idp, "{ partners { id status lastError { code } } }").await;
        status = data["partners"][0].clone();
        if !status["lastError"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(status["lastError"], Value::Null, "{status}");
    assert_ne!(status["status"], "UP", "{status}");
    let (status, still) = app.post(query, json!({})).await;
    assert_eq!(status, 200, "{still}");
    assert_eq!(own(&still["data"]).len(), 2, "{still}");
    let notice = &still["errors"][0];
    assert_eq!(notice["extensions"]["code"], "STALE_DATA", "{still}");
    assert_eq!(notice["extensions"]["partner"], "branche", "{still}");
    let ready = readiness(&app).await;
    assert_eq!(ready["partners"]["branche"]["records"], 2, "{ready}");
}

#[tokio::test]
async fn a_declared_partner_without_its_mapping_or_with_one_too_many_does_not_start() {
    let up = Arc::new(AtomicBool::new(true));
    let data = tempfile::tempdir().unwrap();
    let branch = branch_serving(up, &idp(data.path())).await;
    let carif = carif_serving().await;
    let build = |root: String| {
        let text = format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n{root}\n{}",
            data.path().display().to_string(),
            partners(&branch, &carif, "1h")
        );
        async move {
            let config = passerelle::config::Config::from_toml(&text).expect("it reads");
            match passerelle::app::Application::build(config).await {
                Ok(_) => panic!("it starts"),
                Err(e) => format!("{e:#}"),
            }
        }
    };
    // No mapping file for its feed.
    let e = build(String::new()).await;
    assert!(e.contains("no formation mapping for branche"), "{e}");
    assert!(e.contains("branche/formation.toml"), "{e}");
    // A mapping of an entity it does not publish.
    let dir = mappings();
    std::fs::write(
        dir.path().join("branche/offer.toml"),
        include_str!("../../../../mappings/cma/offer.toml")
            .replace("partner = \"cma\"", "partner = \"branche\""),
    )
    .unwrap();
    let e = build(format!(
        "mappings_dir = {:?}",
        dir.path().display().to_string()
    ))
    .await;
    assert!(
        e.contains("maps offers of branche, which it does not publish"),
        "{e}"
    );
}
