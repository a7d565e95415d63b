//! A live exchange of offers no code knows, declared in configuration: a
//! REST/JSON API behind an API key, in numbered pages (a `wiremock`
//! server), asked beside the CCI (itself a shipped declaration, against its
//! simulator), some of its offers the CCI's positions.

use passerelle_connectors::sandbox::{Faults, SandboxData, SandboxSettings, SimServer};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{spawn_app_rooted, SMALL};

/// Offers a page at the exchange.
const PAGE: usize = 2;

/// An offer of the exchange, as its API writes it.
fn offre(reference: &str, siret: &str, rome: &str, insee: &str, start: &str) -> Value {
    json!({
        "ref": reference, "titre": format!("Apprenti(e) {rome}"), "rome": [rome], "niveau": 4,
        "employeur": { "siret": siret, "nom": "Employeur" }, "lieu": { "insee": insee },
        "debut": start, "publiee": "2026-11-02T08:00:00Z",
    })
}

#[tokio::test]
async fn a_live_exchange_declared_in_configuration_is_asked_paged_and_merged_with_the_cci() {
    // The CCI's simulator, on a small sandbox's data.
    let mut settings = SandboxSettings::default();
    settings.data.cci_offers = 60;
    settings.data.cma_offers = 10;
    settings.data.shared_offers = 0;
    let data = SandboxData::generate(&settings);
    let cci = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        passerelle_connectors::cci::simulator::simulate(&data, Faults::default()),
    )
    .await
    .unwrap();
    // Two of its active positions the national exchange publishes too, and
    // three of the exchange's own: five offers, three pages.
    let shared: Vec<_> = data
        .offers
        .cci
        .iter()
        .filter(|p| p.status == "Active")
        .take(2)
        .collect();
    let mut offres: Vec<Value> = shared
        .iter()
        .enumerate()
        .map(|(i, p)| {
            offre(
                &format!("B-{i}"),
                &p.employer.siret,
                p.rome,
                &p.commune.code,
                &p.start_date.to_string(),
            )
        })
        .collect();
    for i in 0..3 {
        offres.push(offre(
            &format!("B-OWN-{i}"),
            "73282932000074",
            "D1102",
            "14118",
            "2027-09-01",
        ));
    }
    let bourse = MockServer::start().await;
    for (n, page) in offres.chunks(PAGE).enumerate() {
        Mock::given(method("GET"))
            .and(path("/v1/offres"))
            .and(header("x-api-key", "the-key"))
            .and(query_param("page", (n + 1).to_string()))
            .and(query_param("par_page", PAGE.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "offres": page })))
            .mount(&bourse)
            .await;
    }
    // Past the last page, an empty one.
    Mock::given(method("GET"))
        .and(path("/v1/offres"))
        .and(query_param("page", "4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "offres": [] })))
        .mount(&bourse)
        .await;

    let dir = super::mappings_of("bourse", "offer", include_str!("offer.toml"));
    let cci_settings = passerelle_connectors::cci::simulator::settings(&cci.base_url());
    let credentials = &cci_settings["credentials"];
    let app = spawn_app_rooted(
        &format!("mappings_dir = {:?}", dir.path().display().to_string()),
        SMALL,
        &format!(
            r#"
[sandbox]
enabled = false

[[partners]]
kind = "cci"
base_url = "{cci}"
[partners.credentials]
token_url = {token_url}
client_id = {client_id}
client_secret = {client_secret}

[[partners]]
kind = "declared"
id = "bourse"
api_name = "BOURSE"
name = "Bourse nationale de l'alternance"
about = "A national exchange of offers (declared in a test)."

[[partners.live]]
entity = "offer"
base_url = "{bourse}"
auth = {{ kind = "api_key", header = "X-Api-Key", key = "the-key" }}

[partners.live.request]
path = "v1/offres"
query = {{ page = "{{page}}", par_page = "{{size}}", metier = {{ value = "{{rome}}", repeat = true }}, dep = "{{departement}}" }}

[partners.live.pagination]
kind = "page"
size = {PAGE}
"#,
            cci = cci.base_url(),
            token_url = credentials["token_url"],
            client_id = credentials["client_id"],
            client_secret = credentials["client_secret"],
            bourse = bourse.uri(),
        ),
    )
    .await;

    // The API names it.
    assert!(app.sdl.contains("BOURSE"), "PartnerId lists it");
    let data = app.data("{ partners { id mode status } }", json!({})).await;
    assert_eq!(
        data["partners"],
        json!([
            { "id": "CCI", "mode": "LIVE", "status": "UNKNOWN" },
            { "id": "BOURSE", "mode": "LIVE", "status": "UNKNOWN" },
        ]),
        "not asked yet: {data}"
    );

    // Its five offers, from three pages; the two it shares with the CCI
    // merged with the CCI's copies.
    let query = r#"query($f: OfferFilter) { offers(first: 200, filter: $f) {
        totalCount nodes { sources { partner partnerId } } } }"#;
    let all = app.data(query, json!({ "f": {} })).await;
    let nodes = all["offers"]["nodes"].as_array().unwrap();
    let from_bourse: Vec<&Value> = nodes
        .iter()
        .filter(|n| {
            n["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["partner"] == "BOURSE")
        })
        .collect();
    assert_eq!(from_bourse.len(), 5, "{all}");
    let merged: Vec<&&Value> = from_bourse
        .iter()
        .filter(|n| n["sources"].as_array().unwrap().len() == 2)
        .collect();
    assert_eq!(merged.len(), 2, "the shared positions are merged: {all}");
    for n in &merged {
        assert!(
            n["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["partner"] == "CCI"),
            "{n}"
        );
    }
    let own = app
        .data(query, json!({ "f": { "source": "BOURSE" } }))
        .await;
    assert_eq!(own["offers"]["totalCount"], 5, "{own}");

    // Its readiness is reported, not required.
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ready["partners"]["bourse"].is_object(), "{ready}");

    // Filters are pushed down: several occupations as one parameter each.
    bourse.reset().await;
    Mock::given(method("GET"))
        .and(path("/v1/offres"))
        .and(query_param("metier", "D1102"))
        .and(query_param("dep", "14"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "offres": [offres[2]] })))
        .expect(1..)
        .mount(&bourse)
        .await;
    let found = app
        .data(
            query,
            json!({ "f": { "source": "BOURSE", "rome": ["D1102", "D1104"], "departement": "14" } }),
        )
        .await;
    assert_eq!(found["offers"]["totalCount"], 1, "{found}");
    let asked = bourse.received_requests().await.unwrap();
    let url = &asked[0].url;
    let metiers: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "metier")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert!(
        metiers.contains(&"D1102".to_owned()) && metiers.contains(&"D1104".to_owned()),
        "{url}"
    );

    // It fails: the others are answered, and the failure is its own.
    bourse.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&bourse)
        .await;
    let (status, body) = app
        .post(query, json!({ "f": { "departement": "50" } }))
        .await;
    assert_eq!(status, 200, "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["extensions"]["partner"] == "bourse"
            && e["extensions"]["code"] == "PARTNER_UNAVAILABLE"),
        "{body}"
    );
    assert!(
        body["data"]["offers"]["totalCount"].as_u64().unwrap() > 0,
        "{body}"
    );
}
