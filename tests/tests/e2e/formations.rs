//! Apprenticeship programmes of the training catalogue (LHÉO, synced).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, SMALL};

const QUERY: &str = r#"query($f: FormationFilter, $first: Int!, $after: String) {
    formations(filter: $f, first: $first, after: $after) {
        totalCount
        totals { capacity vacancies }
        pageInfo { hasNextPage endCursor }
        nodes { id title rncp level romeCodes cfa { uai siret name } communeCode capacity vacancies
                sessions { start end recruiting places vacancies } hoursCentre hoursCompany }
    }
}"#;

#[tokio::test]
async fn paging_visits_all_five_hundred_programmes_once() {
    let app = spawn_app(SMALL).await;
    let mut ids = HashSet::new();
    let mut after = serde_json::Value::Null;
    loop {
        let data = app
            .data(QUERY, json!({ "first": 50, "after": after }))
            .await;
        let c = &data["formations"];
        assert_eq!(c["totalCount"], 500);
        for n in c["nodes"].as_array().unwrap() {
            assert!(
                ids.insert(n["id"].as_str().unwrap().to_owned()),
                "visited twice: {}",
                n["id"]
            );
        }
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(ids.len(), 500);
}

#[tokio::test]
async fn programmes_with_free_places_in_calvados_add_up() {
    let app = spawn_app(SMALL).await;
    let data = app
        .data(
            QUERY,
            json!({ "f": { "departement": "14", "hasVacancies": true }, "first": 1000 }),
        )
        .await;
    let c = &data["formations"];
    let nodes = c["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    // Taught in Calvados at one of its places at least (the sandbox's
    // second places are in the CFA's own département).
    assert!(nodes
        .iter()
        .all(|n| n["communeCode"].as_str().unwrap().starts_with("14")));
    assert!(nodes.iter().all(|n| n["vacancies"].as_u64().unwrap() > 0));
    for n in nodes {
        let sessions = n["sessions"].as_array().unwrap();
        let places: u64 = sessions.iter().map(|s| s["places"].as_u64().unwrap()).sum();
        let free: u64 = sessions
            .iter()
            .map(|s| s["vacancies"].as_u64().unwrap())
            .sum();
        assert_eq!(
            (places, free),
            (
                n["capacity"].as_u64().unwrap(),
                n["vacancies"].as_u64().unwrap()
            )
        );
    }
    let free: u64 = nodes.iter().map(|n| n["vacancies"].as_u64().unwrap()).sum();
    assert_eq!(c["totals"]["vacancies"].as_u64().unwrap(), free);
}

#[tokio::test]
async fn a_cfa_in_caen_lists_its_programmes() {
    let app = spawn_app(SMALL).await;
    let caen = app
        .data(QUERY, json!({ "f": { "commune": "14118" }, "first": 1 }))
        .await;
    let uai = caen["formations"]["nodes"][0]["cfa"]["uai"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .data(QUERY, json!({ "f": { "cfa": uai }, "first": 100 }))
        .await;
    let nodes = data["formations"]["nodes"].as_array().unwrap();
    assert!(nodes.len() >= 5, "{}", nodes.len());
    assert!(nodes.iter().all(|n| n["cfa"]["uai"] == uai));
    insta::assert_json_snapshot!(nodes[0]);
}

#[tokio::test]
async fn bad_formation_filters_are_invalid_input() {
    let app = spawn_app(SMALL).await;
    for f in [
        json!({ "cfa": "0141234A" }),
        json!({ "rncp": "12" }),
        json!({ "level": 2 }),
    ] {
        let (status, body) = app.post(QUERY, json!({ "f": f, "first": 1 })).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{body}"
        );
    }
}

const PLACES: &str = r#"query($f: FormationFilter) {
    formations(filter: $f, first: 1000) {
        totalCount
        totals { capacity vacancies }
        nodes { id level communeCode capacity vacancies
                sessions { start end places vacancies }
                places { id address postcode city communeCode communeName capacity vacancies
                         sessions { start end recruiting places vacancies } } }
    }
}"#;

#[tokio::test]
async fn a_programme_taught_at_two_places_lists_each_with_its_sessions_and_the_totals_add_up() {
    let app = spawn_app(SMALL).await;
    let data = app.data(PLACES, json!({})).await;
    let c = &data["formations"];
    let nodes = c["nodes"].as_array().unwrap();
    assert_eq!(c["totalCount"], 500);
    let sum = |items: &[serde_json::Value], key: &str| -> u64 {
        items.iter().map(|i| i[key].as_u64().unwrap()).sum()
    };
    // Every programme's places add up to it, and the programmes to the totals.
    for n in nodes {
        let places = n["places"].as_array().unwrap();
        assert!(!places.is_empty(), "{}", n["id"]);
        assert_eq!(sum(places, "capacity"), n["capacity"].as_u64().unwrap());
        assert_eq!(sum(places, "vacancies"), n["vacancies"].as_u64().unwrap());
        let at_places: usize = places
            .iter()
            .map(|p| p["sessions"].as_array().unwrap().len())
            .sum();
        assert_eq!(at_places, n["sessions"].as_array().unwrap().len());
        assert_eq!(places[0]["communeCode"], n["communeCode"]);
    }
    assert_eq!(
        sum(nodes, "capacity"),
        c["totals"]["capacity"].as_u64().unwrap()
    );
    let two: Vec<&serde_json::Value> = nodes
        .iter()
        .filter(|n| n["places"].as_array().unwrap().len() == 2)
        .collect();
    assert!(two.len() >= 20, "{}", two.len());
    let f = two[0];
    let second = &f["places"][1];
    assert_ne!(second["communeCode"], f["places"][0]["communeCode"]);
    assert!(second["communeName"].is_string() && second["postcode"].is_string());
    assert_eq!(second["sessions"].as_array().unwrap().len(), 1);
    // The programme is found in the commune of its second place too.
    let there = app
        .data(PLACES, json!({ "f": { "commune": second["communeCode"] } }))
        .await;
    assert!(there["formations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == f["id"]));
    // Open-ended sessions are served, with no end.
    let open = nodes
        .iter()
        .flat_map(|n| n["sessions"].as_array().unwrap())
        .filter(|s| s["end"].is_null())
        .count();
    assert!(open >= 50, "{open}");
    // Levels written on the old scale or the 2019 one read alike.
    let levels: HashSet<u64> = nodes.iter().filter_map(|n| n["level"].as_u64()).collect();
    assert!(levels.iter().all(|l| (3..=7).contains(l)), "{levels:?}");
}

/// A catalogue served as the Carif-Oref would, from a payload written from
/// the LHÉO 2.2 standard's text.
pub async fn carif_serving(
    lheo: impl Into<axum::body::Bytes>,
) -> passerelle_connectors::sandbox::SimServer {
    use axum::routing::get;
    let lheo: axum::body::Bytes = lheo.into();
    let router = axum::Router::new().route(
        "/lheo/offres.xml",
        get(move || async move { ([("content-type", "application/xml")], lheo) }),
    );
    passerelle_connectors::sandbox::SimServer::start("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_catalogue_written_from_the_standard_is_served_with_every_place_date_level_and_code() {
    let lheo = include_bytes!("../../../mappings/carif/samples/offres-lheo-2.2.xml");
    let carif = carif_serving(&lheo[..]).await;
    let app = crate::helpers::spawn_app_with(
        SMALL,
        &format!(
            "[sandbox]\nenabled = false\n[[partners]]\nkind = \"carif\"\nfeed_url = \"{}\"\n",
            carif.base_url().join("/lheo/offres.xml").unwrap()
        ),
    )
    .await;
    let query = r#"query($f: FormationFilter) {
        formations(filter: $f, first: 10) {
            totalCount
            totals { capacity vacancies }
            nodes { id partnerId level rncp rncpCodes certifinfoCodes formacodes romeCodes objective communeCode
                    capacity vacancies cfa { uai siret }
                    contact { name phone email web }
                    sessions { start end recruiting places vacancies }
                    places { id address postcode city communeCode communeName uai capacity vacancies
                             sessions { start end places vacancies } } }
        }
    }"#;
    let data = app.data(query, json!({})).await;
    let c = &data["formations"];
    // The programme without its organism's SIRET is kept without it.
    assert_eq!(c["totalCount"], 3, "{c}");
    assert_eq!(c["nodes"][2]["partnerId"], "F-SANS-SIRET");
    assert_eq!(c["nodes"][2]["cfa"]["siret"], Value::Null);
    // Its catalogue does not say whether its session recruits.
    assert_eq!(c["nodes"][2]["sessions"][0]["recruiting"], Value::Null);
    assert_eq!(c["totals"], json!({ "capacity": 57, "vacancies": 21 }));
    let bp = &c["nodes"][0];
    assert_eq!(bp["partnerId"], "F-0141234R-BP");
    assert_eq!(bp["level"], 4);
    assert_eq!(c["nodes"][1]["level"], 3);
    assert_eq!(bp["rncp"], "RNCP37775");
    assert_eq!(bp["rncpCodes"], json!(["RNCP37775", "RNCP35185"]));
    assert_eq!(bp["certifinfoCodes"], json!(["109542", "54913"]));
    assert_eq!(bp["formacodes"], json!(["21528", "21538"]));
    assert_eq!(bp["romeCodes"], json!(["D1102", "D1104"]));
    assert_eq!(
        bp["objective"],
        "Maîtriser la panification & les viennoiseries <traditionnelles>. Diriger un fournil."
    );
    assert_eq!(bp["contact"]["email"], "apprentissage@cfa-calvados.example");
    assert_eq!(bp["cfa"]["uai"], "0141234R");
    assert_eq!(bp["communeCode"], "14118");
    assert_eq!(
        bp["sessions"][0],
        json!({ "start": "2026-09-01", "end": null, "recruiting": true, "places": 20, "vacancies": 6 })
    );
    assert_eq!(bp["sessions"][1]["start"], serde_json::Value::Null);
    assert_eq!(
        bp["places"],
        json!([
            {
                "id": "A-CAEN", "address": "Bâtiment B, 1 rue du Marais", "postcode": "14000",
                "city": "Caen", "communeCode": "14118", "communeName": "Caen", "uai": null,
                "capacity": 30, "vacancies": 6,
                "sessions": [
                    { "start": "2026-09-01", "end": null, "places": 20, "vacancies": 6 },
                    { "start": null, "end": null, "places": 10, "vacancies": 0 }
                ]
            },
            {
                "id": "A-LISIEUX", "address": "12 avenue du 6 Juin", "postcode": "14100",
                "city": "Lisieux", "communeCode": "14366", "communeName": "Lisieux",
                "uai": "0142001Z", "capacity": 12, "vacancies": 12,
                "sessions": [
                    { "start": "2027-01-05", "end": "2028-12-31", "places": 12, "vacancies": 12 }
                ]
            }
        ])
    );
    assert_eq!(
        (bp["capacity"].as_u64(), bp["vacancies"].as_u64()),
        (Some(42), Some(18))
    );
    // Found at its second place, and a CAP at Évreux found by the town's name.
    let at = |commune: &str| {
        let app = &app;
        let commune = commune.to_owned();
        async move {
            let d = app
                .data(query, json!({ "f": { "commune": commune } }))
                .await;
            d["formations"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["partnerId"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(at("14366").await, ["F-0141234R-BP"]);
    assert_eq!(at("27229").await, ["F-0141234R-CAP"]);
}
