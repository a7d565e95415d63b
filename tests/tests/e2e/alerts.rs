//! New offers pushed to candidates: live subscribers over graphql-ws and
//! graphql-sse (the npm client libraries themselves), and a saved alert
//! delivered to the sandbox's webhook receiver, signed.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{spawn_app_with, TestApp, SMALL};

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
            .find(|l| l.starts_with("passerelle_subscriptions_active"))
            .and_then(|l| l.split_whitespace().last()?.parse::<f64>().ok())
            .unwrap_or(0.0);
        if text.contains("passerelle_offers_new_total") && active as usize >= subscribers {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the gateway did not settle");
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
    publish_cma(&app, 4).await;
    let ws = everything_ws.results().await;
    let sse = everything_sse.results().await;
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
        received = app
            .client
            .get(app.url("/_sandbox/webhooks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
    let again: Value = app
        .client
        .get(app.url("/_sandbox/webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("webhookUrl"),
            "{r}"
        );
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
