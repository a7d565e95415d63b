//! Every partner in one query; with any one of them down, the others answer.

use serde_json::json;

use crate::helpers::{spawn_app, SMALL};

const ALL: &str = r#"{
    offers(first: 5, filter: { departement: "50" }) { totalCount }
    formations(first: 5) { totalCount }
    mobility(filter: { year: 2026 }) { total { mobilities } }
    events(filter: { from: "2027-01-01T00:00:00Z", to: "2027-06-30T00:00:00Z" }, first: 5) { totalCount }
    orientationSites { nodes { id } }
    publicSector { apprentices(year: 2026) { etat territoriale hospitaliere total } }
}"#;

#[tokio::test]
async fn with_each_partner_down_in_turn_the_others_still_answer() {
    for (partner, synced, code) in [
        ("cci", false, "PARTNER_UNAVAILABLE"),
        ("cma", true, "STALE_DATA"),
        ("carif", true, "STALE_DATA"),
        ("erasmus", true, "STALE_DATA"),
        ("passmonde", false, "PARTNER_UNAVAILABLE"),
        ("spro", true, "STALE_DATA"),
        ("cnfpt", false, "PARTNER_UNAVAILABLE"),
    ] {
        let app = spawn_app(SMALL).await;
        app.faults(partner, json!({ "outage": true })).await;
        if synced {
            let r = app
                .client
                .post(app.url(&format!("/_sandbox/{partner}/sync")))
                .send()
                .await
                .unwrap();
            let runs: serde_json::Value = r.json().await.unwrap();
            assert!(
                runs.as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["outcome"] == "failed"),
                "{partner}: {runs}"
            );
        }
        let (status, body) = app.post(ALL, json!({})).await;
        assert_eq!(status, 200, "{partner}: {body}");
        let data = &body["data"];
        for field in [
            "offers",
            "formations",
            "mobility",
            "events",
            "orientationSites",
            "publicSector",
        ] {
            assert!(
                !data[field].is_null(),
                "{partner} down blanked {field}: {body}"
            );
        }
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{partner} down named no one: {body}"));
        assert!(!errors.is_empty());
        for e in errors {
            assert_eq!(e["extensions"]["partner"], partner, "{body}");
            assert_eq!(e["extensions"]["code"], code, "{body}");
        }
        // Synced data is still served in full.
        if partner == "carif" {
            assert_eq!(data["formations"]["totalCount"], 500);
        }
        if partner == "cma" {
            assert!(data["offers"]["totalCount"].as_u64().unwrap() > 0);
        }
    }
}

#[tokio::test]
async fn public_sector_offers_and_counts_come_from_the_cnfpt() {
    let app = spawn_app(SMALL).await;
    let data = app
        .data(
            r#"{ offers(first: 1000, filter: { publicSector: true }) { totalCount nodes { publicSector employer { publicType } sources { partner } } }
                 privateOnly: offers(first: 1, filter: { publicSector: false }) { totalCount }
                 everything: offers(first: 1) { totalCount }
                 publicSector { apprentices(year: 2016) { etat territoriale hospitaliere total } } }"#,
            json!({}),
        )
        .await;
    let nodes = data["offers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 150);
    assert!(nodes
        .iter()
        .all(|n| n["publicSector"] == true && n["sources"][0]["partner"] == "CNFPT"));
    let types: std::collections::HashSet<&str> = nodes
        .iter()
        .map(|n| n["employer"]["publicType"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 3);
    assert_eq!(
        data["everything"]["totalCount"].as_u64().unwrap(),
        data["privateOnly"]["totalCount"].as_u64().unwrap() + 150
    );
    assert_eq!(
        data["publicSector"]["apprentices"],
        json!({ "etat": 98, "territoriale": 223, "hospitaliere": 14, "total": 335 })
    );
}
