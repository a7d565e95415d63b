//! Offers and programmes searched by words as young people type them,
//! ranked: the judged set's figures, the order's pages, and what a search
//! refuses.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SMALL};

/// The sandbox's default data, which the judged set was written from.
const DEFAULT: (usize, usize, usize) = (3000, 2500, 300);

#[tokio::test]
async fn the_judged_queries_find_relevant_records_first() {
    let app = spawn_app(DEFAULT).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("relevance");
    let out = tokio::process::Command::new("python3")
        .arg(dir.join("judge.py"))
        .args(["--url", &app.url("/graphql")])
        // The figures measured when the search was built, less a margin:
        // a change that ranks worse fails here.
        .args(["--min-p10", "0.85", "--min-first", "0.88"])
        .output()
        .await
        .expect("python3 runs");
    let figures = String::from_utf8_lossy(&out.stdout);
    println!("{figures}");
    assert!(
        out.status.success(),
        "the judged set ranks worse than it did:\n{figures}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: Value = serde_json::from_str(&figures).unwrap();
    assert_eq!(figures["all"]["queries"], 65);
    assert_eq!(figures["refused"], json!([]));
}

const OFFERS: &str = r#"query($filter: OfferFilter, $first: Int, $after: String, $order: OfferOrder) {
    offers(filter: $filter, first: $first, after: $after, orderBy: $order) {
        totalCount
        edges { cursor node { id title level romeCodes { code } location { communeCode communeName } } }
        pageInfo { hasNextPage endCursor }
        facets { levels { value count } }
    }
}"#;

async fn offers(
    app: &TestApp,
    filter: Value,
    first: usize,
    after: Option<&str>,
    order: &str,
) -> Value {
    app.data(
        OFFERS,
        json!({ "filter": filter, "first": first, "after": after, "order": order }),
    )
    .await["offers"]
        .clone()
}

fn ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn words_find_offers_ranked_and_pages_follow_the_rank() {
    let app = spawn_app(SMALL).await;
    // A feminine, no accent, a town: bakery offers around Caen.
    let filter = json!({ "text": "boulangere caen" });
    let all = offers(&app, filter.clone(), 100, None, "RELEVANCE").await;
    let total = all["totalCount"].as_u64().unwrap();
    assert!(total > 3, "{all}");
    for e in all["edges"].as_array().unwrap() {
        let node = &e["node"];
        let bakery = node["romeCodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "D1102")
            || node["title"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("boulang");
        assert!(bakery, "{node}");
    }
    // Those in Caen itself come before those around it.
    let in_caen: Vec<bool> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["location"]["communeCode"] == "14118")
        .collect();
    assert!(in_caen[0], "{all}");
    // The same records newest first; facets count them whatever the order.
    let newest = offers(&app, filter.clone(), 100, None, "NEWEST").await;
    assert_eq!(newest["totalCount"], total);
    let mut a = ids(&all);
    let mut b = ids(&newest);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(all["facets"], newest["facets"]);
    // Pages of three follow the ranked list.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = offers(&app, filter.clone(), 3, after.as_deref(), "RELEVANCE").await;
        paged.extend(ids(&page));
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(paged, ids(&all));
    // A cursor of one order is refused by the other.
    let cursor = all["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let (_, body) = app
        .post(
            OFFERS,
            json!({ "filter": filter, "first": 3, "after": cursor, "order": "NEWEST" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_CURSOR",
        "{body}"
    );
}

#[tokio::test]
async fn a_search_refuses_a_rank_it_cannot_give() {
    let app = spawn_app(SMALL).await;
    for (filter, field) in [
        (json!({}), "orderBy"),
        // Small words only: nothing to rank by.
        (json!({ "text": "de la" }), "orderBy"),
        (json!({ "text": "a".repeat(201) }), "filter.text"),
    ] {
        let (_, body) = app
            .post(
                OFFERS,
                json!({ "filter": filter, "first": 3, "order": "RELEVANCE" }),
            )
            .await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "INVALID_INPUT", "{body}");
        assert!(
            error["message"].as_str().unwrap().starts_with(field),
            "{body}"
        );
    }
}

const FORMATIONS: &str = r#"query($filter: FormationFilter, $order: FormationOrder) {
    formations(filter: $filter, first: 10, orderBy: $order) {
        totalCount
        nodes { title level romeCodes }
        facets { levels { value count } }
    }
}"#;

#[tokio::test]
async fn programmes_are_searched_by_words_the_diploma_named_first() {
    let app = spawn_app(SMALL).await;
    let found = app
        .data(
            FORMATIONS,
            json!({ "filter": { "text": "cap coifure" }, "order": "RELEVANCE" }),
        )
        .await["formations"]
        .clone();
    let nodes = found["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty(), "{found}");
    // Every hairdressing programme is found, the CAPs first.
    assert!(
        nodes.iter().all(|n| n["romeCodes"] == json!(["D1202"])),
        "{found}"
    );
    assert_eq!(nodes[0]["level"], 3, "{found}");
    let levels: Vec<i64> = nodes.iter().map(|n| n["level"].as_i64().unwrap()).collect();
    let caps = levels.iter().take_while(|l| **l == 3).count();
    assert!(levels[caps..].iter().all(|l| *l != 3), "{levels:?}");
    let counted: u64 = found["facets"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, found["totalCount"].as_u64().unwrap());
}

#[tokio::test]
async fn a_search_says_how_its_words_were_read() {
    let app = spawn_app(SMALL).await;
    const UNDERSTOOD: &str = r#"query($text: String) {
        offers(filter: { text: $text }, first: 1) {
            understood { town { code name radiusKm } level occupations { code } }
        }
        formations(filter: { text: $text }, first: 1) {
            understood { town { code } level }
        }
    }"#;
    let read = app
        .data(UNDERSTOOD, json!({ "text": "CAP boulangère près de Caen" }))
        .await;
    let offers = &read["offers"]["understood"];
    assert_eq!(
        offers["town"],
        json!({ "code": "14118", "name": "Caen", "radiusKm": 20.0 })
    );
    assert_eq!(offers["level"], 3);
    let codes: Vec<&str> = offers["occupations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"D1102"), "{codes:?}");
    assert_eq!(read["formations"]["understood"]["town"]["code"], "14118");
    assert_eq!(read["formations"]["understood"]["level"], 3);
    // Without words, nothing was read.
    let none = app.data(UNDERSTOOD, json!({ "text": null })).await;
    assert_eq!(none["offers"]["understood"], Value::Null);
    assert_eq!(none["formations"]["understood"], Value::Null);
}
