//! Live partners' answers: records rejected, and partners slower than
//! their latency budget.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SMALL};

/// The state of one partner in `partners`.
async fn partner(app: &TestApp, id: &str) -> Value {
    let data = app
        .data_bi("{ partners { id status lastError { code } } }", json!({}))
        .await;
    data["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing: {data}"))
        .clone()
}

/// `/readyz`'s report of one partner.
async fn ready(app: &TestApp, id: &str) -> Value {
    let body: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["partners"][id].clone()
}

/// The errors of an answer naming `partner`.
fn errors_of<'a>(body: &'a Value, partner: &str) -> Vec<&'a Value> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["extensions"]["partner"] == partner)
        .collect()
}

const CCI_OFFERS: &str = "{ offers(first: 5, filter: { source: CCI }) { totalCount } }";

#[tokio::test]
async fn a_live_partner_whose_every_record_is_rejected_fails_and_its_answer_is_not_cached() {
    let app = spawn_app(SMALL).await;
    app.faults("cci", json!({ "malformed_rate": 1.0 })).await;
    let (status, body) = app.post(CCI_OFFERS, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["offers"]["totalCount"], 0, "{body}");
    let errors = errors_of(&body, "cci");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "MAPPING_FAILED");
    assert_eq!(errors[0]["extensions"]["rejected"], 600, "{body}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("600") && message.contains("employer.siret"),
        "the count and the first reasons: {message}"
    );
    let cci = partner(&app, "CCI").await;
    assert_eq!(cci["status"], "DOWN", "{cci}");
    assert_eq!(cci["lastError"]["code"], "MAPPING_FAILED");
    assert_eq!(ready(&app, "cci").await["last_error"], "MAPPING_FAILED");

    // The fault cleared, the same search finds the CCI's offers at once:
    // the rejected answer was not kept.
    app.faults("cci", json!({ "malformed_rate": 0.0 })).await;
    let data = app.data(CCI_OFFERS, json!({})).await;
    assert!(
        data["offers"]["totalCount"].as_u64().unwrap() > 500,
        "{data}"
    );
    assert_eq!(partner(&app, "CCI").await["status"], "UP");
}

#[tokio::test]
async fn every_live_partner_whose_every_record_is_rejected_is_named_with_mapping_failed() {
    let app = crate::helpers::spawn_app_with(SMALL, crate::helpers::NO_DETECTION).await;
    for (partner, query) in [
        // The CNFPT first: a search of every exchange reads its offers.
        (
            "cnfpt",
            "{ offers(first: 5, filter: { publicSector: true }) { totalCount } }",
        ),
        ("cci", CCI_OFFERS),
        (
            "passmonde",
            "{ mobility(filter: { program: PASS_MONDE }) { total { mobilities } } }",
        ),
    ] {
        app.faults(partner, json!({ "malformed_rate": 1.0 })).await;
        let (status, body) = app.post(query, json!({})).await;
        assert_eq!(status, 200, "{partner}: {body}");
        let errors = errors_of(&body, partner);
        assert_eq!(errors.len(), 1, "{partner}: {body}");
        assert_eq!(
            errors[0]["extensions"]["code"], "MAPPING_FAILED",
            "{partner}: {body}"
        );
        assert!(
            errors[0]["extensions"]["rejected"].as_u64().unwrap() > 0,
            "{partner}: {body}"
        );
        app.faults(partner, json!({ "malformed_rate": 0.0 })).await;
    }
}

#[tokio::test]
async fn an_answer_with_some_records_rejected_is_served_with_their_count_and_the_partner_degraded()
{
    let app = spawn_app(SMALL).await;
    app.faults("cci", json!({ "malformed_rate": 0.2 })).await;
    let (status, body) = app.post(CCI_OFFERS, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let total = body["data"]["offers"]["totalCount"].as_u64().unwrap();
    let errors = errors_of(&body, "cci");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "PARTIAL_DATA");
    assert_eq!(errors[0]["path"], json!(["offers"]));
    let rejected = errors[0]["extensions"]["rejected"].as_u64().unwrap();
    assert!(rejected > 0 && total > 0, "{body}");
    assert_eq!(total + rejected, 600, "every record is kept or counted");
    assert_eq!(partner(&app, "CCI").await["status"], "DEGRADED");
    let report = ready(&app, "cci").await;
    assert_eq!(report["status"], "DEGRADED", "{report}");
    assert_eq!(report["rejected"], rejected, "{report}");

    // An answer without rejections: the partner is up again.
    app.faults("cci", json!({ "malformed_rate": 0.0 })).await;
    app.data(
        "{ offers(first: 5, filter: { departement: \"14\" }) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(partner(&app, "CCI").await["status"], "UP");
}

/// Requests the CCI simulator received so far.
async fn cci_requests(app: &TestApp) -> u64 {
    let report: Value = app
        .client
        .get(app.url("/_sandbox/cci/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    report["requests"].as_u64().unwrap()
}

const ALL_OFFERS: &str = "{ offers(first: 1000) { totalCount nodes { sources { partner } } } }";

fn partners_of(body: &Value) -> HashSet<String> {
    body["data"]["offers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["sources"].as_array().unwrap())
        .map(|s| s["partner"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_slow_partner_costs_a_search_its_latency_budget_and_fills_the_cache_in_the_background() {
    let app = crate::helpers::spawn_app_with(SMALL, crate::helpers::NO_DETECTION).await;
    // A search by département first, so that the token is at hand.
    app.data(
        "{ offers(first: 1, filter: { departement: \"14\" }) { totalCount } }",
        json!({}),
    )
    .await;
    app.faults("cci", json!({ "latency_ms": 3000 })).await;
    let before = cci_requests(&app).await;

    // Eight searches at once: each answered at the budget (1.5 s) with the
    // others' offers, though the CCI takes 3 s for each of its two pages.
    let started = Instant::now();
    let answers =
        futures_join(std::iter::repeat_with(|| app.post(ALL_OFFERS, json!({}))).take(8)).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(2500),
        "answered in {elapsed:?} while the partner takes 3 s a page"
    );
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert!(body["data"]["offers"]["totalCount"].as_u64().unwrap() > 0);
        assert_eq!(
            partners_of(body),
            HashSet::from(["CMA".to_owned(), "CNFPT".to_owned()]),
            "{body}"
        );
        let errors = errors_of(body, "cci");
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["extensions"]["code"], "PARTNER_TIMEOUT");
        assert_eq!(errors[0]["path"], json!(["offers"]));
    }

    // The load goes on in the background, and fills the cache once its
    // two pages are in (about 6 s): a search then finds the CCI's offers.
    // Meanwhile, searches joining the load (late already) answer at once.
    let mut found = None;
    for _ in 0..80 {
        let (_, body) = app.post(ALL_OFFERS, json!({})).await;
        if body.get("errors").is_none() {
            found = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let body = found.expect("the background load filled the cache");
    assert!(partners_of(&body).contains("CCI"), "{body}");
    assert_eq!(
        cci_requests(&app).await - before,
        2,
        "one load of two pages, shared by every search meanwhile"
    );
    app.faults("cci", json!({ "latency_ms": 0 })).await;
}

/// Runs the futures at once and returns their outputs in order.
async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.map(Box::pin).collect();
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = handles.into_iter().map(Some).collect();
    let mut done: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter().map(|d| d.expect("completed")).collect()
}
