//! Orientation events (iCalendar, synced) and sites (JSON directory).

use serde_json::json;

use crate::helpers::{spawn_app, SMALL};

const QUERY: &str = r#"query($f: EventFilter, $first: Int!, $after: String) {
    events(filter: $f, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id title kind start end allDay recurring location site { id kind communeCode } }
    }
}"#;

#[tokio::test]
async fn recurring_open_days_are_expanded_in_the_window() {
    let app = spawn_app(SMALL).await;
    let window =
        json!({ "from": "2027-01-01T00:00:00Z", "to": "2027-07-01T00:00:00Z", "kind": "OPEN_DAY" });
    let data = app.data(QUERY, json!({ "f": window, "first": 1000 })).await;
    let nodes = data["events"]["nodes"].as_array().unwrap();
    // 71 CFAs each open three to five first Saturdays.
    assert!(nodes.len() >= 71 * 3, "{}", nodes.len());
    assert!(nodes
        .iter()
        .all(|n| n["recurring"] == true && n["kind"] == "OPEN_DAY"));
    let starts: Vec<&str> = nodes.iter().map(|n| n["start"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "soonest first");
    // 9:00 or 10:00 in Paris: 08:00/09:00 UTC in winter, 07:00/08:00 in summer.
    assert!(starts
        .iter()
        .any(|s| s.starts_with("2027-04")
            && (s.ends_with("T07:00:00Z") || s.ends_with("T08:00:00Z"))));

    let narrow =
        json!({ "from": "2027-03-01T00:00:00Z", "to": "2027-03-31T00:00:00Z", "kind": "OPEN_DAY" });
    let march = app.data(QUERY, json!({ "f": narrow, "first": 1000 })).await;
    assert!(march["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["start"].as_str().unwrap().starts_with("2027-03")));
}

#[tokio::test]
async fn all_day_events_and_site_filters() {
    let app = spawn_app(SMALL).await;
    let window = json!({ "from": "2027-01-01T00:00:00Z", "to": "2027-12-31T00:00:00Z", "kind": "QUINZAINE", "departement": "14" });
    let data = app.data(QUERY, json!({ "f": window, "first": 100 })).await;
    let nodes = data["events"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!(nodes.iter().all(
        |n| n["allDay"] == true && n["site"]["communeCode"].as_str().unwrap().starts_with("14")
    ));
    assert!(
        nodes
            .iter()
            .all(|n| n["title"].as_str().unwrap().contains(", ")),
        "escaped commas are read"
    );

    let sites = app
        .data("{ orientationSites(filter: { kind: CFA, departement: \"14\" }) { id kind uai communeCode } }", json!({}))
        .await;
    let sites = sites["orientationSites"].as_array().unwrap();
    assert_eq!(sites.len(), 17);
    assert!(sites
        .iter()
        .all(|s| s["uai"].as_str().unwrap().starts_with("014")));
}

#[tokio::test]
async fn paging_through_events_visits_each_occurrence_once() {
    let app = spawn_app(SMALL).await;
    let window = json!({ "from": "2026-12-01T00:00:00Z", "to": "2027-07-01T00:00:00Z" });
    let mut seen = std::collections::HashSet::new();
    let mut after = serde_json::Value::Null;
    let mut total: u64;
    loop {
        let data = app
            .data(QUERY, json!({ "f": window, "first": 40, "after": after }))
            .await;
        total = data["events"]["totalCount"].as_u64().unwrap();
        for n in data["events"]["nodes"].as_array().unwrap() {
            assert!(
                seen.insert(n["id"].as_str().unwrap().to_owned()),
                "twice: {}",
                n["id"]
            );
        }
        if !data["events"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = data["events"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len() as u64, total);
    let (_, body) = app
        .post(QUERY, json!({ "f": { "from": "2027-01-01T00:00:00Z", "to": "2029-01-01T00:00:00Z" }, "first": 1 }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
}
