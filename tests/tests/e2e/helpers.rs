//! Starting a gateway for a test, and talking to it.

use std::net::SocketAddr;

use passerelle::app::Application;
use passerelle::config::Config;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// A gateway running for one test; it stops when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub sdl: String,
    pub data_dir: std::path::PathBuf,
    _data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

/// The size of the data most tests run on: small enough to be quick, large
/// enough for several pages, both exchanges and duplicates.
pub const SMALL: (usize, usize, usize) = (600, 500, 60);

/// A gateway that does not detect new offers: the detection's own calls to
/// the live exchanges would change the calls, cache and breakers a test
/// counts.
pub const NO_DETECTION: &str = "[alerts]\ndetect = false\n";

/// Starts a gateway in sandbox mode with the given offers per exchange
/// (CCI, CMA, shared). Logs go to the test output when `TEST_LOG` is set.
pub async fn spawn_app(sizes: (usize, usize, usize)) -> TestApp {
    spawn_app_with(sizes, "").await
}

/// Starts a gateway like [`spawn_app`], with `extra` TOML appended to its
/// configuration.
pub async fn spawn_app_with(sizes: (usize, usize, usize), extra: &str) -> TestApp {
    spawn_app_on(passerelle_connectors::Registry::standard(), sizes, extra).await
}

/// Starts a gateway like [`spawn_app_with`] over the partners of
/// `registry`.
pub async fn spawn_app_on(
    registry: passerelle_connectors::Registry,
    sizes: (usize, usize, usize),
    extra: &str,
) -> TestApp {
    spawn_app_full(registry, None, sizes, extra, "").await
}

/// Starts a gateway like [`spawn_app_with`], with `root` TOML at the top
/// of its configuration (settings outside any table: `mappings_dir`).
pub async fn spawn_app_rooted(root: &str, sizes: (usize, usize, usize), extra: &str) -> TestApp {
    spawn_app_full(
        passerelle_connectors::Registry::standard(),
        None,
        sizes,
        extra,
        root,
    )
    .await
}

/// Starts a gateway like [`spawn_app_with`] on the store at `store_url`.
pub async fn spawn_app_stored(
    store_url: &str,
    sizes: (usize, usize, usize),
    extra: &str,
) -> TestApp {
    spawn_app_full(
        passerelle_connectors::Registry::standard(),
        Some(store_url),
        sizes,
        extra,
        "",
    )
    .await
}

async fn spawn_app_full(
    registry: passerelle_connectors::Registry,
    store_url: Option<&str>,
    sizes: (usize, usize, usize),
    extra: &str,
    root: &str,
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        passerelle::telemetry::init(passerelle::config::LogFormat::Text, &Default::default());
    }
    let data = tempfile::tempdir().expect("a temporary directory");
    let config = Config::from_toml(&format!(
        r#"
        listen = "127.0.0.1:0"
        data_dir = "{}"
        {}
        {}
        [sandbox.data]
        cci_offers = {}
        cma_offers = {}
        shared_offers = {}
        {}
        "#,
        data.path().display(),
        store_url.map_or(String::new(), |u| format!("store_url = {u:?}")),
        root,
        sizes.0,
        sizes.1,
        sizes.2,
        extra
    ))
    .expect("a valid test configuration");
    let app = Application::build_with(config, registry)
        .await
        .expect("the gateway builds");
    let addr = app.local_addr();
    let sdl = app.sdl().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        sdl,
        data_dir: data.path().to_owned(),
        _data: data,
        stop: Some(stop),
    }
}

impl TestApp {
    /// The URL of a path on the gateway.
    /// Stops the gateway as SIGTERM does: it finishes what is under way.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("the gateway answers")
            .text()
            .await
            .expect("a text")
    }

    /// A metric's value from `/metrics` (0 when not yet recorded).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .filter(|l| l.split([' ', '{']).next() == Some(name))
            .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
            .sum()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL operation and returns the status and JSON body.
    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the gateway answers");
        let status = r.status().as_u16();
        (status, r.json().await.expect("a JSON body"))
    }

    /// POSTs an operation that must succeed without errors; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// A token of the sandbox's issuer with these scopes and claims.
    pub fn token(&self, scope: &str, opco: Option<&str>, cfa: Option<&str>) -> String {
        passerelle::auth::issuer::Issuer::load_or_create(
            &self.data_dir,
            "passerelle-sandbox",
            "passerelle",
        )
        .expect("the sandbox issuer's key")
        .mint(
            "test-client",
            scope,
            opco,
            cfa,
            std::time::Duration::from_secs(600),
        )
    }

    /// POSTs a GraphQL operation with a bearer token (none when `None`).
    pub async fn post_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.expect("the gateway answers");
        let status = r.status().as_u16();
        (status, r.json().await.expect("a JSON body"))
    }

    /// Like [`TestApp::data`], as the Région's BI (scope `region:bi`), with
    /// a token of the sandbox's issuer.
    pub async fn data_bi(&self, query: &str, variables: Value) -> Value {
        let token = self.token("region:bi", None, None);
        let (_, body) = self.post_as(Some(&token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Changes a simulator's faults through the sandbox endpoint.
    pub async fn faults(&self, partner: &str, body: Value) -> Value {
        let r = self
            .client
            .post(self.url(&format!("/_sandbox/{partner}/faults")))
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        assert!(r.status().is_success(), "{}", r.status());
        r.json().await.expect("a JSON report")
    }
}

/// Every offer matching `filter`, paging with `page` offers at a time;
/// returns the offers and the `totalCount` each page announced.
pub async fn all_offers(app: &TestApp, filter: Value, page: usize) -> (Vec<Value>, Vec<u64>) {
    let query = r#"query($filter: OfferFilter, $first: Int!, $after: String) {
        offers(filter: $filter, first: $first, after: $after) {
            totalCount
            pageInfo { hasNextPage endCursor }
            nodes { id publishedAt sources { partner partnerId } location { communeCode departement { code } } }
        }
    }"#;
    let mut offers = Vec::new();
    let mut totals = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(
                query,
                json!({ "filter": filter, "first": page, "after": after }),
            )
            .await;
        let conn = &data["offers"];
        totals.push(conn["totalCount"].as_u64().expect("a count"));
        offers.extend(conn["nodes"].as_array().expect("nodes").iter().cloned());
        if !conn["pageInfo"]["hasNextPage"].as_bool().expect("a flag") {
            return (offers, totals);
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

/// The resident memory of this process (the gateway's and the test's), in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Pushes a generated campaign of 2026 (`allocations` from `employers`
/// employers, none spoiled) as each OPCO's CSV upload; returns how many
/// were accepted.
pub async fn push_campaign(app: &TestApp, allocations: u64, employers: usize) -> u64 {
    use passerelle_connectors::sandbox::campaign::{write_csv, Campaign, CampaignSettings};
    let mut by_opco: std::collections::BTreeMap<&str, Vec<passerelle_schema::AllocationInput>> =
        Default::default();
    for (opco, a) in Campaign::new(CampaignSettings {
        employers,
        allocations,
        ..CampaignSettings::default()
    }) {
        by_opco.entry(opco).or_default().push(a);
    }
    let mut accepted = 0;
    for (opco, records) in by_opco {
        let mut body = Vec::new();
        write_csv(&mut body, &records).expect("CSV in memory");
        let r = app
            .client
            .post(app.url("/ingest/allocations?campaign=2026"))
            .bearer_auth(app.token("allocations:write", Some(opco), None))
            .header("content-type", "text/csv")
            .header("idempotency-key", format!("{opco}-generated"))
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        assert!(r.status().is_success(), "{}", r.status());
        let report: Value = r.json().await.expect("a report");
        accepted += report["accepted"].as_u64().expect("accepted");
    }
    accepted
}

/// Runs `node SCRIPT ARGS…` in `tests/DIR` (a Node package `tests/run.sh`
/// installs), off the runtime's threads; its packages must be there.
pub async fn node(dir: &str, script: &str, args: Vec<String>) -> std::process::Output {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    assert!(
        dir.join("node_modules").exists(),
        "the Node packages of tests/{} are missing: run `npm ci` there (tests/run.sh does)",
        dir.display()
    );
    let script = script.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap()
}
