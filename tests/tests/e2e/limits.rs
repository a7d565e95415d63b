//! Hostile documents are refused with their code before anything runs, and
//! the gateway's memory stays flat while they are.

use serde_json::{json, Value};

use crate::helpers::{rss_kib, spawn_app_with, TestApp, SMALL};

async fn post_raw(app: &TestApp, body: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn deep_wide_aliased_huge_and_batched_documents_are_refused_with_their_codes() {
    let app = spawn_app_with(SMALL, "").await;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(16),
        "} ".repeat(16)
    );
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: partners {{ id }} "))
        .collect();
    let roots: String = (0..25)
        .map(|i| format!("r{i}: partners {{ id }} "))
        .collect();
    let batch: Vec<Value> = (0..500)
        .map(|_| json!({ "query": "{ partners { id } }" }))
        .collect();
    let before = rss_kib();
    for _ in 0..10 {
        let (status, body) = app.post(&deep, json!({})).await;
        assert_eq!((status, code(&body)), (400, "QUERY_TOO_DEEP"), "{body}");
        let (status, body) = app.post(&format!("{{ {aliases} }}"), json!({})).await;
        assert_eq!((status, code(&body)), (400, "TOO_MANY_ALIASES"), "{body}");
        let (status, body) = app.post(&format!("{{ {roots} }}"), json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (400, "TOO_MANY_ROOT_FIELDS"),
            "{body}"
        );
        let (status, body) = post_raw(&app, serde_json::to_vec(&batch).unwrap()).await;
        assert_eq!((status, code(&body)), (400, "BATCH_TOO_LARGE"), "{body}");
        let mut huge = b"{\"query\": \"{ partners { id } }\", \"pad\": \"".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
        huge.extend(b"\"}");
        let (status, body) = post_raw(&app, huge).await;
        assert_eq!((status, code(&body)), (413, "REQUEST_TOO_LARGE"), "{body}");
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 100, "memory grew by {grown_mib} MiB");

    // A small batch is answered operation by operation.
    let (status, body) = post_raw(
        &app,
        serde_json::to_vec(&json!([{ "query": "{ partners { id } }" }, { "query": "{ nope }" }]))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body[0]["data"]["partners"].is_array(), "{body}");
    assert_eq!(code(&body[1]), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn complexity_introspection_graphiql_and_cors_follow_the_configuration() {
    let app = spawn_app_with(
        SMALL,
        "[limits]\nmax_complexity = 5\n[api]\nintrospection = false\ngraphiql = false\ncors_origins = [\"https://portail.example\"]\n",
    )
    .await;
    let (status, body) = app
        .post(
            "{ partners { id name mode status recordCount lastSuccess } }",
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "QUERY_TOO_COMPLEX"), "{body}");

    let (_, body) = app.post("{ __schema { types { name } } }", json!({})).await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection answered: {body}"
    );
    assert!(!body.to_string().contains("Offer"), "a type leaked: {body}");

    let r = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        !r.text().await.unwrap().contains("graphiql"),
        "GraphiQL is served"
    );

    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", "https://portail.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://portail.example"
    );
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", "https://ailleurs.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

/// The SHA-256 of a document, in hex, as a manifest's author computes it.
fn sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn automatic_persisted_queries_are_learnt_then_run_by_hash() {
    let app = spawn_app_with(SMALL, "").await;
    let doc = "{ partners { id } }";
    let hash = sha256(doc);
    let by_hash =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let (_, body) = post_raw(&app, serde_json::to_vec(&by_hash).unwrap()).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let (status, body) = post_raw(
        &app,
        serde_json::to_vec(&json!({ "query": doc, "extensions": by_hash["extensions"] })).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_raw(&app, serde_json::to_vec(&by_hash).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["partners"].is_array(), "{body}");
}

#[tokio::test]
async fn with_trusted_documents_only_registered_documents_run() {
    let doc = "query Portal { offers(first: 1) { totalCount } }";
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("trusted.json");
    std::fs::write(&manifest, json!({ sha256(doc): doc }).to_string()).unwrap();
    let app = spawn_app_with(
        SMALL,
        &format!("[api]\ntrusted_documents = \"{}\"\n", manifest.display()),
    )
    .await;
    let (status, body) = app.post(doc, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_raw(
        &app,
        serde_json::to_vec(&json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256(doc) } } })).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["offers"]["totalCount"].as_u64().unwrap() > 0);
    let (status, body) = app.post("{ partners { id } }", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (400, "PERSISTED_QUERY_NOT_ALLOWED"),
        "{body}"
    );
}

#[tokio::test]
async fn callers_over_their_rate_get_429_with_retry_after() {
    let app = spawn_app_with(
        SMALL,
        "[limits.rate]\nanonymous_per_second = 1\nclient_per_second = 1\nburst = 3\n",
    )
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let r = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ partners { id } }" }))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = r.json().await.unwrap();
            assert_eq!(code(&body), "RATE_LIMITED");
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
    // A caller with a token has a bucket of its own.
    let token = passerelle::auth::issuer::Issuer::load_or_create(
        &app.data_dir,
        "passerelle-sandbox",
        "passerelle",
    )
    .unwrap()
    .mint("portal", "", None, None, std::time::Duration::from_secs(60));
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ partners { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
