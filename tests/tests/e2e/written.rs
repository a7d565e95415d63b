//! Pages of CFAs written to JSON in one pass: the same bytes as the engine
//! answers for the same CFAs (asked through `_entities`, which the engine
//! answers field by field), for every CFA of the sandbox and documents of
//! every form (aliases, fragments on the type and on its interface, fields
//! of one key merged, variables, `__typename`, pages and cursors); and the
//! engine answers the pages with a field the writer does not write.

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, SMALL};

/// Each document's selection of a CFA (the body of `fragment C on Cfa`),
/// its variables, and whether the writer writes it.
const DOCUMENTS: &[(&str, &str, bool)] = &[
    (
        // The benchmark's page: every joined field.
        "uai name siret location { communeCode communeName postcode } \
         departement { code name } vacancies \
         formations(first: 50) { totalCount nodes { id title level vacancies } } \
         offers(first: 10) { totalCount nodes { id title employer { name } } } \
         events(first: 5) { totalCount nodes { title start } } \
         nextOpenDay { title start } \
         mobility { total { mobilities } byProgram { program figures { mobilities } } }",
        "{}",
        true,
    ),
    (
        // Aliases, `__typename`, a key asked twice, fragments inline, on
        // the interface, and named.
        "__typename kind: __typename id ... on Node { id } ... { name } \
         where: location { communeName } location { communeCode departement { code } } \
         n: name ...Places \
         offers(first: 3) { nodes { __typename id ... on Offer { title status publishedAt } } } \
         offers(first: 3) { totalCount nodes { id level startDate expiresAt publicSector \
           openings durationMonths rhythm description location { postcode address coordinates { latitude longitude } } \
           employer { siret siren naf size publicType opco { code name } } sources { partner partnerId url } } }",
        "{}",
        true,
    ),
    (
        // Arguments from variables, pages after a cursor, edges and where
        // a page stands.
        "formations(first: $n) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
           edges { cursor distanceKm node { id partnerId source title rncp level romeCodes rncpCodes \
             certifinfoCodes formacodes capacity vacancies hoursCentre hoursCompany \
             cfa { uai siret name } contact { name phone email web } \
             sessions { start end recruiting places vacancies } objective contents(format: HTML) } } } \
         second: formations(first: $n, after: $after) { nodes { id } } \
         offers(first: $n) { edges { cursor distanceKm node { id } } pageInfo { hasNextPage endCursor } } \
         events(from: $from, first: $n) { totalCount edges { cursor node { id partnerId title description \
           kind kindLabel status start end allDay recurring location } } pageInfo { endCursor } } \
         nextOpenDay(from: $from) { id kind } \
         mobility { total { mobilities participants days amount } byCountry { key figures { days } } \
           byCfa { key } byMonth { key figures { amount } } }",
        r#"{"n": 2, "after": "Zm9v", "from": "2026-12-01T00:00:00Z"}"#,
        true,
    ),
    (
        // A field the writer does not write: the engine answers the page.
        "uai formations(first: 2) { nodes { id places { city location { communeName } } } }",
        "{}",
        false,
    ),
];

/// The text of `body` between `prefix` and the end of its enclosing
/// objects: the answer's list as the gateway wrote it.
fn listed<'b>(body: &'b str, prefix: &str, closing: &str) -> &'b str {
    body.strip_prefix(prefix)
        .and_then(|b| b.strip_suffix(closing))
        .unwrap_or_else(|| panic!("{prefix}…{closing} in {body}"))
}

async fn raw(app: &TestApp, query: &str, variables: &Value) -> String {
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(r.status(), 200);
    r.text().await.expect("a body")
}

#[tokio::test]
async fn pages_written_in_one_pass_answer_the_engine_s_bytes() {
    let app = spawn_app_with(
        SMALL,
        "[limits]\nmax_page_size = 5000\n[limits.rate]\nanonymous_per_second = 100000\nburst = 100000\n",
    )
    .await;
    let uais = app
        .data("{ cfas(first: 5000) { nodes { uai } } }", json!({}))
        .await;
    let representations: Vec<Value> = uais["cfas"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| json!({ "__typename": "Cfa", "uai": n["uai"] }))
        .collect();
    assert!(representations.len() >= 20, "{uais}");
    // The cursor the second page of programmes starts after, taken from
    // the answers themselves.
    let cursor = app
        .data(
            "{ cfas(first: 1) { nodes { formations(first: 2) { pageInfo { endCursor } } } } }",
            json!({}),
        )
        .await;
    let after = cursor["cfas"]["nodes"][0]["formations"]["pageInfo"]["endCursor"].clone();
    for (selection, variables, written) in DOCUMENTS {
        let mut variables: Value = serde_json::from_str(variables).unwrap();
        if variables.get("after").is_some() {
            variables["after"] = after.clone();
        }
        let declared = "$n: Int, $after: String, $from: DateTime";
        let declared = if variables.as_object().unwrap().is_empty() {
            ""
        } else {
            declared
        };
        let fragments = format!(
            "fragment C on Cfa {{ {selection} }} \
             fragment Places on Cfa {{ location {{ communeName postcode }} }}"
        );
        let fragments = if selection.contains("...Places") {
            fragments
        } else {
            format!("fragment C on Cfa {{ {selection} }}")
        };
        let page_query = format!(
            "query Page{}{declared}{} {{ cfas(first: 5000) {{ nodes {{ ...C }} }} }} {fragments}",
            if declared.is_empty() { "" } else { "(" },
            if declared.is_empty() { "" } else { ")" },
        );
        let entities_query = format!(
            "query Entities($r: [_Any!]!{}{declared}) {{ _entities(representations: $r) {{ ... on Cfa {{ ...C }} }} }} {fragments}",
            if declared.is_empty() { "" } else { ", " },
        );
        // The counters are the process's, which the other tests running
        // meanwhile may move too: asked again until a request is seen
        // alone, answered by the one expected.
        let expected = if *written { (1.0, 0.0) } else { (0.0, 1.0) };
        let mut page = String::new();
        let mut seen = Vec::new();
        for _ in 0..8 {
            let before = (pages(&app, "writer").await, pages(&app, "engine").await);
            page = raw(&app, &page_query, &variables).await;
            let after = (pages(&app, "writer").await, pages(&app, "engine").await);
            seen.push((after.0 - before.0, after.1 - before.1));
            if seen.last() == Some(&expected) {
                break;
            }
        }
        assert_eq!(
            seen.last(),
            Some(&expected),
            "writer, engine: {seen:?} for {selection}"
        );
        let mut with_reps = variables.clone();
        with_reps["r"] = Value::Array(representations.clone());
        let entities = raw(&app, &entities_query, &with_reps).await;
        let page_list = listed(&page, r#"{"data":{"cfas":{"nodes":"#, "}}}");
        let entity_list = listed(&entities, r#"{"data":{"_entities":"#, "}}");
        assert_eq!(page_list, entity_list, "{selection}");
    }
}

/// How many pages `by` (the writer, the engine) answered so far.
async fn pages(app: &TestApp, by: &str) -> f64 {
    let text = app.metrics().await;
    let line = format!("passerelle_graphql_pages_total{{answered_by=\"{by}\"}} ");
    text.lines()
        .filter_map(|l| l.strip_prefix(&line)?.parse::<f64>().ok())
        .sum()
}
