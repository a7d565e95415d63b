//! GraphiQL at `GET /graphql` for a browser: a page and files served by
//! the gateway itself, under a Content-Security-Policy.

use crate::helpers::{spawn_app, spawn_app_with, SMALL};

/// The values of the `src` and `href` attributes of an HTML page.
fn references(html: &str) -> Vec<String> {
    html.split(" src=\"")
        .skip(1)
        .chain(html.split(" href=\"").skip(1))
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn graphiql_loads_only_files_of_the_gateway_under_a_policy() {
    let app = spawn_app(SMALL).await;
    let r = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(!html.contains("<style"), "{html}");
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(tag.contains(" src=\"/"), "an inline script: {tag}");
    }
    let files: Vec<String> = references(&html)
        .into_iter()
        .filter(|f| !f.starts_with("data:"))
        .collect();
    assert!(files.len() >= 5, "{files:?}");
    for f in &files {
        assert!(f.starts_with('/') && !f.starts_with("//"), "{f}");
        let r = app.client.get(app.url(f)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{f}");
        let expected = if f.ends_with(".js") {
            "text/javascript"
        } else if f.ends_with(".css") {
            "text/css"
        } else {
            panic!("{f}: neither a script nor a stylesheet")
        };
        assert_eq!(r.headers()["content-type"], expected, "{f}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{f}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{f}");
    }
    // GraphiQL itself, React and the script that starts them.
    for needed in [
        "/graphiql/graphiql.min.js",
        "/graphiql/react.production.min.js",
        "/graphiql/react-dom.production.min.js",
        "/graphiql/init.js",
    ] {
        assert!(files.iter().any(|f| f == needed), "{needed}: {files:?}");
    }
    let init = app
        .client
        .get(app.url("/graphiql/init.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("application/graphql-response+json"), "{init}");
}

#[tokio::test]
async fn graphiql_turned_off_serves_neither_its_page_nor_its_files() {
    let app = spawn_app_with(SMALL, "[api]\ngraphiql = false\n").await;
    let r = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        r.headers()
    );
    let r = app
        .client
        .get(app.url("/graphiql/graphiql.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
