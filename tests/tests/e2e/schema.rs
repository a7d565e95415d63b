//! The served schema is the committed one; representative answers are
//! snapshots, so that a change of either is a visible diff.

use serde_json::json;

use crate::helpers::{spawn_app, SMALL};

const COMMITTED: &str = include_str!("../../../schema/passerelle.graphql");

const COMMITTED_SUBGRAPH: &str = include_str!("../../../schema/passerelle.subgraph.graphql");

/// Compares a served SDL with its committed file; with `UPDATE_SCHEMA`
/// set, writes the file instead.
fn same_as_committed(served: &str, committed: &str, file: &str) {
    if served != committed && std::env::var_os("UPDATE_SCHEMA").is_some() {
        let path = format!("{}/../schema/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(path, served).expect("the schema file is writable");
        return;
    }
    assert!(
        served == committed,
        "the served schema differs from schema/{file}; \
         if the change is intended, rerun with UPDATE_SCHEMA=1 and commit the file"
    );
}

/// The book's GraphQL reference, written from the committed SDL.
const REFERENCE: &str = include_str!("../../../docs/src/reference/graphql.md");

#[test]
fn the_book_s_reference_is_written_from_the_committed_schema() {
    let page =
        passerelle::graphql::reference::reference_markdown(COMMITTED).expect("the SDL parses");
    if page != REFERENCE && std::env::var_os("UPDATE_SCHEMA").is_some() {
        let path = format!(
            "{}/../docs/src/reference/graphql.md",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::write(path, &page).expect("the book is writable");
        return;
    }
    assert!(
        page == REFERENCE,
        "docs/src/reference/graphql.md is not the committed schema's; \
         rerun with UPDATE_SCHEMA=1 (or `passerelle schema --book`) and commit it"
    );
}

#[tokio::test]
async fn the_served_schema_is_the_committed_one() {
    let app = spawn_app(SMALL).await;
    same_as_committed(&app.sdl, COMMITTED, "passerelle.graphql");
}

#[tokio::test]
async fn the_served_subgraph_schema_is_the_committed_one() {
    let app = spawn_app(SMALL).await;
    let data = app.data("{ _service { sdl } }", json!({})).await;
    let served = data["_service"]["sdl"].as_str().expect("an SDL");
    same_as_committed(served, COMMITTED_SUBGRAPH, "passerelle.subgraph.graphql");
    // What `passerelle schema --subgraph` prints, from the shipped partners.
    assert_eq!(served, passerelle::graphql::federation_sdl());
}

#[tokio::test]
async fn a_page_of_offers_in_calvados_reads_as_recorded() {
    let app = spawn_app(SMALL).await;
    let data = app
        .data(
            r#"{ offers(first: 3, filter: { departement: "14" }) {
                totalCount
                pageInfo { hasNextPage hasPreviousPage endCursor }
                edges { cursor node {
                    id title description level openings status rhythm durationMonths startDate publishedAt expiresAt
                    romeCodes { code label }
                    employer { siret siren name size naf opco { code name } }
                    location { communeCode communeName postcode address departement { code name } coordinates { latitude longitude } }
                    sources { partner partnerId url }
                } }
            } }"#,
            json!({}),
        )
        .await;
    insta::assert_json_snapshot!(data);
}

#[tokio::test]
async fn a_merged_offer_reads_as_recorded() {
    let app = spawn_app(SMALL).await;
    let data = app
        .data(
            r#"{ offers(first: 1000, filter: { rome: ["D1102"] }) { nodes {
                id title level publishedAt startDate
                sources { partner partnerId url }
                employer { siret name naf opco { code } }
                location { communeCode postcode address }
            } } }"#,
            json!({}),
        )
        .await;
    let merged = data["offers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["sources"].as_array().unwrap().len() == 2)
        .expect("a baker's offer published on both exchanges");
    insta::assert_json_snapshot!(merged);
}

#[tokio::test]
async fn partners_read_as_recorded() {
    let app = spawn_app(SMALL).await;
    app.data("{ offers(first: 1) { totalCount } }", json!({}))
        .await;
    let data = app
        .data_bi(
            "{ partners { id name mode status recordCount lastSuccess lastError { code } lastSync { outcome records rejected rejections { index partnerId field reason } error } } }",
            json!({}),
        )
        .await;
    insta::assert_json_snapshot!(data, {
        ".partners[].lastSuccess" => "[timestamp]",
    });
}
