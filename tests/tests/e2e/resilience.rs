//! A failing partner trips its breaker; operators see it in `partners`,
//! `/readyz` and `/metrics`.

use serde_json::json;

use crate::helpers::SMALL;

#[tokio::test]
async fn a_partner_that_keeps_failing_trips_its_breaker_and_operators_see_it() {
    let app = crate::helpers::spawn_app_with(SMALL, crate::helpers::NO_DETECTION).await;
    app.faults("cci", json!({ "outage": true })).await;
    let mut codes = Vec::new();
    // Distinct filters, so that no answer comes from the cache.
    for (i, dep) in ["14", "27", "50", "61", "76", "14", "27"]
        .iter()
        .enumerate()
    {
        let (status, body) = app
            .post(
                "query($d: String!, $l: Int) { offers(first: 1, filter: { departement: $d, level: $l }) { totalCount } }",
                json!({ "d": dep, "l": 3 + (i % 3) }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["data"]["offers"]["totalCount"].as_u64().unwrap() > 0,
            "the other exchanges still answer"
        );
        codes.push(
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Five failures in a row open the breaker; then calls fail at once.
    assert!(
        codes[..5].iter().all(|c| c == "PARTNER_UNAVAILABLE"),
        "{codes:?}"
    );
    assert!(codes[5..].iter().all(|c| c == "CIRCUIT_OPEN"), "{codes:?}");
    let before = app
        .client
        .get(app.url("/_sandbox/cci/faults"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["requests"]
        .clone();
    app.post(
        "{ offers(first: 1, filter: { departement: \"50\", level: 7 }) { totalCount } }",
        json!({}),
    )
    .await;
    let after = app
        .client
        .get(app.url("/_sandbox/cci/faults"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["requests"]
        .clone();
    assert_eq!(before, after, "an open breaker must not call the partner");

    let partners = app
        .data_bi("{ partners { id status lastError { code } } }", json!({}))
        .await;
    let cci = partners["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "CCI")
        .unwrap()
        .clone();
    assert_eq!(cci["status"], "DOWN");
    assert_eq!(cci["lastError"]["code"], "CIRCUIT_OPEN");

    let ready: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["ready"], true,
        "a live partner down does not make the gateway unready"
    );
    assert_eq!(ready["partners"]["cci"]["status"], "DOWN");
    assert_eq!(ready["partners"]["cci"]["last_error"], "CIRCUIT_OPEN");

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "passerelle_partner_calls_total{partner=\"cci\",outcome=\"PARTNER_UNAVAILABLE\"}",
        "passerelle_partner_calls_total{partner=\"cci\",outcome=\"CIRCUIT_OPEN\"}",
        // Metrics are per process and tests share one: the gauge's value
        // may be another test's; its presence is this one's.
        "passerelle_breaker_state{partner=\"cci\"}",
        "passerelle_graphql_requests_total{type=\"query\",outcome=\"partial\"}",
        "passerelle_sync_runs_total{partner=\"cma\",outcome=\"updated\"}",
        "passerelle_partner_call_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from /metrics");
    }
}
