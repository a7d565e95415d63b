//! New offers pushed to candidates: live subscribers over graphql-ws and
//! graphql-sse (the npm client libraries themselves), and a saved alert
//! delivered to the sandbox's webhook receiver, signed.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{node, spawn_app_with, TestApp, SMALL};

const SUBSCRIPTION: &str = "subscription($f: OfferFilter) { offerPublished(filter: $f) { distanceKm offer { id title sources { partner } location { departement { code } } } } }";

/// A subscriber run by `tests/audit/subscribe.mjs`, printing its events.
struct Subscriber {
    child: Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Subscriber {
    async fn start(app: &TestApp, transport: &str, variables: Value, count: usize) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/audit");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/graphql-ws")
                .exists(),
            "the subscription clients are missing: run `npm ci` in tests/audit (tests/run.sh does)"
        );
        let mut child = Command::new("node")
            .arg("subscribe.mjs")
            .args(["--transport", transport, "--url", &app.url("/graphql")])
            .args([
                "--query",
                SUBSCRIPTION,
                "--variables",
                &variables.to_string(),
            ])
            .args(["--count", &count.to_string(), "--timeout-ms", "60000"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut s = Self { child, lines };
        let first = s.event().await;
        assert_eq!(first["event"], "connected", "{first}");
        s
    }

    async fn event(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(90), self.lines.next_line())
            .await
            .expect("the subscriber prints within 90 s")
            .expect("its output reads")
            .expect("it has not ended");
        serde_json::from_str(&line).expect("a JSON line")
    }

    /// Every `next` until the client is done.
    async fn results(mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let e = self.event().await;
            match e["event"].as_str() {
                Some("next") => out.push(e["data"]["offerPublished"].clone()),
                Some("done") => break,
                _ => {}
            }
        }
        let _ = self.child.wait().await;
        out
    }
}

/// Waits until the gateway has made its first detection (which records
/// the catalogue as seen) and `subscribers` are registered.
async fn settled(app: &TestApp, subscribers: usize) {
    for _ in 0..600 {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let active = text
            .lines()
            .find(|l| l.starts_with("passerelle_subscribers_active"))
            .and_then(|l| l.split_whitespace().last()?.parse::<f64>().ok())
            .unwrap_or(0.0);
        if text.contains("passerelle_offers_new_total") && active as usize >= subscribers {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the gateway did not settle");
}

/// The webhook delivery the book shows (`Save alerts and receive webhooks`).
fn documented_delivery() -> Value {
    const CHAPTER: &str = include_str!("../../../docs/src/portal/webhooks.md");
    let marker = "<!-- a webhook delivery -->\n```json\n";
    let start = CHAPTER.find(marker).expect("the book shows a delivery") + marker.len();
    let end = start + CHAPTER[start..].find("```").expect("a closed block");
    serde_json::from_str(&CHAPTER[start..end]).expect("the book's delivery is JSON")
}

/// Whether `real` has the keys of `documented`, at every level, with values
/// of the same types (`null` stands for any: the book says which may be
/// null); the elements of a list are each compared with its first.
fn fits(documented: &Value, real: &Value) -> Result<(), String> {
    match (documented, real) {
        (Value::Null, _) | (_, Value::Null) => Ok(()),
        (Value::Object(d), Value::Object(r)) => {
            let dk: Vec<&String> = d.keys().collect();
            let rk: Vec<&String> = r.keys().collect();
            let (mut ds, mut rs) = (dk.clone(), rk.clone());
            ds.sort();
            rs.sort();
            if ds != rs {
                return Err(format!("keys {rs:?}, documented {ds:?}"));
            }
            d.iter()
                .try_for_each(|(k, v)| fits(v, &r[k]).map_err(|e| format!("{k}: {e}")))
        }
        (Value::Array(d), Value::Array(r)) => match d.first() {
            Some(first) => r
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| fits(first, v).map_err(|e| format!("[{i}]: {e}"))),
            None => Ok(()),
        },
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => Ok(()),
        (d, r) => Err(format!("{r} where the book shows {d}")),
    }
}

/// What the sandbox's webhook receiver got.
async fn inbox(app: &TestApp) -> Value {
    app.client
        .get(app.url("/_sandbox/webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn publish_cma(app: &TestApp, n: u32) {
    app.faults("cma", json!({ "publish_new": n })).await;
    let r = app
        .client
        .post(app.url("/_sandbox/cma/sync"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn subscribers_and_saved_alerts_see_each_new_offer_once() {
    let app = spawn_app_with(SMALL, "[alerts]\npoll_interval = \"1h\"\n").await;
    let token = app.token("alerts:write", None, None);
    // A saved alert for every new offer, delivered to the sandbox receiver.
    let (_, created) = app
        .post_as(
            Some(&token),
            "mutation($i: CreateOfferAlertInput!) { createOfferAlert(input: $i) { id signingSecret active } }",
            json!({ "i": { "candidateRef": "cand-1", "filter": {}, "webhookUrl": app.url("/_sandbox/webhooks") } }),
        )
        .await;
    let alert = created["data"]["createOfferAlert"].clone();
    assert!(
        alert["signingSecret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_"),
        "{created}"
    );
    let everything_ws = Subscriber::start(&app, "ws", json!({}), 4).await;
    let everything_sse = Subscriber::start(&app, "sse", json!({}), 4).await;
    // Nothing the CMA's craft offers match: a commerce occupation.
    let nothing = Subscriber::start(
        &app,
        "ws",
        json!({ "f": { "rome": ["D1106"], "source": "CMA" } }),
        1,
    )
    .await;
    settled(&app, 3).await;
    // The two subscribers of everything, one per transport, send the same
    // request: they share one execution, the filtered one has its own.
    assert_eq!(app.metric("passerelle_subscription_executions").await, 2.0);
    publish_cma(&app, 4).await;
    let ws = everything_ws.results().await;
    let sse = everything_sse.results().await;
    // One result, the same payload on either transport.
    let by_id = |mut results: Vec<Value>| {
        results.sort_by(|a, b| a["offer"]["id"].as_str().cmp(&b["offer"]["id"].as_str()));
        results
    };
    assert_eq!(by_id(ws.clone()), by_id(sse.clone()));
    for got in [&ws, &sse] {
        assert_eq!(got.len(), 4, "{got:?}");
        let mut ids: Vec<&str> = got
            .iter()
            .map(|o| o["offer"]["id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 4, "each new offer once: {got:?}");
        assert!(got
            .iter()
            .all(|o| o["offer"]["sources"][0]["partner"] == "CMA"));
    }
    let mut nothing = nothing;
    // The filtered subscriber stays quiet: a sync with no new offer, then
    // its own timeout would end it; check it got nothing so far.
    tokio::time::sleep(Duration::from_millis(500)).await;
    nothing.child.start_kill().unwrap();
    let mut quiet = Vec::new();
    while let Ok(Some(line)) = nothing.lines.next_line().await {
        quiet.push(line);
    }
    assert!(quiet.iter().all(|l| !l.contains("\"next\"")), "{quiet:?}");
    // The saved alert's delivery, signed.
    let mut received = Value::Null;
    for _ in 0..100 {
        received = inbox(&app).await;
        if received["count"].as_u64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(received["count"], 1, "{received}");
    let got = &received["received"][0];
    assert_eq!(got["verified"], true, "{got}");
    assert_eq!(
        got["payload"]["data"]["offers"].as_array().unwrap().len(),
        4
    );
    assert_eq!(got["payload"]["data"]["candidateRef"], "cand-1");
    // The Standard Webhooks reference library verifies it, as a receiver
    // would; and it reads as the book says, key for key.
    let check = json!({
        "secret": alert["signingSecret"],
        "id": got["webhookId"],
        "timestamp": got["timestamp"],
        "signature": got["signature"],
        "body": got["body"],
    });
    let verified = node("clients", "verify.mjs", vec![check.to_string()]).await;
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    if let Err(why) = fits(&documented_delivery(), &got["payload"]) {
        panic!(
            "the delivery is not as the book says: {why}\n{}",
            got["payload"]
        );
    }
    let (_, seen) = app
        .post_as(
            Some(&token),
            "query($id: ID!) { offerAlert(id: $id) { deliveries { id state attempts lastStatus } } }",
            json!({ "id": alert["id"] }),
        )
        .await;
    let deliveries = &seen["data"]["offerAlert"]["deliveries"];
    assert_eq!(deliveries[0]["state"], "DELIVERED", "{seen}");
    assert_eq!(deliveries[0]["id"], got["webhookId"]);
    // Another sync of the same feed announces nothing again.
    publish_cma(&app, 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = inbox(&app).await;
    assert_eq!(again["count"], 1, "{again}");
}

#[tokio::test]
async fn webhook_targets_on_private_networks_are_refused() {
    let app = spawn_app_with(SMALL, "[alerts]\nallow_private_targets = []\n").await;
    let token = app.token("alerts:write", None, None);
    for url in [
        app.url("/_sandbox/webhooks"),
        "http://localhost:9/hook".to_owned(),
        "http://10.0.0.1/hook".into(),
        "http://192.168.1.20/hook".into(),
        "http://169.254.169.254/latest/meta-data".into(),
        "http://[::1]/hook".into(),
        "http://[fe80::1]/hook".into(),
        "http://[::ffff:127.0.0.1]/hook".into(),
        "http://[::127.0.0.1]/hook".into(),
        "http://[::10.0.0.1]/hook".into(),
        "http://[64:ff9b::a9fe:a9fe]/hook".into(),
        "http://[2002:7f00:1::1]/hook".into(),
        "http://[2001::1]/hook".into(),
        "http://[fec0::1]/hook".into(),
        "http://[100::1]/hook".into(),
        "http://192.88.99.1/hook".into(),
        "http://198.18.0.1/hook".into(),
        "http://does-not-exist.invalid/hook".into(),
        "ftp://example.org/hook".into(),
    ] {
        let (_, r) = app
            .post_as(
                Some(&token),
                "mutation($i: CreateOfferAlertInput!) { createOfferAlert(input: $i) { id } }",
                json!({ "i": { "candidateRef": "c", "filter": {}, "webhookUrl": url } }),
            )
            .await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{url}: {r}"
        );
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("webhookUrl"), "{r}");
        // What a name resolves to, or whether it does, is not told.
        if !url.starts_with("ftp:") {
            assert_eq!(message, "input.webhookUrl: not an allowed target", "{url}");
        }
    }
    // Without the scope, or anonymous: refused.
    let (_, r) = app
        .post_as(
            None,
            "mutation { createOfferAlert(input: { candidateRef: \"c\", filter: {}, webhookUrl: \"https://example.org/\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
}

/// Saves an alert to the sandbox's receiver, answering `status` (none:
/// 204); returns its identifier.
async fn alert_to_receiver(app: &TestApp, token: &str, status: Option<u16>, digest: &str) -> Value {
    let url = match status {
        Some(s) => app.url(&format!("/_sandbox/webhooks?status={s}")),
        None => app.url("/_sandbox/webhooks"),
    };
    let (_, r) = app
        .post_as(
            Some(token),
            "mutation($i: CreateOfferAlertInput!) { createOfferAlert(input: $i) { id } }",
            json!({ "i": { "candidateRef": "c", "filter": { "source": "CMA" }, "webhookUrl": url, "digest": digest } }),
        )
        .await;
    r["data"]["createOfferAlert"]["id"].clone()
}

async fn deliveries(app: &TestApp, token: &str, alert: &Value) -> Value {
    let (_, r) = app
        .post_as(
            Some(token),
            "query($id: ID!) { offerAlert(id: $id) { active disabledReason deliveries { id state attempts offers lastStatus lastError nextAttemptAt } } }",
            json!({ "id": alert }),
        )
        .await;
    r["data"]["offerAlert"].clone()
}

/// Waits until `done` holds of an alert's state, 30 s at most.
async fn until(app: &TestApp, token: &str, alert: &Value, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let a = deliveries(app, token, alert).await;
        if done(&a) {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{}", deliveries(app, token, alert).await);
}

#[tokio::test]
async fn failed_deliveries_are_retried_then_dead_lettered_and_gone_receivers_disable_alerts() {
    let app = spawn_app_with(
        SMALL,
        "[alerts]\npoll_interval = \"1h\"\nretry_base = \"100ms\"\nretry_max = \"200ms\"\nretry_for = \"1500ms\"\n",
    )
    .await;
    let token = app.token("alerts:write", None, None);
    let failing = alert_to_receiver(&app, &token, Some(503), "IMMEDIATE").await;
    let gone = alert_to_receiver(&app, &token, Some(410), "IMMEDIATE").await;
    let redirected = alert_to_receiver(&app, &token, Some(302), "IMMEDIATE").await;
    let daily = alert_to_receiver(&app, &token, None, "DAILY").await;
    settled(&app, 0).await;
    publish_cma(&app, 2).await;
    // Tried again and again with the same identifier, then dead.
    let a = until(&app, &token, &failing, |a| {
        a["deliveries"][0]["state"] == "DEAD"
    })
    .await;
    let d = &a["deliveries"][0];
    assert!(d["attempts"].as_i64().unwrap() >= 3, "{a}");
    assert_eq!(d["lastStatus"], 503);
    assert!(a["active"].as_bool().unwrap());
    // 410: the alert is disabled.
    let a = until(&app, &token, &gone, |a| a["active"] == false).await;
    assert_eq!(a["deliveries"][0]["state"], "CANCELLED", "{a}");
    assert!(a["disabledReason"].as_str().unwrap().contains("410"));
    // A redirect is not followed.
    let a = until(&app, &token, &redirected, |a| {
        a["deliveries"][0]["attempts"].as_i64() >= Some(2)
    })
    .await;
    assert_eq!(a["deliveries"][0]["lastStatus"], 302, "{a}");
    assert!(a["deliveries"][0]["lastError"]
        .as_str()
        .unwrap()
        .contains("redirect"));
    let received = inbox(&app).await;
    let all = received["received"].as_array().unwrap();
    assert!(all.iter().all(|r| r["redirected"] == false), "{received}");
    // Each attempt of a delivery is the same body under the same id.
    let mut bodies: std::collections::HashMap<String, String> = Default::default();
    for r in all {
        let id = r["webhookId"].as_str().unwrap().to_owned();
        let body = r["payload"].to_string();
        assert_eq!(bodies.entry(id).or_insert_with(|| body.clone()), &body);
        assert_eq!(r["verified"], true);
    }
    // A daily digest waits for tomorrow, and gathers the day's offers.
    let a = deliveries(&app, &token, &daily).await;
    let d = &a["deliveries"][0];
    assert_eq!(
        (d["state"].as_str(), d["offers"].as_i64()),
        (Some("PENDING"), Some(2)),
        "{a}"
    );
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    assert!(
        d["nextAttemptAt"].as_str().unwrap().starts_with(&tomorrow),
        "{a}"
    );
    publish_cma(&app, 3).await;
    let a = until(&app, &token, &daily, |a| a["deliveries"][0]["offers"] == 5).await;
    assert_eq!(
        a["deliveries"].as_array().unwrap().len(),
        1,
        "one digest a day: {a}"
    );
    assert_eq!(a["deliveries"][0]["id"], d["id"]);
}

#[tokio::test]
async fn a_client_keeps_a_bounded_number_of_alerts_with_bounded_filters_read_a_page_at_a_time() {
    let app = spawn_app_with(
        SMALL,
        "[alerts]\npoll_interval = \"1h\"\nmax_per_client = 3\n",
    )
    .await;
    let token = app.token("alerts:write", None, None);
    let create = |filter: Value| {
        let (app, token) = (&app, &token);
        async move {
            app.post_as(
                Some(token),
                "mutation($i: CreateOfferAlertInput!) { createOfferAlert(input: $i) { id } }",
                json!({ "i": { "candidateRef": "c", "filter": filter, "webhookUrl": app.url("/_sandbox/webhooks") } }),
            )
            .await
            .1
        }
    };
    // Filters too large to keep are refused, naming the field and bound.
    let romes: Vec<String> = (0..51).map(|_| "D1102".to_owned()).collect();
    for (filter, field, bound) in [
        (
            json!({ "rome": romes }),
            "input.filter.rome",
            "at most 50 ROME codes",
        ),
        (
            json!({ "text": "b".repeat(201) }),
            "input.filter.text",
            "at most 200 characters",
        ),
    ] {
        let r = create(filter).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{r}");
        assert_eq!(
            r["errors"][0]["message"],
            format!("{field}: {bound}"),
            "{r}"
        );
    }
    // At the bounds, they are kept.
    let romes: Vec<String> = (0..50).map(|_| "D1102".to_owned()).collect();
    let mut ids = Vec::new();
    for filter in [
        json!({ "rome": romes }),
        json!({ "text": "b".repeat(200) }),
        json!({}),
    ] {
        let r = create(filter).await;
        ids.push(r["data"]["createOfferAlert"]["id"].clone());
        assert!(ids.last().unwrap().is_string(), "{r}");
    }
    // A fourth is one too many.
    let r = create(json!({})).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "TOO_MANY_ALERTS",
        "{r}"
    );
    assert!(
        r["errors"][0]["message"].as_str().unwrap().contains('3'),
        "{r}"
    );
    // Read a page at a time, oldest first.
    let page = |first: i64, after: Value| {
        let (app, token) = (&app, &token);
        async move {
            app.post_as(
                Some(token),
                "query($first: Int!, $after: String) { offerAlerts(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } } }",
                json!({ "first": first, "after": after }),
            )
            .await
            .1
        }
    };
    let one = page(2, Value::Null).await;
    let c = &one["data"]["offerAlerts"];
    assert_eq!(c["totalCount"], 3, "{one}");
    assert_eq!(c["pageInfo"]["hasNextPage"], true, "{one}");
    assert_eq!(c["pageInfo"]["hasPreviousPage"], false, "{one}");
    let two = page(2, c["pageInfo"]["endCursor"].clone()).await;
    let d = &two["data"]["offerAlerts"];
    assert_eq!(d["pageInfo"]["hasNextPage"], false, "{two}");
    assert_eq!(d["pageInfo"]["hasPreviousPage"], true, "{two}");
    let read: Vec<Value> = c["edges"]
        .as_array()
        .unwrap()
        .iter()
        .chain(d["edges"].as_array().unwrap())
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(read, ids, "{one} {two}");
    for (first, after, code) in [
        (101, Value::Null, "INVALID_INPUT"),
        (2, json!("not-a-cursor"), "INVALID_CURSOR"),
    ] {
        let r = page(first, after).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], code, "{r}");
    }
    // Deleting one makes room for another.
    let (_, r) = app
        .post_as(
            Some(&token),
            "mutation($id: ID!) { deleteOfferAlert(id: $id) }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(r["data"]["deleteOfferAlert"], true, "{r}");
    let r = create(json!({})).await;
    assert!(r["data"]["createOfferAlert"]["id"].is_string(), "{r}");
}

#[tokio::test]
async fn a_delivery_to_a_target_refused_since_records_only_that_it_is_not_allowed() {
    let app = spawn_app_with(SMALL, "[alerts]\npoll_interval = \"1h\"\n").await;
    let token = app.token("alerts:write", None, None);
    // Alerts saved when their targets were allowed (since narrowed, or a
    // name since pointed elsewhere), written as the store holds them.
    let store = passerelle::store::Store::open(&format!(
        "sqlite://{}?mode=rwc",
        app.data_dir.join("passerelle.db").display()
    ))
    .await
    .unwrap();
    let targets = ["http://10.0.0.1/hook", "http://[::10.0.0.1]/hook"];
    for (i, target) in targets.iter().enumerate() {
        store
            .create_alert(&passerelle::store::alerts::AlertRow {
                id: format!("alrt_refused_{i}"),
                client_id: "test-client".into(),
                candidate_ref: "c".into(),
                filter: json!({ "source": "CMA" }).to_string(),
                webhook_url: (*target).into(),
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                digest: "IMMEDIATE".into(),
                active: true,
                disabled_why: None,
                created_us: chrono::Utc::now().timestamp_micros(),
            })
            .await
            .unwrap();
    }
    settled(&app, 0).await;
    publish_cma(&app, 1).await;
    for (i, target) in targets.iter().enumerate() {
        let alert = json!(format!("alrt_refused_{i}"));
        let a = until(&app, &token, &alert, |a| {
            a["deliveries"][0]["lastError"].is_string()
        })
        .await;
        assert_eq!(
            a["deliveries"][0]["lastError"], "not an allowed target",
            "{target}: {a}"
        );
        assert_eq!(a["deliveries"][0]["state"], "PENDING", "{target}: {a}");
    }
}

/// Subscribers each with a circle of its own (no execution shared, none
/// kept between deliveries) get the offers in their circle with their own
/// distance, over either transport; a filter that does not read is
/// answered with its error, and the subscription ends.
#[tokio::test]
async fn subscribers_with_filters_of_their_own_get_their_offers_and_their_distances() {
    let app = spawn_app_with(SMALL, "[alerts]\npoll_interval = \"1h\"\n").await;
    // Circles wide enough for any commune of Normandy, around Caen and
    // around Lisieux.
    let caen = json!({ "f": { "near": { "commune": "14118", "radiusKm": 200 } } });
    let lisieux = json!({ "f": { "near": { "commune": "14366", "radiusKm": 199 } } });
    let around_caen = Subscriber::start(&app, "ws", caen, 3).await;
    let around_lisieux = Subscriber::start(&app, "sse", lisieux, 3).await;
    let mut wrong = Subscriber::start(&app, "ws", json!({ "f": { "departement": "9Z" } }), 1).await;
    // Its one result is the error.
    let refused = wrong.event().await;
    assert_eq!(refused["event"], "next", "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{refused}"
    );
    settled(&app, 2).await;
    assert_eq!(app.metric("passerelle_subscription_executions").await, 2.0);
    publish_cma(&app, 3).await;
    let (caen, lisieux) = (around_caen.results().await, around_lisieux.results().await);
    assert_eq!(caen.len(), 3, "{caen:?}");
    assert_eq!(lisieux.len(), 3, "{lisieux:?}");
    let distances = |got: &[Value]| -> Vec<(String, f64)> {
        let mut d: Vec<(String, f64)> = got
            .iter()
            .map(|o| {
                let km = o["distanceKm"]
                    .as_f64()
                    .expect("a distance from its centre");
                (o["offer"]["id"].as_str().unwrap().to_owned(), km)
            })
            .collect();
        d.sort_by(|a, b| a.0.cmp(&b.0));
        d
    };
    let (from_caen, from_lisieux) = (distances(&caen), distances(&lisieux));
    // The same offers, each at the distance from its subscriber's centre.
    assert_eq!(
        from_caen.iter().map(|d| &d.0).collect::<Vec<_>>(),
        from_lisieux.iter().map(|d| &d.0).collect::<Vec<_>>()
    );
    assert!(from_caen.iter().all(|(_, km)| *km <= 200.0));
    assert!(
        from_caen
            .iter()
            .zip(&from_lisieux)
            .any(|(a, b)| (a.1 - b.1).abs() > 1.0),
        "{from_caen:?} {from_lisieux:?}"
    );
}
