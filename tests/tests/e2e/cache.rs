//! The response cache: a repeated query is answered from it, but never an
//! answer older than the data, never a partial answer, never a mutation's,
//! and never across what callers may see.

use passerelle_connectors::sandbox::campaign::{Campaign, CampaignSettings};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SMALL};

/// POSTs `body` with `token`; the status, `x-cache` and the JSON answer.
async fn send(
    app: &TestApp,
    token: Option<&str>,
    accept: &str,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let cache = r
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), cache, r.json().await.unwrap())
}

const JSON: &str = "application/json";
const GRAPHQL_JSON: &str = "application/graphql-response+json";

#[tokio::test]
async fn repeated_queries_are_served_from_the_cache_until_the_data_changes() {
    let app = spawn_app(SMALL).await;
    let offers = json!({ "query": "{ offers(first: 5, filter: { departement: \"14\" }) { totalCount nodes { id } } }" });
    let (_, first, a) = send(&app, None, JSON, &offers).await;
    let (_, second, b) = send(&app, None, JSON, &offers).await;
    assert_eq!(
        (first.as_deref(), second.as_deref()),
        (Some("MISS"), Some("HIT"))
    );
    assert_eq!(a, b);
    // Another media type is another answer.
    let (_, other, _) = send(&app, None, GRAPHQL_JSON, &offers).await;
    assert_eq!(other.as_deref(), Some("MISS"));

    // What callers may see: the Région's figures are not the anonymous
    // caller's refusal, nor an OPCO's.
    let figures =
        json!({ "query": "{ taxCampaign(year: 2026) { totals { allocations amount } } }" });
    let bi = app.token("region:bi", None, None);
    let (_, anonymous, refused) = send(&app, None, JSON, &figures).await;
    assert!(refused.get("errors").is_some(), "{refused}");
    assert_eq!(anonymous, None, "a refusal is not kept");
    let (_, first, before) = send(&app, Some(&bi), JSON, &figures).await;
    let (_, second, _) = send(&app, Some(&bi), JSON, &figures).await;
    assert_eq!(
        (first.as_deref(), second.as_deref()),
        (Some("MISS"), Some("HIT"))
    );
    assert_eq!(before["data"]["taxCampaign"]["totals"]["allocations"], 0);
    let (_, still_refused, body) = send(&app, None, JSON, &figures).await;
    assert!(
        body.get("errors").is_some() && still_refused.is_none(),
        "{body}"
    );

    // A push (never kept itself) changes the figures: read at once.
    let records: Vec<_> = Campaign::new(CampaignSettings {
        employers: 20,
        allocations: 50,
        ..CampaignSettings::default()
    })
    .map(|(_, a)| a)
    .collect();
    let akto = app.token("allocations:write", Some("AKTO"), None);
    let push = json!({
        "query": "mutation($input: PushAllocationsInput!) { pushAllocations(input: $input) { accepted replayed } }",
        "variables": { "input": { "campaign": 2026, "idempotencyKey": "k1", "allocations": records } },
    });
    let (_, pushed, report) = send(&app, Some(&akto), JSON, &push).await;
    assert_eq!(pushed, None, "{report}");
    let accepted = report["data"]["pushAllocations"]["accepted"].clone();
    assert!(accepted.as_u64().unwrap() > 0, "{report}");
    let (_, again, replayed) = send(&app, Some(&akto), JSON, &push).await;
    assert_eq!(again, None);
    assert_eq!(replayed["data"]["pushAllocations"]["replayed"], true);
    let (_, fresh, after) = send(&app, Some(&bi), JSON, &figures).await;
    assert_eq!(fresh.as_deref(), Some("MISS"));
    assert_eq!(
        after["data"]["taxCampaign"]["totals"]["allocations"],
        accepted
    );
}

#[tokio::test]
async fn partial_answers_are_not_kept_and_a_partner_failure_is_seen_at_once() {
    let app = spawn_app(SMALL).await;
    let query =
        json!({ "query": "{ offers(first: 3, filter: { source: CCI }) { nodes { id } } }" });
    let (_, _, ok) = send(&app, None, JSON, &query).await;
    assert!(ok.get("errors").is_none(), "{ok}");
    assert_eq!(
        send(&app, None, JSON, &query).await.1.as_deref(),
        Some("HIT")
    );

    app.faults("cci", json!({ "outage": true })).await;
    // A filter the CCI connector has not cached, so that the partner is called.
    let different = json!({
        "query": "{ offers(first: 4, filter: { departement: \"61\", level: 4 }) { nodes { id } } }"
    });
    for _ in 0..2 {
        let (_, cache, partial) = send(&app, None, JSON, &different).await;
        assert!(partial.get("errors").is_some(), "{partial}");
        assert_eq!(cache, None, "a partial answer is never kept");
    }
    app.faults("cci", json!({ "outage": false })).await;
}
