//! Requests as the GraphQL specification and the HTTP layer treat them:
//! answers in document order, bounds counted through fragments, variables
//! checked before anything runs, batches run at once, and every refusal a
//! coded error.

use std::time::Instant;

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, SMALL};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// POSTs a document and returns the answer's text as sent.
async fn raw_answer(app: &TestApp, query: &str) -> String {
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Where each key appears in `text`, which must hold them all.
fn positions(text: &str, keys: &[&str]) -> Vec<usize> {
    keys.iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} missing from {text}"))
        })
        .collect()
}

fn ascending(p: &[usize]) -> bool {
    p.windows(2).all(|w| w[0] < w[1])
}

#[tokio::test]
async fn fields_are_answered_in_the_order_the_document_selects_them() {
    let app = spawn_app_with(SMALL, "[api]\nresponse_cache_ttl = \"0s\"\n").await;
    for _ in 0..3 {
        let text = raw_answer(
            &app,
            "{ offers(first: 2) { pageInfo { hasNextPage } totalCount nodes { title id } } \
               formations(first: 1) { totalCount } partners { status id } }",
        )
        .await;
        let p = positions(
            &text,
            &[
                "offers",
                "pageInfo",
                "totalCount",
                "nodes",
                "formations",
                "partners",
            ],
        );
        assert!(ascending(&p), "{text}");
        let node = &text[text.find("\"nodes\":").unwrap()..];
        assert!(ascending(&positions(node, &["title", "id"])), "{text}");
        let text = raw_answer(
            &app,
            "{ z: partners { id } ...F formations(first: 1) { totalCount } } \
             fragment F on Query { offers(first: 1) { totalCount } }",
        )
        .await;
        assert!(
            ascending(&positions(&text, &["z", "offers", "formations"])),
            "{text}"
        );
    }
}

#[tokio::test]
async fn every_bound_is_counted_through_fragments() {
    let app = spawn_app_with(SMALL, "").await;
    let roots: String = (0..29)
        .map(|i| format!("r{i}: partners {{ id }} "))
        .collect();
    let (status, body) = app
        .post(
            &format!("{{ ...R }} fragment R on Query {{ {roots} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "TOO_MANY_ROOT_FIELDS"),
        "{body}"
    );
    let (status, body) = app
        .post(&format!("{{ ... on Query {{ {roots} }} }}"), json!({}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "TOO_MANY_ROOT_FIELDS"),
        "{body}"
    );

    // 20 aliases in a fragment spread under two fields are 40.
    let aliases: String = (0..20).map(|i| format!("a{i}: id ")).collect();
    let (status, body) = app
        .post(
            &format!("{{ partners {{ ...P }} more: partners {{ ...P }} }} fragment P on Partner {{ {aliases} }}"),
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "TOO_MANY_ALIASES"), "{body}");

    // Depth through a chain of fragments.
    let mut deep = String::from("{ __schema { types { ...T0 } } }");
    for i in 0..14 {
        deep.push_str(&format!(
            " fragment T{i} on __Type {{ ofType {{ ...T{} }} }}",
            i + 1
        ));
    }
    deep.push_str(" fragment T14 on __Type { name }");
    let (status, body) = app.post(&deep, json!({})).await;
    assert_eq!((status, code(&body)), (400, "QUERY_TOO_DEEP"), "{body}");

    let tight = spawn_app_with(SMALL, "[limits]\nmax_complexity = 5\n").await;
    let (status, body) = tight
        .post(
            "{ ...P } fragment P on Query { partners { id name mode status recordCount lastSuccess } }",
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "QUERY_TOO_COMPLEX"), "{body}");
}

#[tokio::test]
async fn variables_that_do_not_fit_their_types_are_request_errors() {
    let app = spawn_app_with(SMALL, "").await;
    let q = "query($first: Int!) { offers(first: $first) { totalCount } }";
    for variables in [
        json!({}),
        json!({ "first": null }),
        json!({ "first": 4_294_967_296_i64 }),
        json!({ "first": "ten" }),
    ] {
        let (status, body) = app.post(q, variables.clone()).await;
        assert_eq!(status, 400, "{variables}: {body}");
        assert!(body.get("data").is_none(), "{variables}: {body}");
        assert_eq!(code(&body), "INVALID_INPUT", "{variables}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("$first"),
            "{body}"
        );
    }
    let (status, body) = app.post(q, json!({ "first": 2 })).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_subscription_over_http_is_refused_with_one_error() {
    let app = spawn_app_with(SMALL, "").await;
    let (status, body) = app
        .post("subscription { offers { totalCount } }", json!({}))
        .await;
    assert_eq!(status, 400, "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert!(!code(&body).is_empty(), "{body}");
}

#[tokio::test]
async fn the_http_layers_refusals_are_coded_errors() {
    let app = spawn_app_with(SMALL, "").await;
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let r = app
            .client
            .request(method.clone(), app.url("/graphql"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert!(r.headers()["allow"].to_str().unwrap().contains("POST"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(code(&body), "METHOD_NOT_ALLOWED", "{body}");
    }
    let long = format!("{{ partners {{ id }} }}{}", " ".repeat(40 * 1024));
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "REQUEST_TOO_LARGE", "{body}");
    let r = app.client.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
}

async fn post_batch(app: &TestApp, batch: &Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(batch)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_batch_runs_its_operations_at_once() {
    let app = spawn_app_with(SMALL, "[api]\nresponse_cache_ttl = \"0s\"\n").await;
    app.faults("cci", json!({ "latency_ms": 300 })).await;
    let search = |rome: &str| json!({ "query": format!("{{ offers(first: 1, filter: {{ rome: [\"{rome}\"] }}) {{ totalCount }} }}") });
    let started = Instant::now();
    let (status, body) = post_batch(&app, &json!([search("D1102")])).await;
    let one = started.elapsed();
    assert_eq!(status, 200, "{body}");
    // Three searches the CCI answers each in its own calls: at once, they
    // take about as long as one; one after another, three times as long.
    let started = Instant::now();
    let (status, body) = post_batch(
        &app,
        &json!([search("D1212"), search("F1603"), search("G1602")]),
    )
    .await;
    let three = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 3);
    assert!(
        body.as_array()
            .unwrap()
            .iter()
            .all(|a| a["data"]["offers"]["totalCount"].is_u64()),
        "{body}"
    );
    assert!(
        three < one * 2,
        "a batch of three took {three:?}, one operation {one:?}"
    );
}

#[tokio::test]
async fn each_operation_of_a_batch_counts_against_the_rate() {
    let app = spawn_app_with(
        SMALL,
        "[limits.rate]\nanonymous_per_second = 1\nburst = 4\n",
    )
    .await;
    let op = json!({ "query": "{ partners { id } }" });
    // More operations than the burst holds: refused whole.
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([op, op, op, op, op]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let (status, body) = post_batch(&app, &json!([op, op, op, op])).await;
    assert_eq!(status, 200, "{body}");
    // The four operations spent the burst: the next request is refused.
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "RATE_LIMITED");
}

#[tokio::test]
async fn a_departement_must_exist_and_one_outside_normandy_is_answered_empty_with_a_notice() {
    let app = spawn_app_with(SMALL, "").await;
    for field in ["offers", "formations", "events", "cfas"] {
        let (status, body) = app
            .post(
                &format!("{{ {field}(filter: {{ departement: \"99\" }}) {{ totalCount }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(code(&body), "INVALID_INPUT", "{field}: {body}");
        let (status, body) = app
            .post(
                &format!("{{ {field}(filter: {{ departement: \"75\" }}) {{ totalCount }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{field}: {body}");
        assert_eq!(body["data"][field]["totalCount"], 0, "{field}: {body}");
        let notice = &body["extensions"]["notices"][0];
        assert_eq!(notice["code"], "OUTSIDE_NORMANDY", "{field}: {body}");
        assert_eq!(notice["path"], json!([field]), "{body}");
    }
    let (_, body) = app
        .post(
            "{ offers(filter: { departement: \"14\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(body.get("extensions").is_none(), "{body}");
}
