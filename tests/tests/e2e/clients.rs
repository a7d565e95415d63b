//! Clients written by others against the real gateway: graphql-js loading
//! the schema as GraphiQL and codegen do, and the graphql-ws and
//! graphql-sse clients beside plain HTTP (`tests/clients`).

use serde_json::Value;

use crate::helpers::{node, spawn_app, spawn_app_with, SMALL};

/// The committed SDL, which the served schema must be.
const SDL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/passerelle.graphql");

#[tokio::test]
async fn graphql_js_loads_the_committed_schema_at_the_default_bounds() {
    let app = spawn_app(SMALL).await;
    let out = node(
        "clients",
        "introspect.mjs",
        vec![app.url("/graphql"), SDL.to_owned()],
    )
    .await;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn introspection_is_bounded_on_its_own_terms_and_off_as_a_whole() {
    let app = spawn_app(SMALL).await;
    let post = |query: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/graphql"))
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let code = |v: &Value| {
        v["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned)
    };
    // Nested past what any introspection query needs: refused.
    let deep = format!(
        "{{ __type(name: \"Offer\") {{ {}kind{} }} }}",
        "ofType { ".repeat(20),
        " }".repeat(20)
    );
    assert_eq!(code(&post(deep).await).as_deref(), Some("QUERY_TOO_DEEP"));
    // The schema's own fields keep `max_depth`, even beside an introspection.
    let fields = format!(
        "{{ __schema {{ description }} partners {{ {}id{} }} }}",
        "x { ".repeat(12),
        " }".repeat(12)
    );
    assert_eq!(code(&post(fields).await).as_deref(), Some("QUERY_TOO_DEEP"));
    // An introspection nested inside a field counts in that field's depth.
    let inside = format!(
        "{{ partners {{ {}__typename{} }} }}",
        "a { ".repeat(11),
        " }".repeat(11)
    );
    assert_eq!(code(&post(inside).await).as_deref(), Some("QUERY_TOO_DEEP"));

    let closed = spawn_app_with(SMALL, "[api]\nintrospection = false\n").await;
    let out = node(
        "clients",
        "introspect.mjs",
        vec![closed.url("/graphql"), SDL.to_owned()],
    )
    .await;
    let report = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{report}");
    assert!(report.contains("refused"), "{report}\n{stderr}");
}

#[tokio::test]
async fn one_result_reads_the_same_over_http_graphql_ws_and_sse() {
    let app = spawn_app(SMALL).await;
    let operations = [
        // Runs, and fails at a non-null root field: `data: null`.
        "{ offers(first: -1) { totalCount } }",
        // Runs, with a notice in `extensions`.
        "{ offers(first: 2, filter: { departement: \"75\" }) { totalCount } }",
        "{ partners { id name } }",
    ];
    let mut args = vec![app.url("/graphql")];
    args.extend(operations.iter().map(|q| (*q).to_owned()));
    let out = node("clients", "transports.mjs", args).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), operations.len() + 1, "{stdout}");
    for line in &lines[..operations.len()] {
        let http = &line["http"];
        assert_eq!(http["kind"], "result", "{line}");
        assert_eq!(line["ws"], *http, "graphql-ws differs from HTTP: {line}");
        assert_eq!(line["sse"], *http, "graphql-sse differs from HTTP: {line}");
    }
    assert_eq!(lines[0]["http"]["payload"]["data"], Value::Null);
    assert_eq!(
        lines[0]["http"]["payload"]["errors"][0]["extensions"]["code"],
        "INVALID_INPUT"
    );
    assert_eq!(
        lines[1]["http"]["payload"]["extensions"]["notices"][0]["code"], "OUTSIDE_NORMANDY",
        "{}",
        lines[1]
    );
    // The ws library closed with 1000 and saw the server's answering
    // Close frame; a dropped connection shows as 1006.
    assert_eq!(lines[operations.len()]["close"]["code"], 1000, "{stdout}");
}

#[tokio::test]
async fn every_entity_a_page_refetches_is_a_node_of_its_own_type() {
    let app = spawn_app(SMALL).await;
    let lists = app
        .data(
            "{ offers(first: 1) { nodes { id } }
               cfas(first: 1) { nodes { id uai } }
               formations(first: 1) { nodes { id partnerId } }
               events(first: 1) { nodes { id partnerId } }
               orientationSites(first: 1) { nodes { id partnerId } } }",
            serde_json::json!({}),
        )
        .await;
    let mut ids = Vec::new();
    for (list, typename) in [
        ("offers", "Offer"),
        ("cfas", "Cfa"),
        ("formations", "Formation"),
        ("events", "Event"),
        ("orientationSites", "OrientationSite"),
    ] {
        let node = &lists[list]["nodes"][0];
        let id = node["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{list}: {lists}"));
        let again = app
            .data(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                serde_json::json!({ "id": id }),
            )
            .await;
        assert_eq!(again["node"]["__typename"], typename, "{list}: {again}");
        assert_eq!(again["node"]["id"], id, "{list}");
        // The partner's own identifier is never the global one.
        if let Some(partner_id) = node["partnerId"].as_str() {
            assert_ne!(partner_id, id);
        }
        ids.push(id.to_owned());
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    // An offer's field refuses another type's identifier; `node` answers
    // nothing for an identifier of ours that names nothing.
    let (_, wrong) = app
        .post(
            "query($id: ID!) { offer(id: $id) { id } }",
            serde_json::json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(
        wrong["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{wrong}"
    );
}

/// Runs `script` of `tests/clients` against `app` with `args`; its report
/// is its stdout, and it must exit 0.
async fn passes(script: &str, args: Vec<String>) -> String {
    let out = node("clients", script, args).await;
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script}:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

#[tokio::test]
async fn relay_compiles_a_connection_on_every_connection_and_runs_its_queries() {
    let app = spawn_app(SMALL).await;
    let token = app.token("region:bi alerts:write", None, None);
    let report = passes(
        "relay.mjs",
        vec![app.url("/graphql"), SDL.to_owned(), "--token".into(), token],
    )
    .await;
    // Every connection paginated, every Node type refetched.
    for query in [
        "PasserelleOffersPaginationQuery",
        "PasserelleCfaEventsPaginationQuery",
        "PasserelleEventRefetchQuery",
        "PasserelleSiteRefetchQuery",
        "PasserelleCampaignQuery",
    ] {
        assert!(report.contains(query), "{query}: {report}");
    }
}

#[tokio::test]
async fn apollo_client_normalises_each_entity_type_once() {
    let app = spawn_app(SMALL).await;
    passes("apollo.mjs", vec![app.url("/graphql")]).await;
}

#[tokio::test]
async fn graphql_codegen_reads_the_schema_from_the_live_endpoint() {
    let app = spawn_app(SMALL).await;
    passes("codegen.mjs", vec![app.url("/graphql"), SDL.to_owned()]).await;
}
