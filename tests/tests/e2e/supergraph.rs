//! Passerelle in a supergraph, proven with the real tools: its subgraph SDL
//! and a second subgraph's (the Région's grants, extending `Cfa` and
//! `EmployerProfile`) composed by `@apollo/composition`, the supergraph
//! served by Hive Gateway, and queries that start in the other subgraph
//! answered through the router as Passerelle answers them directly.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use passerelle_tests::grants::{self, Granted};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::helpers::{spawn_app_with, TestApp, NO_DETECTION, SMALL};

fn federation_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("federation");
    assert!(
        dir.join("node_modules/@apollo/composition").exists()
            && dir.join("node_modules/@graphql-hive/gateway").exists(),
        "the federation tools are missing: run `npm ci` in tests/federation (tests/run.sh does)"
    );
    dir
}

/// What `compose.mjs` said.
struct Composed {
    errors: Vec<Value>,
    hints: Vec<Value>,
}

/// Composes the subgraphs (name, URL, SDL) into `out`.
async fn compose(out: &Path, subgraphs: &[(&str, String, String)]) -> Composed {
    let dir = federation_dir();
    let mut args = vec![out.display().to_string()];
    for (name, url, sdl) in subgraphs {
        let file = out.with_file_name(format!("{name}.graphql"));
        std::fs::write(&file, sdl).unwrap();
        args.push(format!("{name}={url}={}", file.display()));
    }
    let output = Command::new("node")
        .arg("compose.mjs")
        .args(&args)
        .current_dir(&dir)
        .output()
        .await
        .expect("node runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "compose.mjs printed no report ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Composed {
        errors: report["errors"].as_array().cloned().unwrap_or_default(),
        hints: report["hints"].as_array().cloned().unwrap_or_default(),
    }
}

/// Hive Gateway serving a supergraph; stopped when dropped.
struct Router {
    _child: Child,
    url: String,
    client: reqwest::Client,
}

/// How Hive Gateway plans and runs queries.
#[derive(Clone, Copy, Debug)]
enum Runtime {
    /// Its default, on schema stitching.
    Default,
    /// The Hive Router runtime (`--hive-router-runtime`), the query planner
    /// in Rust: it keeps a subgraph's errors beside data, where the default
    /// keeps only those at a null.
    HiveRouter,
}

impl Router {
    async fn start(supergraph: &Path, runtime: Runtime) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new("node")
            .arg("node_modules/.bin/hive-gateway")
            .arg("supergraph")
            .arg(supergraph)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(match runtime {
                Runtime::Default => None,
                Runtime::HiveRouter => Some("--hive-router-runtime"),
            })
            .current_dir(federation_dir())
            .env(
                "LOG_LEVEL",
                std::env::var("HIVE_LOG").unwrap_or("error".into()),
            )
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let router = Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        let ready = format!("{}/readiness", router.url);
        for _ in 0..600 {
            if let Ok(r) = router.client.get(&ready).send().await {
                if r.status() == 200 {
                    return router;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Hive Gateway was not ready within 60 s");
    }

    async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let r = request.send().await.expect("the router answers");
        r.json().await.expect("a JSON answer")
    }
}

/// Passerelle, the grants subgraph over some of its CFAs and employers,
/// and the router over both.
struct Supergraph {
    app: TestApp,
    router: Router,
    uais: Vec<String>,
    sirets: Vec<String>,
    /// The supergraph's SDL.
    supergraph: String,
    _dir: tempfile::TempDir,
}

async fn supergraph(runtime: Runtime) -> Supergraph {
    supergraph_with(runtime, "").await
}

/// The supergraph over a gateway with `extra` configuration.
async fn supergraph_with(runtime: Runtime, extra: &str) -> Supergraph {
    // Without detection, nothing asks the live exchanges but the tests:
    // the partner failure test's outage is not hidden by a cached answer.
    let app = spawn_app_with(SMALL, &format!("{NO_DETECTION}{extra}")).await;
    let keys = app
        .data(
            "{ cfas(first: 12) { nodes { uai } } offers(first: 8, filter: { source: CCI }) { nodes { employer { siret } } } }",
            json!({}),
        )
        .await;
    let uais: Vec<String> = keys["cfas"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uai"].as_str().unwrap().to_owned())
        .collect();
    let mut sirets: Vec<String> = keys["offers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["employer"]["siret"].as_str().unwrap().to_owned())
        .collect();
    sirets.dedup();
    let grants_addr = grants::spawn(Granted {
        uais: uais.clone(),
        sirets: sirets.clone(),
    })
    .await;
    let service = app.data("{ _service { sdl } }", json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("supergraph.graphql");
    let composed = compose(
        &out,
        &[
            (
                "passerelle",
                app.url("/graphql"),
                service["_service"]["sdl"].as_str().unwrap().to_owned(),
            ),
            (
                "grants",
                format!("http://{grants_addr}/graphql"),
                grants::sdl(),
            ),
        ],
    )
    .await;
    assert!(composed.errors.is_empty(), "{:?}", composed.errors);
    assert!(
        composed.hints.is_empty(),
        "composition hints, to remove or explain in the book (docs/src/supergraph/compose.md): {:?}",
        composed.hints
    );
    let router = Router::start(&out, runtime).await;
    Supergraph {
        app,
        router,
        uais,
        sirets,
        supergraph: std::fs::read_to_string(&out).unwrap(),
        _dir: dir,
    }
}

/// Whether `@apollo/gateway` loads the supergraph `sdl`, and what it says.
async fn apollo_gateway_loads(sdl: &str) -> (bool, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("supergraph.graphql");
    std::fs::write(&file, sdl).unwrap();
    let output = Command::new("node")
        .arg("load.mjs")
        .arg(&file)
        .current_dir(federation_dir())
        .output()
        .await
        .expect("node runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "load.mjs printed no report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), report)
}

const CFA_FIELDS: &str = "uai name vacancies departement { code name } \
    formations(first: 2) { totalCount nodes { id title } } \
    offers(first: 3) { totalCount nodes { id title } } \
    mobility { total { mobilities } }";

const EMPLOYER_FIELDS: &str = "siret name offerCount offers(first: 2) { nodes { id title } }";

#[tokio::test]
async fn a_query_started_in_another_subgraph_gets_what_passerelle_answers() {
    for runtime in [Runtime::Default, Runtime::HiveRouter] {
        started_in_another_subgraph(runtime).await;
    }
}

async fn started_in_another_subgraph(runtime: Runtime) {
    let s = supergraph(runtime).await;
    let through = s
        .router
        .post(
            None,
            &format!(
                "{{ grantedCfas {{ grants {{ year amountEuros }} {CFA_FIELDS} }} \
                   aidedEmployers {{ hiringAid {{ amountEuros }} {EMPLOYER_FIELDS} }} }}"
            ),
            json!({}),
        )
        .await;
    assert!(through.get("errors").is_none(), "{runtime:?}: {through}");
    let cfas = through["data"]["grantedCfas"].as_array().unwrap();
    assert_eq!(cfas.len(), s.uais.len());
    for (cfa, uai) in cfas.iter().zip(&s.uais) {
        assert!(!cfa["grants"].as_array().unwrap().is_empty(), "{cfa}");
        let direct = s
            .app
            .data(
                &format!("query($u: String!) {{ cfa(uai: $u) {{ {CFA_FIELDS} }} }}"),
                json!({ "u": uai }),
            )
            .await;
        let mut joined = cfa.clone();
        joined.as_object_mut().unwrap().remove("grants");
        assert_eq!(joined, direct["cfa"], "{runtime:?}: CFA {uai}");
    }
    let employers = through["data"]["aidedEmployers"].as_array().unwrap();
    assert_eq!(employers.len(), s.sirets.len());
    for (employer, siret) in employers.iter().zip(&s.sirets) {
        assert!(
            employer["hiringAid"]["amountEuros"].is_number(),
            "{employer}"
        );
        let direct = s
            .app
            .data(
                &format!("query($s: String!) {{ employer(siret: $s) {{ {EMPLOYER_FIELDS} }} }}"),
                json!({ "s": siret }),
            )
            .await;
        let mut joined = employer.clone();
        joined.as_object_mut().unwrap().remove("hiringAid");
        assert_eq!(joined, direct["employer"], "{runtime:?}: employer {siret}");
    }

    // And the other way: Passerelle's list, the grants joined to it.
    let other_way = s
        .router
        .post(
            None,
            "{ cfas(first: 3) { nodes { uai name grants { amountEuros } } } }",
            json!({}),
        )
        .await;
    assert!(other_way.get("errors").is_none(), "{other_way}");
    assert_eq!(
        other_way["data"]["cfas"]["nodes"][0]["uai"],
        s.uais[0].as_str()
    );
    assert!(other_way["data"]["cfas"]["nodes"][0]["grants"].is_array());
}

#[tokio::test]
async fn a_partner_failure_comes_through_the_router_as_a_partial_answer_with_its_code() {
    // Passerelle answers the other partners' figures and says which
    // failed: errors beside data, which the Hive Router runtime keeps.
    let s = supergraph(Runtime::HiveRouter).await;
    // Pass Monde is asked live, and nothing asked it yet.
    s.app.faults("passmonde", json!({ "outage": true })).await;
    let answer = s
        .router
        .post(
            None,
            "{ grantedCfas(first: 3) { uai grants { amountEuros } name mobility { total { mobilities } } } }",
            json!({}),
        )
        .await;
    let cfas = answer["data"]["grantedCfas"]
        .as_array()
        .expect("a partial answer");
    assert_eq!(cfas.len(), 3, "{answer}");
    for cfa in cfas {
        assert!(cfa["name"].is_string(), "{answer}");
        assert!(cfa["grants"].is_array(), "{answer}");
    }
    let errors = answer["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {answer}"));
    assert!(
        errors
            .iter()
            .any(|e| e["extensions"]["code"] == "PARTNER_UNAVAILABLE"
                && e["extensions"]["partner"] == "passmonde"),
        "{answer}"
    );
}

#[tokio::test]
async fn scopes_travel_with_the_token_and_passerelle_enforces_them_behind_a_router() {
    // With the scope directives (the default), `@apollo/gateway` refuses
    // the supergraph; without them it loads it. Hive Gateway serves both,
    // and Passerelle enforces every scope either way.
    let with = supergraph(Runtime::Default).await;
    assert!(with.supergraph.contains("@requiresScopes"));
    let (loaded, report) = apollo_gateway_loads(&with.supergraph).await;
    assert!(!loaded, "{report}");
    assert!(report.to_string().contains("SECURITY"), "{report}");
    scopes_enforced_behind(with).await;
    let without =
        supergraph_with(Runtime::Default, "[federation]\nrequires_scopes = false\n").await;
    assert!(!without.supergraph.contains("requiresScopes"));
    let (loaded, report) = apollo_gateway_loads(&without.supergraph).await;
    assert!(loaded, "{report}");
    assert_eq!(report["subgraphs"], json!(["grants", "passerelle"]));
    scopes_enforced_behind(without).await;
}

async fn scopes_enforced_behind(s: Supergraph) {
    let query = "{ taxCampaign(year: 2026) { year totals { allocations } } }";
    // Hive Gateway, as configured, does not enforce @requiresScopes:
    // Passerelle refuses the field itself.
    let anonymous = s.router.post(None, query, json!({})).await;
    assert!(
        anonymous["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN")),
        "{anonymous}"
    );
    assert!(
        anonymous["data"]["taxCampaign"]["totals"].is_null(),
        "{anonymous}"
    );
    let cfa_only = s.app.token("offers:read", None, Some(&s.uais[0]));
    let answer = s.router.post(Some(&cfa_only), query, json!({})).await;
    assert!(
        answer["data"]["taxCampaign"]["totals"].is_null(),
        "{answer}"
    );
    // The Région's analyst: the token reaches Passerelle.
    let bi = s.app.token("region:bi", None, None);
    let answer = s.router.post(Some(&bi), query, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(answer["data"]["taxCampaign"]["totals"]["allocations"], 0);
}
