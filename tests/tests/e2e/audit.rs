//! The GraphQL-over-HTTP server audit of the `graphql-http` package.

use std::process::Command;

use crate::helpers::{spawn_app, SMALL};

#[tokio::test]
async fn every_must_of_the_graphql_over_http_audit_passes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/audit");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/graphql-http")
            .exists(),
        "the audit's packages are missing: run `npm ci` in tests/audit (tests/run.sh does)"
    );
    let app = spawn_app(SMALL).await;
    let url = app.url("/graphql");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("audit.mjs")
            .arg(&url)
            .current_dir(dir)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "MUST audits failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
