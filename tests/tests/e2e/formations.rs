//! Apprenticeship programmes of the training catalogue (LHÉO, synced).

use std::collections::HashSet;

use serde_json::json;

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
