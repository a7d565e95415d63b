//! The examples of the README and of the book run: every GraphQL document
//! they show, in a ```graphql block or in a curl command's body, is
//! answered without an error by the gateway on the embedded defaults.

use serde_json::Value;

use crate::helpers::{spawn_app, SMALL};

const README: &str = include_str!("../../../README.md");

/// The documents of the README and of every chapter of the book.
fn documents() -> Vec<String> {
    let mut out = documents_of(README);
    for (_, chapter) in crate::book::chapters() {
        out.extend(documents_of(&chapter));
    }
    out
}

/// The documents of a Markdown text: its `graphql` blocks, and the `query`
/// of every JSON body a curl command sends with `-d '…'`.
fn documents_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```graphql\n") {
        let block = &rest[start + "```graphql\n".len()..];
        let end = block.find("```").expect("a closed block");
        out.push(block[..end].to_owned());
        rest = &block[end..];
    }
    let mut rest = text;
    while let Some(start) = rest.find("-d '") {
        let body = &rest[start + 4..];
        let end = body.find('\'').expect("a closed body");
        if let Ok(json) = serde_json::from_str::<Value>(&body[..end]) {
            if let Some(q) = json["query"].as_str() {
                out.push(q.to_owned());
            }
        }
        rest = &body[end..];
    }
    out
}

#[tokio::test]
async fn every_example_of_the_readme_and_the_book_runs() {
    let documents = documents();
    assert!(documents.len() >= 7, "{documents:?}");
    let app = spawn_app(SMALL).await;
    let token = app.token("region:bi", None, None);
    for doc in &documents {
        let (status, body) = app.post_as(Some(&token), doc, serde_json::json!({})).await;
        assert_eq!(status, 200, "{doc}\n{body}");
        assert!(body.get("errors").is_none(), "{doc}\n{body}");
        assert!(body["data"].is_object(), "{doc}\n{body}");
    }
}
