//! Offers from both exchanges through the one schema.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{all_offers, spawn_app, SMALL};

fn partners_of(offers: &[Value]) -> HashSet<String> {
    offers
        .iter()
        .flat_map(|o| o["sources"].as_array().unwrap().iter())
        .map(|s| s["partner"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_ten_newest_offers_come_from_both_exchanges() {
    // The default data, as a newcomer sees it.
    let app = spawn_app((3000, 2500, 300)).await;
    let data = app
        .data(
            "{ offers(first: 10) { totalCount nodes { sources { partner } } } }",
            json!({}),
        )
        .await;
    let nodes = data["offers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 10);
    let partners = partners_of(nodes);
    assert!(
        partners.contains("CCI") && partners.contains("CMA"),
        "{partners:?}"
    );
    // 3000 + 2500 offers, 300 published on both, 3 CMA records broken, and
    // the CNFPT's 150 public-sector offers.
    let total = data["offers"]["totalCount"].as_u64().unwrap();
    assert!((5347..=5350).contains(&total), "{total}");
}

#[tokio::test]
async fn filtering_on_a_departement_returns_only_its_offers() {
    let app = spawn_app(SMALL).await;
    let (offers, totals) = all_offers(&app, json!({ "departement": "14" }), 100).await;
    assert!(
        offers.len() > 100,
        "too few offers in Calvados to test: {}",
        offers.len()
    );
    assert!(
        totals.iter().all(|&t| t == offers.len() as u64),
        "{totals:?}"
    );
    assert!(offers
        .iter()
        .all(|o| o["location"]["departement"]["code"] == "14"));
    assert_eq!(partners_of(&offers).len(), 3);
    let (everything, _) = all_offers(&app, json!(null), 1000).await;
    let in_calvados = everything
        .iter()
        .filter(|o| o["location"]["departement"]["code"] == "14")
        .count();
    assert_eq!(in_calvados, offers.len());
}

#[tokio::test]
async fn paging_with_fifty_visits_every_offer_exactly_once() {
    let app = spawn_app(SMALL).await;
    let (offers, totals) = all_offers(&app, json!(null), 50).await;
    let ids: HashSet<&str> = offers.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), offers.len(), "an offer was visited twice");
    assert!(
        totals.iter().all(|&t| t == offers.len() as u64),
        "{totals:?}"
    );
    assert!(offers.len() > 1000);
    let dates: Vec<&str> = offers
        .iter()
        .map(|o| o["publishedAt"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "not newest first");
}

#[tokio::test]
async fn a_position_on_both_exchanges_is_one_offer_with_both_sources() {
    let app = spawn_app(SMALL).await;
    let (offers, _) = all_offers(&app, json!(null), 1000).await;
    let doubles: Vec<&Value> = offers
        .iter()
        .filter(|o| o["sources"].as_array().unwrap().len() == 2)
        .collect();
    // 60 positions are published on both; a broken CMA record may take one.
    assert!((57..=60).contains(&doubles.len()), "{}", doubles.len());
    assert!(doubles
        .iter()
        .all(|o| o["sources"][0]["partner"] == "CCI" && o["sources"][1]["partner"] == "CMA"));
    assert_eq!(offers.len(), 600 + 500 + 150 - doubles.len() - 3);
}

#[tokio::test]
async fn filters_combine_and_apply_to_merged_offers() {
    let app = spawn_app(SMALL).await;
    let q = "query($f: OfferFilter) { offers(filter: $f, first: 1000) { totalCount nodes { level romeCodes { code } sources { partner } location { communeCode } title } } }";
    let bakers = app.data(q, json!({ "f": { "rome": ["D1102"] } })).await;
    let nodes = bakers["offers"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!(nodes.iter().all(|o| o["romeCodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "D1102")));

    let level4 = app
        .data(q, json!({ "f": { "level": 4, "source": "CCI" } }))
        .await;
    let nodes = level4["offers"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!(nodes
        .iter()
        .all(|o| o["level"] == 4 && o["sources"][0]["partner"] == "CCI"));

    let caen = app
        .data(
            q,
            json!({ "f": { "commune": "14118", "text": "APPRENTI" } }),
        )
        .await;
    let nodes = caen["offers"]["nodes"].as_array().unwrap();
    assert!(nodes
        .iter()
        .all(|o| o["location"]["communeCode"] == "14118"));
    assert!(nodes.iter().all(|o| o["title"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("apprenti")));
}

#[tokio::test]
async fn offer_and_node_find_an_offer_by_its_global_id() {
    let app = spawn_app(SMALL).await;
    let (offers, _) = all_offers(&app, json!(null), 1000).await;
    for o in [
        &offers[0],
        offers
            .iter()
            .find(|o| o["sources"].as_array().unwrap().len() == 2)
            .unwrap(),
        offers.last().unwrap(),
    ] {
        let id = o["id"].as_str().unwrap();
        let data = app
            .data(
                "query($id: ID!) { offer(id: $id) { id sources { partnerId } } node(id: $id) { id ... on Offer { title } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["offer"]["id"], id);
        assert_eq!(
            data["offer"]["sources"],
            o["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| json!({"partnerId": s["partnerId"]}))
                .collect::<Value>()
        );
        assert_eq!(data["node"]["id"], id);
    }
}

#[tokio::test]
async fn a_cci_outage_leaves_the_cma_offers_and_names_the_partner() {
    let app = spawn_app(SMALL).await;
    let report = app.faults("cci", json!({ "outage": 2 })).await;
    assert_eq!(report["outage"], true);
    let (status, body) = app
        .post(
            "{ offers(first: 1000, filter: { departement: \"76\" }) { totalCount nodes { sources { partner } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let nodes = body["data"]["offers"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert_eq!(
        partners_of(nodes),
        HashSet::from(["CMA".to_owned(), "CNFPT".to_owned()])
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "PARTNER_UNAVAILABLE");
    assert_eq!(errors[0]["extensions"]["partner"], "cci");
    assert_eq!(errors[0]["path"], json!(["offers"]));

    let partners = app
        .data_bi("{ partners { id status lastError { code } } }", json!({}))
        .await;
    let cci = partners["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "CCI")
        .unwrap();
    assert_eq!(cci["status"], "DOWN");
    assert_eq!(cci["lastError"]["code"], "PARTNER_UNAVAILABLE");
}

/// An offer as merged: its identifier and the exchanges it was merged from.
fn identity(n: &Value) -> String {
    format!("{} {}", n["id"].as_str().unwrap(), n["sources"])
}

/// A search reads only the records that may match (by département, level
/// and the live exchanges' copies): it must still find every merged offer
/// that matches, in the same order, as filtering all of them does.
#[tokio::test]
async fn a_filtered_search_finds_every_merged_offer_that_matches() {
    let app = spawn_app(SMALL).await;
    let q = r#"query($f: OfferFilter, $after: String) {
        offers(filter: $f, first: 500, after: $after) {
            pageInfo { hasNextPage endCursor }
            nodes { id level romeCodes { code } sources { partner } location { departement { code } } }
        }
    }"#;
    let fetch = |f: Value| {
        let app = &app;
        async move {
            let mut ids = Vec::new();
            let mut nodes = Vec::new();
            let mut after = Value::Null;
            loop {
                let data = app.data(q, json!({ "f": f, "after": after })).await;
                let conn = &data["offers"];
                for n in conn["nodes"].as_array().unwrap() {
                    ids.push(identity(n));
                    nodes.push(n.clone());
                }
                if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    return (ids, nodes);
                }
                after = conn["pageInfo"]["endCursor"].clone();
            }
        }
    };
    let (_, everything) = fetch(json!({})).await;
    let filters = [
        json!({ "level": 4 }),
        json!({ "departement": "14", "level": 3 }),
        json!({ "departement": "76" }),
        json!({ "rome": ["D1102", "H2206"] }),
        json!({ "source": "CMA", "level": 5 }),
        json!({ "source": "CCI", "departement": "50" }),
    ];
    for f in filters {
        let keep = |n: &Value| {
            f.get("level").is_none_or(|l| n["level"] == *l)
                && f.get("departement")
                    .is_none_or(|d| n["location"]["departement"]["code"] == *d)
                && f.get("source").is_none_or(|s| {
                    n["sources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x["partner"] == *s)
                })
                && f.get("rome").is_none_or(|r| {
                    n["romeCodes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| r.as_array().unwrap().contains(&c["code"]))
                })
        };
        // In the order answered: newest first, as the whole list is.
        let expected: Vec<String> = everything
            .iter()
            .filter(|n| keep(n))
            .map(identity)
            .collect();
        let (found, _) = fetch(f.clone()).await;
        assert!(!expected.is_empty(), "{f}");
        assert_eq!(found, expected, "{f}");
    }
}
