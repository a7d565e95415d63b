//! The `passerelle` command line, run as a user would.

mod common;

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
        passerelle_connectors::cma::simulator::router(
            &data.cma,
            &DatasetSettings::default(),
            Faults::default(),
        ),
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
fn mapping_run_on_an_empty_or_foreign_payload_exits_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let html = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>\n";
    for (partner, entity, payload, says) in [
        ("cma", "offer", "", "empty"),
        ("cma", "offer", "  \n", "empty"),
        ("cma", "offer", "garbage", "no offer record"),
        ("cma", "offer", html, "HTML page"),
        ("cci", "offer", html, "HTML page"),
        ("erasmus", "mobility", html, "HTML page"),
        ("spro", "event", "garbage", "iCalendar"),
    ] {
        let file = dir.path().join("payload");
        std::fs::write(&file, payload).unwrap();
        let out = passerelle()
            .args([
                "mapping",
                "run",
                "--partner",
                partner,
                "--entity",
                entity,
                "--input",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{partner} {payload:?}: {stderr}"
        );
        assert!(stderr.contains(says), "{partner} {payload:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn dev_token_refuses_to_make_a_key_where_no_server_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = passerelle()
        .current_dir(dir.path())
        .env_remove("PASSERELLE_DATA_DIR")
        .env_remove("PASSERELLE_CONFIG")
        .args(["dev-token", "--scope", "region:bi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("no sandbox issuer key at") && stderr.contains("data"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing is created"
    );
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

/// Runs `mapping run` on a payload; returns the exit code and the records.
fn map_payload(
    partner: &str,
    entity: &str,
    payload: &[u8],
    context: &[&str],
) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload");
    std::fs::write(&file, payload).unwrap();
    let mut cmd = passerelle();
    cmd.args([
        "mapping",
        "run",
        "--partner",
        partner,
        "--entity",
        entity,
        "--input",
    ])
    .arg(&file);
    for c in context {
        cmd.args(["--context", c]);
    }
    printed(cmd.output().unwrap())
}

/// What a command that prints records as JSON lines gave: its exit code,
/// the records, its stderr.
fn printed(out: std::process::Output) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code(),
        records,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn mapping_run_reads_every_partners_payload_format() {
    use passerelle_connectors::sandbox::{Sandbox, SandboxSettings};
    use passerelle_schema::Partner;
    let mut settings = SandboxSettings::default();
    settings.data.cci_offers = 120;
    settings.data.cma_offers = 100;
    settings.data.shared_offers = 10;
    let sandbox = Sandbox::start(&settings, &passerelle_connectors::Registry::standard())
        .await
        .unwrap();
    let base = |p: Partner| sandbox.simulator(p).unwrap().server.base_url();
    let http = reqwest::Client::new();

    // CCI: a page of the REST API, behind an OAuth2 token.
    let token: serde_json::Value = http
        .post(
            base(passerelle_connectors::cci::PARTNER)
                .join("oauth/token")
                .unwrap(),
        )
        .basic_auth("passerelle", Some("sandbox-cci-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = http
        .get(
            base(passerelle_connectors::cci::PARTNER)
                .join("api/v1/offres?limite=50")
                .unwrap(),
        )
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // The LHÉO catalogue, the Erasmus+ CSV export, the SPRO directory and one
    // calendar, a Pass Monde page, a CNFPT SOAP answer.
    let get = |url: url::Url| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().bytes().await.unwrap() }
    };
    let lheo = get(base(passerelle_connectors::carif::PARTNER)
        .join("lheo/offres.xml")
        .unwrap())
    .await;
    let csv = get(base(passerelle_connectors::erasmus::PARTNER)
        .join("exports/mobilites.csv")
        .unwrap())
    .await;
    let sites = get(base(passerelle_connectors::spro::PARTNER)
        .join("api/sites")
        .unwrap())
    .await;
    let ics = get(base(passerelle_connectors::spro::PARTNER)
        .join("agenda/cio-14118.ics")
        .unwrap())
    .await;
    let grants = http
        .get(
            base(passerelle_connectors::passmonde::PARTNER)
                .join("api/v2/bourses?statut=apprenti&par_page=50")
                .unwrap(),
        )
        .header("X-Api-Key", "sandbox-pass-monde-key")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let soap = http
        .post(base(passerelle_connectors::cnfpt::PARTNER).join("services/apprentissage").unwrap())
        .basic_auth("passerelle", Some("sandbox-cnfpt-password"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:cnfpt:apprentissage:1"><soap:Body><c:RechercherOffres/></soap:Body></soap:Envelope>"#)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    for (partner, entity, payload, context, expected) in [
        ("cci", "offer", &page[..], &[][..], 50),
        ("carif", "formation", &lheo[..], &[][..], 500),
        ("erasmus", "mobility", &csv[..], &[][..], 426),
        ("spro", "site", &sites[..], &[][..], 93),
        ("spro", "event", &ics[..], &["X-SITE=cio-14118"][..], 2),
        ("passmonde", "mobility", &grants[..], &[][..], 50),
        ("cnfpt", "offer", &soap[..], &[][..], 150),
    ] {
        let (code, records, stderr) = map_payload(partner, entity, payload, context);
        assert_eq!(code, Some(0), "{partner}/{entity}: {stderr}");
        assert_eq!(records.len(), expected, "{partner}/{entity}");
    }
}

#[tokio::test]
async fn dev_token_signs_what_a_sandbox_gateway_on_the_same_directory_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let config = passerelle::config::Config::from_toml(&format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[sandbox.data]\ncci_offers = 50\ncma_offers = 50\nshared_offers = 5\n",
        dir.path().display()
    ))
    .unwrap();
    let app = passerelle::app::Application::build(config).await.unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let out = passerelle()
        .args([
            "dev-token",
            "--scope",
            "region:bi",
            "--ttl",
            "10m",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    // The same directory named by the environment, from elsewhere.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = passerelle()
        .current_dir(elsewhere.path())
        .env("PASSERELLE_DATA_DIR", dir.path())
        .args(["dev-token", "--scope", "region:bi"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_env = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    common::graphql(
        &reqwest::Client::new(),
        &addr.to_string(),
        Some(&from_env),
        "{ partners { id lastSync { outcome } } }",
    )
    .await;
    common::graphql(
        &reqwest::Client::new(),
        &addr.to_string(),
        Some(&token),
        "{ partners { id lastSync { outcome } } }",
    )
    .await;
    let _ = stop.send(());

    let production = dir.path().join("production.toml");
    std::fs::write(
        &production,
        "[sandbox]\nenabled = false\n[auth]\njwks_url = \"https://idp.example/jwks.json\"\n[[partners]]\nkind = \"cma\"\nfeed_url = \"https://cma.example/flux.xml\"\n",
    )
    .unwrap();
    let out = passerelle()
        .args(["dev-token", "--scope", "region:bi", "--config"])
        .arg(&production)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("real identity provider"));
}

#[test]
fn import_allocations_stores_a_file_once_and_reports_its_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let out = passerelle()
        .args([
            "sandbox-campaign",
            "--allocations",
            "3000",
            "--employers",
            "300",
        ])
        .args(["--invalid-every", "100", "--out"])
        .arg(dir.path().join("campaign"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.path().join("campaign/AKTO.csv");
    let import = || {
        passerelle()
            .args([
                "import",
                "allocations",
                "--opco",
                "AKTO",
                "--campaign",
                "2026",
            ])
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .unwrap()
    };
    let first = import();
    // Some records are spoiled: exit status 1, each rejection in the report.
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let received = report["received"].as_u64().unwrap();
    let rejected = report["rejectedCount"].as_u64().unwrap();
    assert!(rejected > 0 && rejected < received / 50, "{report}");
    assert_eq!(report["accepted"].as_u64().unwrap(), received - rejected);
    assert_eq!(
        report["rejected"].as_array().unwrap().len() as u64,
        rejected
    );
    // The same file again changes nothing.
    let again: serde_json::Value = serde_json::from_slice(&import().stdout).unwrap();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["accepted"], report["accepted"]);
    // Refused whole: an unknown OPCO, a missing campaign.
    let unknown = passerelle()
        .args(["import", "allocations", "--opco", "NOPE"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let no_campaign = passerelle()
        .args(["import", "allocations", "--opco", "AKTO"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(no_campaign.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_campaign.stderr).contains("INVALID_CAMPAIGN"));
}

#[test]
fn settings_come_from_passerelle_variables_and_other_ones_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    // A store nobody listens on: serve must try it, and fail, naming it.
    let out = passerelle()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env(
            "PASSERELLE_STORE_URL",
            "postgres://nobody@127.0.0.1:1/passerelle",
        )
        .env("PASSERELLE_SERVICE_HOST", "10.0.0.1")
        .env("PASSERELLE_TEST_SETTING", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("the store at postgres://"), "{stderr}");
}

#[test]
fn mapping_run_reads_a_calendar_written_to_rfc_5545_as_calendar_clients_do() {
    let ics = include_bytes!("../../connectors/src/spro/samples/rfc5545.ics");
    let (code, records, stderr) = map_payload("spro", "event", ics, &["X-SITE=cio-14118"]);
    assert_eq!(code, Some(0), "{stderr}");
    // Ten VEVENTs: three overrides and an older version are gathered.
    assert_eq!(records.len(), 6, "{records:?}");
    let event = |uid: &str| {
        records
            .iter()
            .find(|r| r["partner_id"] == format!("{uid}-2027@cio-caen.example"))
            .unwrap_or_else(|| panic!("{uid}"))
    };
    let [jpo, atelier, forum, info, visite, quinzaine] =
        ["jpo", "atelier", "forum", "info", "visite", "quinzaine"].map(event);
    // Outlook's zone is Paris; the end comes from the DURATION.
    assert_eq!(jpo["start"]["tz"], "Europe/Paris");
    assert_eq!(jpo["start"]["at"], "2027-03-06T09:00:00Z");
    assert_eq!(jpo["end"]["at"], "2027-03-06T15:00:00Z");
    assert_eq!(
        jpo["duration"],
        serde_json::json!({ "days": 0, "seconds": 21600 })
    );
    assert_eq!(jpo["exdates"][0]["at"], "2027-05-01T08:00:00Z");
    let overrides = jpo["overrides"].as_array().unwrap();
    assert_eq!(overrides.len(), 2);
    assert_eq!(overrides[0]["title"], "Portes ouvertes (reportées)");
    assert_eq!(overrides[0]["recurrence_id"]["at"], "2027-04-03T08:00:00Z");
    assert_eq!(overrides[0]["start"]["at"], "2027-04-10T12:00:00Z");
    assert_eq!(overrides[1]["status"], "cancelled");
    // A floating time is in Paris, as are its skipped dates; no end is an
    // instant.
    assert_eq!(atelier["start"]["tz"], "Europe/Paris");
    assert_eq!(atelier["end"], atelier["start"]);
    let skipped: Vec<&str> = atelier["exdates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["at"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["2027-01-27T13:00:00Z", "2027-02-10T13:00:00Z"]);
    assert_eq!(atelier["rdates"][0]["at"], "2027-03-17T13:00:00Z");
    // A day without end lasts the day.
    assert_eq!(
        forum["end"],
        serde_json::json!({ "type": "date", "date": "2027-01-30" })
    );
    assert_eq!(
        forum["title"],
        "Forum de l'alternance, dernier jour ouvré du mois"
    );
    assert_eq!(info["status"], "cancelled");
    assert_eq!(visite["sequence"], 2);
    assert_eq!(visite["title"], "Visite d'entreprise (nouvelle date)");
    // Folded inside the "é", and escaped once.
    assert_eq!(
        quinzaine["title"],
        "Quinzaine de l'apprentissage : journée d'orientation"
    );
    assert_eq!(
        quinzaine["description"],
        "Ateliers, rencontres; inscriptions sur place\nC:\\dossiers n'est pas un chemin à suivre."
    );
    assert_eq!(quinzaine["status"], "tentative");
    assert_eq!(quinzaine["kind"], "quinzaine");
}

#[test]
fn mapping_run_reads_a_lheo_catalogue_written_from_the_standard() {
    let samples =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings/carif/samples");
    let out = passerelle()
        .args([
            "mapping",
            "run",
            "--partner",
            "carif",
            "--entity",
            "formation",
            "--input",
        ])
        .arg(samples.join("offres-lheo-2.2.xml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Every programme maps: the one whose organism has no SIRET is kept
    // without it.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["partner_id"], "F-SANS-SIRET");
    assert_eq!(records[2]["cfa"]["siret"], serde_json::Value::Null);
    let bp = &records[0];
    assert_eq!(bp["partner_id"], "F-0141234R-BP");
    assert_eq!(bp["places"].as_array().unwrap().len(), 2);
    assert_eq!(bp["places"][1]["commune"], "14366");
    assert_eq!(bp["places"][1]["capacity"], 12);
    assert_eq!(bp["capacity"], 42);
    assert_eq!(bp["sessions"][0]["end"], serde_json::Value::Null);
    assert_eq!(bp["sessions"][1]["start"], serde_json::Value::Null);
    assert_eq!(bp["level"], 4);
    assert_eq!(records[1]["level"], 3);
    assert_eq!(
        bp["rncp_codes"],
        serde_json::json!(["RNCP37775", "RNCP35185"])
    );
    assert_eq!(stderr.lines().count(), 0, "{stderr}");

    let out = passerelle()
        .args([
            "mapping",
            "run",
            "--partner",
            "carif",
            "--entity",
            "formation",
            "--input",
        ])
        .arg(samples.join("offres-lheo-2.2-latin1.xml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bts: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(
        bts["title"],
        "BTS Négociation & digitalisation de la relation client"
    );
    assert_eq!(bts["level"], 5);
}

#[test]
fn the_printed_schema_is_the_committed_one() {
    let out = passerelle().arg("schema").output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = include_str!("../../schema/passerelle.graphql");
    assert_eq!(printed.trim(), committed.trim());
}

#[test]
fn the_printed_subgraph_schema_is_the_committed_one() {
    let out = passerelle()
        .args(["schema", "--subgraph"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = include_str!("../../schema/passerelle.subgraph.graphql");
    assert_eq!(printed.trim(), committed.trim());
    assert!(printed.contains("type Cfa implements Node @key(fields: \"uai\")"));
}

#[test]
fn the_subgraph_schema_prints_without_its_scope_directives_when_asked() {
    let out = passerelle()
        .args(["schema", "--subgraph", "--without-scopes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = include_str!("../../schema/passerelle.subgraph.graphql");
    assert!(committed.contains("@requiresScopes("));
    assert!(!printed.contains("requiresScopes"));
    assert_eq!(printed.lines().count(), committed.lines().count());
    assert!(printed.contains("type Cfa implements Node @key(fields: \"uai\")"));
    // Only with --subgraph.
    let alone = passerelle()
        .args(["schema", "--without-scopes"])
        .output()
        .unwrap();
    assert!(!alone.status.success());
}

/// `partner check --config FILE ARGS…`, off the test's runtime (which
/// serves the simulators): its exit code, the records it printed, its
/// stderr.
async fn partner_check(
    config: &std::path::Path,
    args: &[&str],
) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut cmd = passerelle();
    cmd.args(["partner", "check", "--config"])
        .arg(config)
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    printed(out)
}

#[tokio::test]
async fn partner_check_calls_a_partner_once_and_prints_its_records_and_requests() {
    use passerelle_connectors::sandbox::{Sandbox, SandboxSettings};
    let mut settings = SandboxSettings::default();
    settings.data.cci_offers = 120;
    settings.data.cma_offers = 100;
    settings.data.shared_offers = 10;
    let sandbox = Sandbox::start(&settings, &passerelle_connectors::Registry::standard())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("partners.toml");
    std::fs::write(&config, sandbox.partners_toml()).unwrap();

    // A feed: its records, and the three the simulator breaks on purpose.
    let (code, records, stderr) = partner_check(&config, &["cma"]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(records.len(), 97, "{stderr}");
    assert_eq!(stderr.matches("rejected ").count(), 3, "{stderr}");
    assert!(
        stderr.contains("GET http://"),
        "the request is shown: {stderr}"
    );
    assert!(stderr.contains("flux/offres.xml"), "{stderr}");

    // A live exchange, searched with filters pushed down; its token is not
    // shown.
    let (code, records, stderr) =
        partner_check(&config, &["cci", "--departement", "14", "--rome", "D1102"]).await;
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    assert!(records.iter().all(|r| r["location"]["commune"]
        .as_str()
        .is_some_and(|c| c.starts_with("14"))));
    assert!(stderr.contains("departement=14"), "{stderr}");
    assert!(stderr.contains("rome=D1102"), "{stderr}");
    assert!(!stderr.contains("sandbox-cci-secret"), "{stderr}");

    // A live source of mobilities behind an API key.
    let (code, records, stderr) = partner_check(&config, &["passmonde"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!records.is_empty(), "{stderr}");
    assert!(
        records.iter().all(|r| r["program"] == "pass_monde"),
        "{stderr}"
    );

    // A partner the configuration does not have.
    let (code, _, stderr) = partner_check(&config, &["opca"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("opca is not a partner of this configuration"),
        "{stderr}"
    );

    // A partner no code knows: a first mapping written from a sample of
    // its feed, tested, then the partner declared and checked.
    let feed = sandbox
        .simulator(passerelle_connectors::carif::PARTNER)
        .unwrap()
        .server
        .base_url()
        .join("lheo/offres.xml")
        .unwrap();
    let sample = reqwest::get(feed.clone())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(dir.path().join("sample.xml"), &sample).unwrap();
    let mappings = dir.path().join("mappings");
    std::fs::create_dir_all(mappings.join("branche")).unwrap();
    let written = mappings.join("branche/formation.toml");
    let run = |args: Vec<std::ffi::OsString>| async move {
        let mut cmd = passerelle();
        cmd.args(args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };
    let out = run(vec![
        "mapping".into(),
        "init".into(),
        "--entity".into(),
        "formation".into(),
        "--input".into(),
        dir.path().join("sample.xml").into(),
        "--partner".into(),
        "branche".into(),
        "--out".into(),
        written.clone().into(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("record = \"formation\""), "{text}");
    assert!(text.contains("partner_id = { from = \"@numero\""), "{text}");
    assert!(
        text.contains("title = { from = \"intitule-formation\""),
        "{text}"
    );
    let out = run(vec![
        "mapping".into(),
        "test".into(),
        "--dir".into(),
        mappings.clone().into(),
    ])
    .await;
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("branche/formation.toml — the sample's first record"),
        "{printed}"
    );
    let declared = dir.path().join("declared.toml");
    std::fs::write(
        &declared,
        format!(
            "mappings_dir = {:?}\n[sandbox]\nenabled = false\n\n[[partners]]\nkind = \"declared\"\n\
             id = \"branche\"\napi_name = \"BRANCHE\"\nname = \"Branche\"\nabout = \"A branch's catalogue.\"\n\
             [[partners.feeds]]\nentity = \"formation\"\nurl = \"{feed}\"\n",
            mappings.display().to_string()
        ),
    )
    .unwrap();
    let (code, records, stderr) = partner_check(&declared, &["branche"]).await;
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    assert!(records.len() > 100, "{stderr}");
    assert!(
        records.iter().all(|r| r["partner"] == "branche"),
        "{stderr}"
    );
    assert!(stderr.contains("lheo/offres.xml"), "{stderr}");

    // A live API no code knows (the Pass Monde simulator, behind its key,
    // in numbered pages), declared with its mapping; a key sent as a
    // parameter is not shown.
    let mappings = dir.path().join("live-mappings");
    std::fs::create_dir_all(mappings.join("bourses")).unwrap();
    let passmonde = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mappings/passmonde/mobility.toml");
    std::fs::write(
        mappings.join("bourses/mobility.toml"),
        std::fs::read_to_string(passmonde)
            .unwrap()
            .replace("partner = \"passmonde\"", "partner = \"bourses\""),
    )
    .unwrap();
    let api = sandbox
        .simulator(passerelle_connectors::passmonde::PARTNER)
        .unwrap()
        .server
        .base_url();
    let live = dir.path().join("live.toml");
    std::fs::write(
        &live,
        format!(
            "mappings_dir = {:?}\n[sandbox]\nenabled = false\n\n[[partners]]\nkind = \"declared\"\n\
             id = \"bourses\"\napi_name = \"BOURSES\"\nname = \"Bourses\"\nabout = \"Mobility grants.\"\n\
             [[partners.live]]\nentity = \"mobility\"\nprogram = \"pass_monde\"\nbase_url = \"{api}\"\n\
             auth = {{ kind = \"api_key\", param = \"key\", key = \"unused\" }}\n\
             [partners.live.request]\npath = \"api/v2/bourses\"\nheaders = {{ X-Api-Key = \"{key}\" }}\n\
             query = {{ statut = \"apprenti\", page = \"{{page}}\", par_page = \"{{size}}\", annee = \"{{year}}\" }}\n\
             [partners.live.pagination]\nkind = \"page\"\nsize = 50\npages = \"/pages\"\n",
            mappings.display().to_string(),
            key = passerelle_connectors::passmonde::simulator::API_KEY,
        ),
    )
    .unwrap();
    let (code, records, stderr) = partner_check(&live, &["bourses", "--year", "2026"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(records.len() > 50, "several pages: {stderr}");
    assert!(
        records.iter().all(|r| r["partner"] == "bourses"),
        "{stderr}"
    );
    assert!(
        stderr.contains("annee=2026") && stderr.contains("page=2"),
        "{stderr}"
    );
    assert!(!stderr.contains("unused"), "{stderr}");

    // A partner that does not answer.
    drop(sandbox);
    let (code, _, stderr) = partner_check(&config, &["erasmus"]).await;
    assert_eq!(code, Some(2), "{stderr}");
}
