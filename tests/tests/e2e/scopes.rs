//! The scope matrix: every protected field, mutation and endpoint, asked by
//! every kind of caller, is allowed exactly where the scopes and claims say.

use serde_json::json;

use crate::helpers::{spawn_app, TestApp, SMALL};

/// The kinds of callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    NoScope,
    Region,
    Opco,
    OpcoWithoutClaim,
    Cfa,
}

const KINDS: [Kind; 6] = [
    Kind::Anonymous,
    Kind::NoScope,
    Kind::Region,
    Kind::Opco,
    Kind::OpcoWithoutClaim,
    Kind::Cfa,
];

const OWN: &str = "0141687H";
const OTHER: &str = "0761234D";

fn token(app: &TestApp, kind: Kind) -> Option<String> {
    match kind {
        Kind::Anonymous => None,
        Kind::NoScope => Some(app.token("", None, None)),
        Kind::Region => Some(app.token("region:bi", None, None)),
        Kind::Opco => Some(app.token("allocations:write", Some("AKTO"), None)),
        Kind::OpcoWithoutClaim => Some(app.token("allocations:write", None, None)),
        Kind::Cfa => Some(app.token("", None, Some(OWN))),
    }
}

/// How a protected thing is reached.
enum Access {
    /// A GraphQL operation.
    Graphql(String),
    /// An upload of one allocation.
    Upload,
    /// The campaign export.
    Export,
}

/// Whether `kind` was let through `access`.
async fn allowed(app: &TestApp, kind: Kind, access: &Access, n: usize) -> bool {
    let token = token(app, kind);
    match access {
        Access::Graphql(query) => {
            let query = query.replace("KEY", &format!("k{n}"));
            let (_, body) = app.post_as(token.as_deref(), &query, json!({})).await;
            let refused = body["errors"].as_array().is_some_and(|errors| {
                errors.iter().any(|e| {
                    matches!(
                        e["extensions"]["code"].as_str(),
                        Some("FORBIDDEN" | "UNAUTHENTICATED")
                    )
                })
            });
            if !refused {
                assert!(body.get("errors").is_none(), "{query}: {body}");
            }
            !refused
        }
        Access::Upload => {
            let mut r = app
                .client
                .post(app.url("/ingest/allocations?campaign=2026"))
                .header("idempotency-key", format!("u{n}"))
                .header("content-type", "text/csv")
                .body("reference;siret;commune;uai;amount;date\nS-1;73282932000074;14118;0141687H;10;2026-06-02\n");
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            status_allowed(r.send().await.unwrap().status().as_u16())
        }
        Access::Export => {
            let mut r = app.client.get(app.url("/export/tax-campaign/2026.csv"));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            status_allowed(r.send().await.unwrap().status().as_u16())
        }
    }
}

fn status_allowed(status: u16) -> bool {
    match status {
        200 => true,
        401 | 403 => false,
        other => panic!("unexpected status {other}"),
    }
}

#[tokio::test]
async fn every_protected_field_with_every_kind_of_token() {
    use Kind::*;
    let app = spawn_app(SMALL).await;
    let campaign =
        |field: &str| Access::Graphql(format!("{{ taxCampaign(year: 2026) {{ {field} }} }}"));
    let matrix: Vec<(&str, Access, &[Kind])> = vec![
        ("public offers", Access::Graphql("{ offers(first: 1) { totalCount } }".into()), &KINDS),
        ("partners.lastError", Access::Graphql("{ partners { lastError { code } } }".into()), &[Region]),
        ("partners.lastSync", Access::Graphql("{ partners { lastSync { outcome } } }".into()), &[Region]),
        ("taxCampaign.totals", campaign("totals { amount }"), &[Region]),
        ("taxCampaign.byOpco", campaign("byOpco { amount }"), &[Region]),
        ("taxCampaign.byEmployerDepartement", campaign("byEmployerDepartement { amount }"), &[Region]),
        ("taxCampaign.byWeek", campaign("byWeek { amount }"), &[Region]),
        ("taxCampaign.establishments", campaign("establishments { totalCount }"), &[Region, Cfa]),
        ("taxCampaign.establishment(own)", campaign(&format!("establishment(uai: \"{OWN}\") {{ amount }}")), &[Region, Cfa]),
        ("taxCampaign.establishment(other)", campaign(&format!("establishment(uai: \"{OTHER}\") {{ amount }}")), &[Region]),
        ("taxCampaign.allocations(own)", campaign(&format!("allocations(uai: \"{OWN}\") {{ nodes {{ amount }} }}")), &[Region, Cfa]),
        ("taxCampaign.allocations(other)", campaign(&format!("allocations(uai: \"{OTHER}\") {{ nodes {{ amount }} }}")), &[Region]),
        (
            "pushAllocations",
            Access::Graphql(
                "mutation { pushAllocations(input: { campaign: 2026, idempotencyKey: \"KEY\", allocations: [] }) { accepted } }".into(),
            ),
            &[Opco],
        ),
        ("POST /ingest/allocations", Access::Upload, &[Opco]),
        ("GET /export/tax-campaign/2026.csv", Access::Export, &[Region]),
    ];
    let mut n = 0;
    let mut wrong = Vec::new();
    for (name, access, allowed_kinds) in &matrix {
        for kind in KINDS {
            n += 1;
            let got = allowed(&app, kind, access, n).await;
            if got != allowed_kinds.contains(&kind) {
                wrong.push(format!(
                    "{name} as {kind:?}: {}",
                    if got { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "against the matrix:\n{}",
        wrong.join("\n")
    );
    assert_eq!(n, matrix.len() * KINDS.len());
}
