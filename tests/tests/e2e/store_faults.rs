//! The store failing under the gateway: what clients and operators are
//! told, and the recovery, without a restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use passerelle::store::testing;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_stored, TestApp, NO_DETECTION, SMALL};

async fn ready(app: &TestApp) -> (u16, Value) {
    let r = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("the gateway answers");
    (r.status().as_u16(), r.json().await.expect("JSON"))
}

/// Polls `/readyz` until its `store` says `up` (within 30 s).
async fn until_store(app: &TestApp, up: bool) -> Value {
    for _ in 0..300 {
        let (_, body) = ready(app).await;
        if body["store"] == json!(up) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the store never showed {up}");
}

/// PostgreSQL refuses this gateway's connections, then accepts them again.
/// Meanwhile `/readyz` says unready and why; a campaign read fails with
/// the retryable `STORE_UNAVAILABLE` and a safe message, at once (the
/// breaker, not the pool's timeout, answers); `partners` answers from
/// memory, with an error on the history it cannot read. Back up, every
/// request succeeds again without a restart.
#[tokio::test]
async fn while_the_store_is_down_requests_fail_fast_and_say_so_then_recover() {
    let Some(server) = testing::postgres_url() else {
        return;
    };
    let url = testing::scratch_postgres(&server).await;
    let app = spawn_app_stored(&url, SMALL, NO_DETECTION).await;
    let bi = app.token("region:bi", None, None);
    let campaign = "{ taxCampaign(year: 2026) { totals { allocations } } }";
    let partners = "{ partners { id status recordCount } }";
    let history = "{ partners { id status lastSync { outcome } } }";
    assert_eq!(until_store(&app, true).await["ready"], json!(true));

    testing::accept_connections(&server, &url, false).await;
    let body = until_store(&app, false).await;
    assert_eq!(body["ready"], json!(false), "{body}");
    assert_eq!(body["store_checks"]["read"], json!(false), "{body}");
    assert_eq!(
        body["store_checks"]["problem"],
        json!("unreachable"),
        "{body}"
    );

    let refused = app.metric("passerelle_store_refused_total").await;
    for _ in 0..3 {
        let (status, body) = app.post_as(Some(&bi), campaign, json!({})).await;
        assert_eq!(status, 200, "{body}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "STORE_UNAVAILABLE", "{body}");
        let message = error["message"].as_str().unwrap();
        assert!(
            !message.contains("pool") && !message.contains("sqlx"),
            "{message}"
        );
    }
    assert!(
        app.metric("passerelle_store_refused_total").await >= refused + 3.0,
        "the breaker answered"
    );

    let (_, body) = app.post_as(Some(&bi), partners, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let listed = body["data"]["partners"].as_array().unwrap();
    assert!(listed.len() >= 7, "{body}");
    let (_, body) = app.post_as(Some(&bi), history, json!({})).await;
    assert!(
        body["data"]["partners"].as_array().unwrap().len() >= 7,
        "{body}"
    );
    let codes: Vec<&Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["extensions"]["code"])
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "STORE_UNAVAILABLE"),
        "{body}"
    );

    testing::accept_connections(&server, &url, true).await;
    let body = until_store(&app, true).await;
    assert_eq!(body["ready"], json!(true), "{body}");
    let (_, body) = app.post_as(Some(&bi), campaign, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let (_, body) = app.post_as(Some(&bi), history, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// A store that reads but takes no writes (a read-only file, as on a
/// read-only volume): its probe says so, and why.
#[tokio::test]
async fn a_read_only_store_says_it_takes_no_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.db");
    {
        let made = passerelle::store::Store::open(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
        drop(made);
    }
    let store = passerelle::store::Store::open(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let health = store.probe().await;
    assert!(health.read, "{health:?}");
    assert!(!health.write, "{health:?}");
    assert_eq!(health.problem, Some("read_only"));
}

/// Requests of every kind, each kind sent one after another until
/// stopped, the kinds at once: the statuses seen, and the errors of the
/// requests served from memory.
fn load(app: &TestApp, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(Vec<u16>, Vec<Value>)> {
    let queries = [
        ("{ offers(first: 5) { totalCount nodes { id } } }", true),
        (
            "{ taxCampaign(year: 2026) { totals { allocations } } }",
            false,
        ),
        ("{ partners { id status recordCount } }", true),
    ];
    let lanes: Vec<_> = queries
        .into_iter()
        .map(|(query, from_memory)| {
            let client = app.client.clone();
            let url = app.url("/graphql");
            let bi = app.token("region:bi", None, None);
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut errors = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = client
                        .post(&url)
                        .bearer_auth(&bi)
                        .json(&json!({ "query": query }))
                        .send()
                        .await
                        .expect("the gateway answers");
                    let status = r.status().as_u16();
                    statuses.push(status);
                    let body: Value = r.json().await.expect("JSON");
                    // (A 429 is the client's own pace, not the store's.)
                    if let Some(e) = body.get("errors").filter(|_| from_memory && status != 429) {
                        errors.push(e.clone());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (statuses, errors)
            })
        })
        .collect();
    tokio::spawn(async move {
        let mut all = (Vec::new(), Vec::new());
        for lane in lanes {
            let (statuses, errors) = lane.await.expect("a lane of load");
            all.0.extend(statuses);
            all.1.extend(errors);
        }
        all
    })
}

/// PostgreSQL stopped under load, as an operator's restart (`fast`) and as
/// a crash (`immediate`), then started again: no request gets a 5xx, what
/// memory serves is answered throughout, `/readyz` says the store is
/// unreachable meanwhile and ready again after, and the first sync and
/// campaign read after the restart succeed at once.
#[tokio::test]
async fn postgres_restarted_under_load_costs_no_5xx_and_the_first_sync_after_succeeds() {
    let Some(cluster) = testing::OwnCluster::start().map(Arc::new) else {
        return;
    };
    // Its tools block: run off the runtime the gateway serves on.
    let pg = |f: fn(&testing::OwnCluster, &'static str), mode: &'static str| {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || f(&cluster, mode))
    };
    let app = spawn_app_stored(&cluster.url(), SMALL, NO_DETECTION).await;
    let bi = app.token("region:bi", None, None);
    assert_eq!(until_store(&app, true).await["ready"], json!(true));
    for mode in ["fast", "immediate"] {
        let stop = Arc::new(AtomicBool::new(false));
        let load = load(&app, stop.clone());
        pg(|c, mode| c.stop(mode), mode).await.unwrap();
        let body = until_store(&app, false).await;
        assert_eq!(
            body["store_checks"]["problem"], "unreachable",
            "{mode}: {body}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        pg(|c, _| c.restart(), mode).await.unwrap();
        let body = until_store(&app, true).await;
        assert_eq!(body["ready"], json!(true), "{mode}: {body}");
        stop.store(true, Ordering::Relaxed);
        let (statuses, search_errors) = load.await.unwrap();
        assert!(statuses.len() > 10, "{mode}: the load ran");
        let failed = statuses.iter().filter(|s| **s >= 500).count();
        assert_eq!(failed, 0, "{mode}: 5xx among {} answers", statuses.len());
        assert!(
            search_errors.is_empty(),
            "{mode}: {} errors, the first {}",
            search_errors.len(),
            search_errors[0]
        );

        let synced = app
            .client
            .post(app.url("/_sandbox/cma/sync"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            synced.status(),
            200,
            "{mode}: the first sync after the restart"
        );
        let (_, read) = app
            .post_as(
                Some(&bi),
                "{ taxCampaign(year: 2026) { totals { allocations } } }",
                json!({}),
            )
            .await;
        assert!(read.get("errors").is_none(), "{mode}: {read}");
    }
}
