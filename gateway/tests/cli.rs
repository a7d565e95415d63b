//! The `passerelle` command line, run as a user would.

use std::process::Command;

use passerelle_connectors::sandbox::generate::{dataset, DatasetSettings};
use passerelle_connectors::sandbox::{Faults, SimServer};

fn passerelle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_passerelle"))
}

#[test]
fn mapping_test_runs_every_case_of_the_shipped_files() {
    let out = passerelle().args(["mapping", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("cma/offer.toml") && stdout.contains("cci/offer.toml"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with(" 0 failed"), "{stdout}");
}

#[tokio::test]
async fn mapping_run_prints_the_good_records_and_names_the_three_broken_ones() {
    let data = dataset(&DatasetSettings {
        cma_offers: 200,
        cci_offers: 10,
        shared_offers: 5,
        ..Default::default()
    });
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        passerelle_connectors::cma::simulator::router(&data.cma, Faults::default()),
    )
    .await
    .unwrap();
    let feed = reqwest::get(server.base_url().join("flux/offres.xml").unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(feed.starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cma.xml");
    std::fs::write(&file, &feed).unwrap();

    let out = passerelle()
        .args(["mapping", "run", "--partner", "cma", "--input"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 197);
    assert!(records.iter().all(|r| r["sources"][0]["partner"] == "cma"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    for field in ["employer.siret", "location.commune", "start_date"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(field) && l.contains("(CMA-")),
            "{field} not named in {stderr}"
        );
    }
}

#[test]
fn mapping_run_on_an_unreadable_payload_exits_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.json");
    std::fs::write(&file, "{ this is not json").unwrap();
    let out = passerelle()
        .args(["mapping", "run", "--partner", "cci", "--input"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed JSON"));
    let out = passerelle()
        .args(["mapping", "run", "--partner", "opca", "--input"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known partners"));
}

#[test]
fn a_bad_mapping_directory_is_refused_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cma")).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mappings/cma/offer.toml"
    ))
    .unwrap()
    .replace("{ date = \"%d/%m/%Y\" }", "{ dait = \"%d/%m/%Y\" }");
    std::fs::write(dir.path().join("cma/offer.toml"), text).unwrap();
    let out = passerelle()
        .args(["mapping", "test", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cma/offer.toml: field `start_date`: unknown transform `dait`"),
        "{stderr}"
    );
}

#[test]
fn a_bad_configuration_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passerelle.toml");
    std::fs::write(&file, "listen = \"nowhere\"\n").unwrap();
    let out = passerelle()
        .arg("serve")
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listen"), "{stderr}");
}
