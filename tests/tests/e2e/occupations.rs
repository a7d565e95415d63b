//! The ROME referential in the API: every occupation with its label and
//! job titles, and `occupations`, the search a portal's box starts with.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, SMALL};

const SEARCH: &str = r#"query($search: String!, $first: Int) {
    occupations(search: $search, first: $first) {
        rome { code label }
        appellation { code label }
        matchedLabel
        matched
    }
}"#;

async fn search(app: &crate::helpers::TestApp, typed: &str, first: i64) -> Vec<Value> {
    app.data(SEARCH, json!({ "search": typed, "first": first }))
        .await["occupations"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn what_a_young_person_types_finds_the_occupation() {
    let app = spawn_app(SMALL).await;
    // As typed on a phone: accents left out, a typo, a plural, the start
    // of a word, a small word.
    for (typed, rome, matched) in [
        ("boulanger", "D1102", "EXACT"),
        ("Boulangère", "D1102", "EXACT"),
        ("boulang", "D1102", "PREFIX"),
        ("boulnager", "D1102", "TYPO"),
        ("patissier", "D1104", "EXACT"),
        ("coiffeuse", "D1202", "EXACT"),
        ("coifeur", "D1202", "TYPO"),
        ("mecanicien automobile", "I1604", "EXACT"),
    ] {
        let hits = search(&app, typed, 5).await;
        assert!(!hits.is_empty(), "{typed}: nothing");
        assert_eq!(hits[0]["rome"]["code"], rome, "{typed}: {hits:?}");
        assert_eq!(hits[0]["matched"], matched, "{typed}: {hits:?}");
        assert!(hits[0]["rome"]["label"].is_string());
        // Each occupation once.
        let mut codes: Vec<&str> = hits
            .iter()
            .map(|h| h["rome"]["code"].as_str().unwrap())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), hits.len(), "{typed}");
    }
    let hits = search(&app, "boulanger", 1).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["matchedLabel"], hits[0]["appellation"]["label"]);
    assert!(search(&app, "", 10).await.is_empty());
    assert!(search(&app, "xqzw", 10).await.is_empty());
    insta::assert_json_snapshot!("occupations_boulan", search(&app, "boulan", 5).await);
}

#[tokio::test]
async fn a_search_too_long_or_a_page_too_large_is_refused_by_name() {
    let app = spawn_app(SMALL).await;
    for (variables, field) in [
        (json!({ "search": "a".repeat(101) }), "search"),
        (json!({ "search": "boulanger", "first": 51 }), "first"),
        (json!({ "search": "boulanger", "first": -1 }), "first"),
    ] {
        let (status, body) = app.post(SEARCH, variables).await;
        assert_eq!(status, 200);
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "INVALID_INPUT", "{body}");
        assert!(
            error["message"].as_str().unwrap().starts_with(field),
            "{body}"
        );
    }
}

#[tokio::test]
async fn every_occupation_an_offer_names_has_its_label_and_job_titles() {
    let app = spawn_app(SMALL).await;
    let data = app
        .data(
            "{ offers(first: 100) { nodes { romeCodes { code label appellations { code label } } } } }",
            json!({}),
        )
        .await;
    let nodes = data["offers"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    for rome in nodes
        .iter()
        .flat_map(|n| n["romeCodes"].as_array().unwrap())
    {
        assert!(rome["label"].is_string(), "{rome}");
        assert!(
            !rome["appellations"].as_array().unwrap().is_empty(),
            "{rome}"
        );
    }
}
