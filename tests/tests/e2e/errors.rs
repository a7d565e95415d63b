//! Bad input gets an error with a code, never a panic or a 500.

use serde_json::json;

use crate::helpers::{spawn_app, SMALL};

#[tokio::test]
async fn bad_arguments_are_invalid_input_with_a_code() {
    let app = spawn_app(SMALL).await;
    for (query, code) in [
        (
            r#"{ offers(filter: { rome: ["XX"] }) { totalCount } }"#,
            "INVALID_INPUT",
        ),
        (
            r#"{ offers(filter: { commune: "75056" }) { totalCount } }"#,
            "INVALID_INPUT",
        ),
        (
            r#"{ offers(filter: { level: 9 }) { totalCount } }"#,
            "INVALID_INPUT",
        ),
        (
            r#"{ offers(first: 100000) { totalCount } }"#,
            "INVALID_INPUT",
        ),
        (r#"{ offers(first: -1) { totalCount } }"#, "INVALID_INPUT"),
        (
            r#"{ offers(after: "not-a-cursor") { totalCount } }"#,
            "INVALID_CURSOR",
        ),
        (r#"{ offer(id: "nope") { id } }"#, "INVALID_INPUT"),
    ] {
        let (status, body) = app.post(query, json!({})).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{query}: {body}"
        );
        assert!(body.get("data").is_some(), "{query}: {body}");
    }
}

#[tokio::test]
async fn malformed_documents_are_request_errors() {
    let app = spawn_app(SMALL).await;
    let (status, body) = app.post("{ offers(", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );
    assert!(body.get("data").is_none());

    let (status, body) = app.post("{ offerz { id } }", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );

    let (status, body) = app
        .post(
            "query($n: Int!) { offers(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn http_requests_outside_the_protocol_are_refused_plainly() {
    let app = spawn_app(SMALL).await;
    let url = app.url("/graphql");
    let c = &app.client;
    let r = c.post(&url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 415);
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(&url)
        .query(&[("query", "mutation { x }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let r = c
        .get(&url)
        .query(&[("query", "{ offers(first: 1) { totalCount } }")])
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = c
        .get(&url)
        .query(&[("query", "{ offers(first: 1) { totalCount } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let r = c
        .get(&url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("graphiql"));
    let r = c
        .post(app.url("/_sandbox/opca/faults"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(app.url("/_sandbox/cci/faults"))
        .json(&json!({ "error_rate": 3 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app(SMALL).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["partners"]["cma"]["records"], 497);
    // Its feed carries 3 records it rejects: served without them,
    // `DEGRADED` as a live partner answering so would be.
    assert_eq!(body["partners"]["cma"]["status"], "DEGRADED");
    assert_eq!(body["partners"]["cma"]["rejected"], 3);
    assert_eq!(
        body["store_checks"],
        serde_json::json!({ "read": true, "write": true })
    );
    // Live partners are not called by the probe: their health comes from
    // the calls queries make, as `partners` shows it.
    assert_eq!(body["partners"]["cci"]["status"], "UNKNOWN");
}
