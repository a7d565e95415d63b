//! Mobility abroad across Pass Monde (live) and Erasmus+ (synced), as counts.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, SMALL};

const QUERY: &str = r#"query($f: MobilityFilter) {
    mobility(filter: $f) {
        total { mobilities participants days amount }
        byProgram { program figures { mobilities amount } }
        byCountry { key figures { mobilities } }
        byCfa { key figures { mobilities } }
        byMonth { key figures { mobilities } }
    }
}"#;

fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    let (e, c) = s.split_once('.').unwrap();
    e.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap()
}

#[tokio::test]
async fn mobility_figures_add_up_across_programmes() {
    let app = spawn_app(SMALL).await;
    let data = app.data(QUERY, json!({})).await;
    let m = &data["mobility"];
    let total = m["total"]["mobilities"].as_u64().unwrap();
    assert!(total > 300, "{total}");
    let programs: Vec<&str> = m["byProgram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["program"].as_str().unwrap())
        .collect();
    assert!(
        programs.contains(&"PASS_MONDE") && programs.contains(&"ERASMUS_PRO"),
        "{programs:?}"
    );
    for group in ["byProgram", "byCountry", "byCfa", "byMonth"] {
        let sum: u64 = m[group]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["figures"]["mobilities"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, total, "{group}");
    }
    let amount: i64 = m["byProgram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| cents(&g["figures"]["amount"]))
        .sum();
    assert_eq!(amount, cents(&m["total"]["amount"]));
}

#[tokio::test]
async fn a_cfa_sees_its_mobilities_without_names() {
    let app = spawn_app(SMALL).await;
    let all = app.data(QUERY, json!({})).await;
    let uai = all["mobility"]["byCfa"][0]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app
        .post(
            "query($f: MobilityFilter) { mobility(filter: $f) { total { mobilities } records(first: 1000) { totalCount nodes { id program cfa country city start durationDays amount } } } }",
            json!({ "f": { "cfa": uai } }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    let records = body["data"]["mobility"]["records"]["nodes"]
        .as_array()
        .unwrap();
    let total = body["data"]["mobility"]["total"]["mobilities"]
        .as_u64()
        .unwrap();
    assert_eq!(records.len() as u64, total);
    assert_eq!(body["data"]["mobility"]["records"]["totalCount"], total);
    // Paged two at a time, the same records in the same order.
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(
                "query($f: MobilityFilter, $a: String) { mobility(filter: $f) { records(first: 2, after: $a) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }",
                json!({ "f": { "cfa": uai }, "a": after }),
            )
            .await;
        let r = &page["mobility"]["records"];
        for e in r["edges"].as_array().unwrap() {
            paged.push(e["node"]["id"].clone());
        }
        if r["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = r["pageInfo"]["endCursor"].clone();
    }
    let ids: Vec<Value> = records.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(paged, ids);
    assert!(records.iter().all(|r| r["cfa"] == uai));
    let text = body.to_string();
    for name in ["Camille", "Lefèvre", "Nathan", "b-"] {
        assert!(!text.contains(name), "personal data leaked: {name}");
    }
    let (_, body) = app
        .post("{ mobility { records { nodes { id } } } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
}

#[tokio::test]
async fn with_pass_monde_down_erasmus_figures_are_still_answered() {
    let app = spawn_app(SMALL).await;
    app.faults("passmonde", json!({ "outage": true })).await;
    let (status, body) = app.post(QUERY, json!({ "f": { "year": 2026 } })).await;
    assert_eq!(status, 200);
    assert!(
        body["data"]["mobility"]["total"]["mobilities"]
            .as_u64()
            .unwrap()
            > 0
    );
    let programs: Vec<&str> = body["data"]["mobility"]["byProgram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["program"].as_str().unwrap())
        .collect();
    assert!(!programs.contains(&"PASS_MONDE"));
    assert_eq!(body["errors"][0]["extensions"]["partner"], "passmonde");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PARTNER_UNAVAILABLE"
    );
}
