//! Partners' secrets read from files and the environment, and never
//! printed: a full run against every partner, logging at debug level,
//! is searched for every configured secret.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use passerelle_connectors::sandbox::{Sandbox, SandboxSettings};
use passerelle_connectors::{cci, cnfpt, passmonde};

#[tokio::test]
async fn no_configured_secret_appears_in_the_logs_of_a_full_run() {
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
    let secret_file = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        path.display().to_string()
    };
    let cci_secret = secret_file("cci-client-secret", cci::simulator::CLIENT_SECRET);
    let api_key = secret_file("passmonde-api-key", passmonde::simulator::API_KEY);
    let cci = |key: &str| sandbox.setting(cci::PARTNER, key).unwrap();
    let config = format!(
        r#"
listen = "127.0.0.1:0"
data_dir = "{data}"
[sandbox]
enabled = false
[log]
format = "json"

[[partners]]
kind = "cci"
base_url = "{cci_base}"
[partners.credentials]
token_url = "{token_url}"
client_id = "{client_id}"
client_secret = {{ file = "{cci_secret}" }}
scopes = ["offres:lecture"]

[[partners]]
kind = "cma"
feed_url = "{cma}"

[[partners]]
kind = "carif"
feed_url = "{carif}"

[[partners]]
kind = "erasmus"
export_url = "{erasmus}"

[[partners]]
kind = "passmonde"
base_url = "{passmonde}"
api_key = {{ file = "{api_key}" }}

[[partners]]
kind = "spro"
directory_url = "{spro}"

[[partners]]
kind = "cnfpt"
endpoint = "{cnfpt}"
username = "{cnfpt_user}"
password = {{ env = "CNFPT_PASSWORD" }}
"#,
        data = dir.path().display(),
        cci_base = cci("base_url"),
        token_url = cci("credentials.token_url"),
        client_id = cci("credentials.client_id"),
        cma = sandbox
            .setting(passerelle_connectors::cma::PARTNER, "feed_url")
            .unwrap(),
        carif = sandbox
            .setting(passerelle_connectors::carif::PARTNER, "feed_url")
            .unwrap(),
        erasmus = sandbox
            .setting(passerelle_connectors::erasmus::PARTNER, "export_url")
            .unwrap(),
        passmonde = sandbox
            .setting(passerelle_connectors::passmonde::PARTNER, "base_url")
            .unwrap(),
        spro = sandbox
            .setting(passerelle_connectors::spro::PARTNER, "directory_url")
            .unwrap(),
        cnfpt = sandbox
            .setting(passerelle_connectors::cnfpt::PARTNER, "endpoint")
            .unwrap(),
        cnfpt_user = cnfpt::simulator::USERNAME,
    );
    let config_path = dir.path().join("passerelle.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["serve", "--config"])
        .arg(&config_path)
        .env("RUST_LOG", "debug")
        .env("CNFPT_PASSWORD", cnfpt::simulator::PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 8192];
        let mut told = false;
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if !told {
                let text = String::from_utf8_lossy(&all);
                if let Some(line) = text.lines().find(|l| l.contains("passerelle listening")) {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    let _ = tx.send(v["addr"].as_str().unwrap().to_owned());
                    told = true;
                }
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(120)))
        .await
        .unwrap()
        .expect("the gateway starts");

    // Every partner is called.
    let client = reqwest::Client::new();
    let query = r#"{
        offers(first: 50) { totalCount nodes { id } }
        formations(first: 5) { totalCount }
        mobility { total { participants } }
        events(first: 5) { nodes { title } }
        orientationSites { nodes { name } }
        publicSector { apprentices { total } }
    }"#;
    let ask = |query: &'static str| {
        let client = client.clone();
        let url = format!("http://{addr}/graphql");
        async move {
            let body: serde_json::Value = client
                .post(url)
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body.get("errors").is_none(), "{body}");
            body
        }
    };
    ask(query).await;
    let body = ask("{ partners { id status } }").await;
    let statuses = body["data"]["partners"].as_array().unwrap();
    assert_eq!(statuses.len(), 7);
    // (The CMA's feed carries records it rejects: `DEGRADED`, not down.)
    assert!(
        statuses
            .iter()
            .all(|p| p["status"] == "UP" || p["status"] == "DEGRADED"),
        "every partner answered: {body}"
    );

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let mut logs = reader.join().unwrap();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(logs.contains("feed synced"), "logs were captured:\n{logs}");
    for secret in [
        cci::simulator::CLIENT_SECRET,
        passmonde::simulator::API_KEY,
        cnfpt::simulator::PASSWORD,
    ] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
}
