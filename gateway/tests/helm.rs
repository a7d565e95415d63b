//! The Helm chart, checked without a cluster: `helm/check.sh` renders it
//! with minimal and production-like values, lints it and validates every
//! manifest against the Kubernetes schemas; then the gateway itself reads
//! each configuration the chart rendered, with the mapping files it mounts.

use std::path::Path;
use std::process::Command;

use passerelle::config::{Config, OtlpProtocol, Overrides};
use passerelle_mappings::EntityKind;

/// The paths the chart mounts, and where this test puts their contents.
fn localize(text: &str, case: &Path, scratch: &Path) -> String {
    text.replace(
        "/var/run/secrets/passerelle/partners",
        &scratch.join("secrets").display().to_string(),
    )
    .replace(
        "/etc/passerelle/mappings",
        &case.join("mappings").display().to_string(),
    )
    .replace(
        "/etc/passerelle/trusted",
        &scratch.join("trusted").display().to_string(),
    )
    .replace(
        "/var/lib/passerelle",
        &scratch.join("data").display().to_string(),
    )
}

#[test]
fn the_chart_validates_and_the_gateway_reads_what_it_renders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = tempfile::tempdir().unwrap();
    let check = Command::new("bash")
        .arg(root.join("helm/check.sh"))
        .arg(out.path())
        .output()
        .expect("bash runs");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        report.contains("the chart renders, lints and validates"),
        "{report}"
    );

    let scratch = tempfile::tempdir().unwrap();
    for dir in ["secrets", "trusted", "data"] {
        std::fs::create_dir_all(scratch.path().join(dir)).unwrap();
    }
    std::fs::write(scratch.path().join("secrets/cci-client-secret"), "s1\n").unwrap();
    std::fs::write(scratch.path().join("secrets/passmonde-api-key"), "s2\n").unwrap();
    std::fs::write(scratch.path().join("trusted/manifest.json"), "{}").unwrap();
    // The production values read the CNFPT password from the environment.
    std::env::set_var("CNFPT_PASSWORD", "s3");

    for (case, partners) in [("minimal", 1), ("production", 7), ("declared", 2)] {
        let dir = out.path().join(case);
        let rendered = std::fs::read_to_string(dir.join("passerelle.json")).unwrap();
        let local = scratch.path().join(format!("{case}.json"));
        std::fs::write(&local, localize(&rendered, &dir, scratch.path())).unwrap();
        let config = Config::load(Some(&local), &Overrides::default()).unwrap_or_else(|e| {
            panic!("{case}: the gateway refuses the chart's configuration: {e}")
        });
        assert!(!config.sandbox.enabled, "{case}");
        assert_eq!(config.partners.len(), partners, "{case}");
        assert!(config.auth.jwks_url.is_some(), "{case}");
        assert_eq!(config.listen.port(), 4000, "{case}");
        // Traces go over gRPC, to the collector's OTLP/gRPC port.
        assert_eq!(config.telemetry.otlp_protocol, OtlpProtocol::Grpc, "{case}");
        if case == "production" {
            let refresh = config.auth.jwks_refresh();
            assert_eq!(refresh.max, std::time::Duration::from_secs(1800), "{case}");
            let endpoint = config.telemetry.otlp_endpoint.as_ref().unwrap();
            assert_eq!(endpoint.port(), Some(4317), "{case}");
        }
        // The console's sign-in key: the Secret every replica mounts.
        let key = config.console.cookie_key_file.as_deref();
        let shared = Path::new("/var/run/secrets/passerelle/console/cookie-key");
        assert_eq!(key, (case == "production").then_some(shared), "{case}");
        // Forwarding headers are believed from the ingress's pods only
        // when the operator names them.
        let proxies = config.server.trusted_networks().unwrap();
        let expected: &[&str] = if case == "production" {
            &["10.244.0.0/16"]
        } else {
            &[]
        };
        let shown: Vec<String> = proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, expected, "{case}");
        if let Some(mappings) = &config.mappings_dir {
            let registry = config
                .registry(passerelle_connectors::Registry::standard())
                .unwrap();
            let catalog = registry
                .catalog(Some(mappings))
                .unwrap_or_else(|e| panic!("{case}: the mounted mappings are refused: {e}"));
            assert!(catalog
                .get(passerelle_connectors::cma::PARTNER, EntityKind::Offer)
                .is_some());
            // A partner declared in the values reads its mounted mapping.
            if case == "declared" {
                let branche = registry.partner("branche").unwrap();
                assert!(catalog.get(branche, EntityKind::Formation).is_some());
            }
        }
    }
}
