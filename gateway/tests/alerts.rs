//! Saved alerts as operators run them: the real binary, killed with
//! deliveries pending and started again, and two replicas on one
//! PostgreSQL store, one detecting, the other's subscriber told.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use passerelle::auth::issuer::Issuer;
use passerelle::store::{testing, Store};
use passerelle_connectors::sandbox::{FaultUpdate, Sandbox, SandboxSettings, SimServer};
use serde_json::{json, Value};

/// What a receiver got: each `webhook-id` with the bodies sent under it,
/// and the ids it accepted.
#[derive(Default)]
struct Received {
    bodies: HashMap<String, HashSet<String>>,
    accepted: HashMap<String, usize>,
    up: bool,
}

/// A webhook receiver on loopback: refuses with 503 until `up`.
async fn receiver(got: Arc<Mutex<Received>>) -> SimServer {
    let handler = move |headers: axum::http::HeaderMap, body: String| {
        let got = got.clone();
        async move {
            let id = headers["webhook-id"].to_str().unwrap().to_owned();
            let mut g = got.lock().unwrap();
            g.bodies.entry(id.clone()).or_default().insert(body);
            if g.up {
                *g.accepted.entry(id).or_default() += 1;
                axum::http::StatusCode::NO_CONTENT
            } else {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            }
        }
    };
    SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        axum::Router::new().route("/hook", post(handler)),
    )
    .await
    .unwrap()
}

struct Setting {
    _dir: tempfile::TempDir,
    _idp: SimServer,
    sandbox: Sandbox,
    token: String,
    config: std::path::PathBuf,
}

/// A gateway's configuration over an external sandbox's CMA feed (synced
/// every second), trusting a test identity provider.
async fn setting(store_url: Option<String>, extra: &str) -> Setting {
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
    let issuer = Issuer::load_or_create(dir.path(), "https://idp.test", "passerelle").unwrap();
    let jwks = issuer.jwks();
    let idp = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        axum::Router::new().route("/jwks.json", get(move || async move { axum::Json(jwks) })),
    )
    .await
    .unwrap();
    let token = issuer.mint(
        "portal",
        "alerts:write",
        None,
        None,
        Duration::from_secs(3600),
    );
    let store = store_url
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display()));
    let config = dir.path().join("passerelle.toml");
    std::fs::write(
        &config,
        format!(
            r#"
listen = "127.0.0.1:0"
data_dir = "{data}"
store_url = "{store}"
[sandbox]
enabled = false
[log]
format = "json"
[auth]
jwks_url = "{jwks}"
issuer = "https://idp.test"
[alerts]
allow_private_targets = ["127.0.0.0/8"]
retry_base = "100ms"
retry_max = "300ms"
delivery_timeout = "1s"
{extra}

[[partners]]
kind = "cma"
feed_url = "{cma}"
sync_interval = "1s"
"#,
            data = dir.path().display(),
            jwks = idp.base_url().join("jwks.json").unwrap(),
            cma = sandbox
                .setting(passerelle_connectors::cma::PARTNER, "feed_url")
                .unwrap(),
        ),
    )
    .unwrap();
    Setting {
        _dir: dir,
        _idp: idp,
        sandbox,
        token,
        config,
    }
}

impl Setting {
    fn publish(&self, n: u32) {
        self.sandbox
            .simulator(passerelle_connectors::cma::PARTNER)
            .unwrap()
            .faults
            .update(&FaultUpdate {
                publish_new: Some(n),
                ..FaultUpdate::default()
            })
            .unwrap();
    }
}

async fn create_alerts(client: &reqwest::Client, addr: &str, token: &str, hook: &str, n: usize) {
    for i in 0..n {
        let query = format!(
            "mutation {{ createOfferAlert(input: {{ candidateRef: \"c{i}\", filter: {{ source: CMA }}, webhookUrl: \"{hook}\" }}) {{ id }} }}"
        );
        common::graphql(client, addr, Some(token), &query).await;
    }
}

/// Waits for a log line of the server holding every one of `needles`.
fn wait_for_log(server: &mut common::Server, needles: &[&str]) {
    if let Err(log) = server.log.wait_for(Duration::from_secs(120), |line| {
        needles.iter().all(|n| line.contains(n))
    }) {
        panic!("the server did not log {needles:?}; its last lines:\n{log}");
    }
}

/// Starts the binary off the test's runtime, which serves the partners
/// and the receiver meanwhile.
async fn serve(config: &std::path::Path) -> common::Server {
    let config = config.to_owned();
    tokio::task::spawn_blocking(move || common::serve(&config))
        .await
        .unwrap()
}

/// Waits, off the test's runtime, for a log line holding `needles`.
async fn logged(mut server: common::Server, needles: &'static [&'static str]) -> common::Server {
    tokio::task::spawn_blocking(move || {
        wait_for_log(&mut server, needles);
        server
    })
    .await
    .unwrap()
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 60 s");
}

#[tokio::test]
async fn a_gateway_killed_with_deliveries_pending_delivers_each_once_after_a_restart() {
    let s = setting(None, "").await;
    let got = Arc::new(Mutex::new(Received::default()));
    let hook = receiver(got.clone()).await;
    let hook = hook.base_url().join("hook").unwrap().to_string();
    let client = reqwest::Client::new();

    let server = serve(&s.config).await;
    // The catalogue, recorded as seen first.
    let server = logged(server, &["new offers detected", "\"baseline\":true"]).await;
    create_alerts(&client, &server.addr, &s.token, &hook, 10).await;
    s.publish(5);
    until("ten deliveries tried", || {
        got.lock().unwrap().bodies.len() == 10
    })
    .await;
    // Killed while every delivery is pending.
    drop(server);
    got.lock().unwrap().up = true;
    let server = serve(&s.config).await;
    until("ten deliveries accepted", || {
        got.lock().unwrap().accepted.len() == 10
    })
    .await;
    // Some more time for a second delivery that should not come.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let g = got.lock().unwrap();
    assert_eq!(g.bodies.len(), 10, "no new announcement after the restart");
    for (id, bodies) in &g.bodies {
        assert_eq!(bodies.len(), 1, "{id} sent as two payloads");
        let body: Value = serde_json::from_str(bodies.iter().next().unwrap()).unwrap();
        assert_eq!(
            body["data"]["offers"].as_array().unwrap().len(),
            5,
            "{body}"
        );
    }
    assert!(g.accepted.values().all(|n| *n == 1), "{:?}", g.accepted);
    drop(server);
}

#[tokio::test]
async fn replicas_on_one_postgres_announce_once_tell_each_others_subscribers_and_deliver_once() {
    let Some(server) = testing::postgres_url() else {
        return;
    };
    let store_url = testing::scratch_postgres(&server).await;
    let s = setting(Some(store_url.clone()), "delivery_concurrency = 2").await;
    // The second replica does not detect: what its subscriber hears, the
    // first detected.
    let quiet = std::fs::read_to_string(&s.config).unwrap().replace(
        "delivery_concurrency = 2",
        "delivery_concurrency = 2\ndetect = false",
    );
    let quiet_config = s.config.with_file_name("quiet.toml");
    std::fs::write(&quiet_config, quiet).unwrap();
    let got = Arc::new(Mutex::new(Received {
        up: true,
        ..Received::default()
    }));
    let hook = receiver(got.clone()).await;
    let hook = hook.base_url().join("hook").unwrap().to_string();
    let client = reqwest::Client::new();

    let a = serve(&s.config).await;
    let a = logged(a, &["new offers detected", "\"baseline\":true"]).await;
    let b = serve(&quiet_config).await;
    create_alerts(&client, &a.addr, &s.token, &hook, 20).await;
    // A subscriber on the replica that does not detect.
    let mut stream = client
        .post(format!("http://{}/graphql/stream", b.addr))
        .header("accept", "text/event-stream")
        .header("content-type", "application/json")
        .body(json!({ "query": "subscription { offerPublished(filter: { source: CMA }) { offer { id } } }" }).to_string())
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.publish(3);
    let mut text = String::new();
    let heard = tokio::time::timeout(Duration::from_secs(60), async {
        while text.matches("event: next").count() < 3 {
            match stream.chunk().await.unwrap() {
                Some(c) => text.push_str(&String::from_utf8_lossy(&c)),
                None => break,
            }
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "the other replica's subscriber heard: {text}"
    );
    let ids: HashSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["data"]["offerPublished"]["offer"]["id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(ids.len(), 3, "{text}");
    until("twenty deliveries", || {
        got.lock().unwrap().accepted.len() == 20
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    {
        let g = got.lock().unwrap();
        assert_eq!(g.accepted.len(), 20);
        assert!(
            g.accepted.values().all(|n| *n == 1),
            "each delivery once: {:?}",
            g.accepted
        );
    }
    // Who delivered: recorded with each delivery.
    let store = Store::open(&store_url).await.unwrap();
    let mut by = HashSet::new();
    for alert in store.alerts_page("portal", None, 100).await.unwrap() {
        for d in store.deliveries_of(&alert.id, 10).await.unwrap() {
            assert_eq!(d.state, "delivered");
            by.insert(d.delivered_by.unwrap());
        }
    }
    assert!(!by.is_empty());
    drop((a, b));
}
