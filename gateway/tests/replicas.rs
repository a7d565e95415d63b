//! Two replicas on one PostgreSQL store, as on Kubernetes: every synced
//! feed pulled once per interval between them, a batch retried at both
//! stored once, and both answering the same data.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::routing::get;
use passerelle::auth::issuer::Issuer;
use passerelle::domain::campaign;
use passerelle::store::{testing, Store};
use passerelle_connectors::sandbox::campaign::{write_csv, Campaign, CampaignSettings};
use passerelle_connectors::sandbox::faults::Outage;
use passerelle_connectors::sandbox::{FaultUpdate, Sandbox, SandboxSettings, SimServer};
use passerelle_schema::AllocationInput;

use serde_json::{json, Value};

/// The synced feeds, as the store names them.
const FEEDS: [(&str, &str); 5] = [
    ("cma", "offer"),
    ("carif", "formation"),
    ("erasmus", "mobility"),
    ("spro", "site"),
    ("spro", "event"),
];

/// Every feed's interval in this test.
const INTERVAL: Duration = Duration::from_secs(1);

async fn ask(client: &reqwest::Client, addr: &str, token: &str, query: &str) -> Value {
    common::graphql(client, addr, Some(token), query).await
}

async fn upload(client: &reqwest::Client, addr: &str, token: &str, body: Vec<u8>) -> Value {
    let response = client
        .post(format!("http://{addr}/ingest/allocations?campaign=2026"))
        .bearer_auth(token)
        .header("idempotency-key", "akto-2026-03-batch-7")
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

/// The sync history of every feed: run ids (start times, µs) in order.
async fn runs(store: &Store) -> BTreeMap<String, Vec<i64>> {
    let mut out = BTreeMap::new();
    for (partner, entity) in FEEDS {
        let mut ids: Vec<i64> = store
            .runs(partner, entity, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        ids.sort_unstable();
        out.insert(format!("{partner}/{entity}"), ids);
    }
    out
}

#[tokio::test]
async fn two_replicas_share_the_syncs_store_a_retried_batch_once_and_answer_alike() {
    let Some(server) = testing::postgres_url() else {
        return;
    };
    let store_url = testing::scratch_postgres(&server).await;
    let sandbox = Sandbox::start(
        &SandboxSettings {
            base_port: 0,
            ..SandboxSettings::default()
        },
        &passerelle_connectors::Registry::standard(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The identity provider both replicas trust.
    let issuer = Issuer::load_or_create(dir.path(), "https://idp.test", "passerelle").unwrap();
    let jwks = issuer.jwks();
    let idp = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        axum::Router::new().route("/jwks.json", get(move || async move { axum::Json(jwks) })),
    )
    .await
    .unwrap();
    let hour = Duration::from_secs(3600);
    let opco = issuer.mint("akto", "allocations:write", Some("AKTO"), None, hour);
    let bi = issuer.mint("bi", "region:bi", None, None, hour);

    let config = dir.path().join("passerelle.toml");
    std::fs::write(
        &config,
        format!(
            r#"
listen = "127.0.0.1:0"
data_dir = "{data}"
store_url = "{store_url}"
[sandbox]
enabled = false
[log]
format = "json"
[auth]
jwks_url = "{jwks}"
issuer = "https://idp.test"

[[partners]]
kind = "cma"
feed_url = "{cma}"
sync_interval = "1s"

[[partners]]
kind = "carif"
feed_url = "{carif}"
sync_interval = "1s"

[[partners]]
kind = "erasmus"
export_url = "{erasmus}"
sync_interval = "1s"

[[partners]]
kind = "spro"
directory_url = "{spro}"
sync_interval = "1s"
"#,
            data = dir.path().display(),
            jwks = idp.base_url().join("jwks.json").unwrap(),
            cma = sandbox
                .setting(passerelle_connectors::cma::PARTNER, "feed_url")
                .unwrap(),
            carif = sandbox
                .setting(passerelle_connectors::carif::PARTNER, "feed_url")
                .unwrap(),
            erasmus = sandbox
                .setting(passerelle_connectors::erasmus::PARTNER, "export_url")
                .unwrap(),
            spro = sandbox
                .setting(passerelle_connectors::spro::PARTNER, "directory_url")
                .unwrap(),
        ),
    )
    .unwrap();

    // Both start at once on an empty store: one pulls each feed, the other
    // waits for it and loads what it stored.
    let (a, b) = {
        let (ca, cb) = (config.clone(), config.clone());
        let a = tokio::task::spawn_blocking(move || common::serve(&ca));
        let b = tokio::task::spawn_blocking(move || common::serve(&cb));
        (a.await.unwrap(), b.await.unwrap())
    };
    let client = reqwest::Client::new();
    let store = Store::open(&store_url).await.unwrap();

    // A batch retried at both replicas at once: stored once.
    let records: Vec<AllocationInput> = Campaign::new(CampaignSettings {
        employers: 300,
        allocations: 2_000,
        ..CampaignSettings::default()
    })
    .map(|(_, a)| a)
    .collect();
    let mut csv = Vec::new();
    write_csv(&mut csv, &records).unwrap();
    let retries = (0..6).map(|i| {
        let addr = if i % 2 == 0 { &a.addr } else { &b.addr };
        upload(&client, addr, &opco, csv.clone())
    });
    let mut reports = futures::future::join_all(retries).await;
    let fresh = reports
        .iter_mut()
        .map(|r| r["replayed"].take())
        .filter(|replayed| *replayed == json!(false))
        .count();
    assert_eq!(
        fresh, 1,
        "one call stored the batch, the others replayed it"
    );
    assert!(reports.iter().all(|r| *r == reports[0]), "{reports:?}");
    let accepted = reports[0]["accepted"].as_i64().unwrap();
    assert!(accepted > 0, "{}", reports[0]);
    let (rows, sum) = campaign::ingest::stored_totals(&store, 2026).await.unwrap();
    assert_eq!(rows, accepted, "every accepted allocation stored once");
    let totals = campaign::figures::totals(&store, 2026).await.unwrap();
    assert_eq!(
        (totals.all.allocations, totals.all.amount_cents),
        (rows, sum)
    );

    // Several intervals go by.
    tokio::time::sleep(INTERVAL * 5).await;
    let cma = sandbox
        .simulator(passerelle_connectors::cma::PARTNER)
        .unwrap();
    let history = runs(&store).await;
    let cma_requests = cma.faults.report().requests;
    for (feed, ids) in &history {
        assert!(ids.len() >= 3, "{feed} synced on schedule: {ids:?}");
        for pair in ids.windows(2) {
            assert!(
                pair[1] - pair[0] >= 900_000,
                "{feed}: two syncs {} µs apart, less than 90 % of the interval: {ids:?}",
                pair[1] - pair[0]
            );
        }
    }
    // The CMA was asked no more often than by one replica alone.
    let first = history["cma/offer"][0];
    let elapsed = chrono::Utc::now().timestamp_micros() - first;
    assert!(
        cma_requests as i64 <= elapsed / 900_000 + 2,
        "{cma_requests} requests to the CMA in {elapsed} µs"
    );

    // Both answer the same data.
    let query = r#"{
        offers(first: 100) { totalCount nodes { id title } }
        formations(first: 100) { totalCount nodes { id } }
        events(first: 100) { nodes { title } }
        orientationSites { nodes { name } }
        mobility { total { participants } }
        taxCampaign(year: 2026) { totals { allocations amount employers } byOpco { key amount } }
    }"#;
    let from_a = ask(&client, &a.addr, &bi, query).await;
    let from_b = ask(&client, &b.addr, &bi, query).await;
    assert!(from_a["offers"]["totalCount"].as_u64().unwrap() > 0);
    assert_eq!(
        from_a["taxCampaign"]["totals"]["allocations"],
        json!(accepted)
    );
    assert_eq!(from_a, from_b);

    // The CMA goes down: whichever replica pulls, both report it.
    cma.faults
        .update(&FaultUpdate {
            outage: Some(Outage::Flag(true)),
            ..FaultUpdate::default()
        })
        .unwrap();
    let status = r#"{ partners { id status lastError { code } } }"#;
    let cma_status = |data: Value| {
        data["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "CMA")
            .cloned()
            .unwrap()
    };
    let mut reported = (Value::Null, Value::Null);
    for _ in 0..40 {
        tokio::time::sleep(INTERVAL / 4).await;
        reported = (
            cma_status(ask(&client, &a.addr, &bi, status).await),
            cma_status(ask(&client, &b.addr, &bi, status).await),
        );
        // (DEGRADED already for the records the CMA's feed rejects: the
        // failure is what is waited for.)
        if reported.0["lastError"]["code"].is_string() && reported.0 == reported.1 {
            break;
        }
    }
    assert_eq!(reported.0["status"], "DEGRADED", "{reported:?}");
    assert_eq!(reported.0, reported.1);
    let code = reported.0["lastError"]["code"].as_str().unwrap();
    assert!(
        ["PARTNER_UNAVAILABLE", "CIRCUIT_OPEN"].contains(&code),
        "{code}"
    );
    drop((a, b));
}
