//! GraphiQL, the in-browser IDE a browser gets at `GET /graphql`: a static
//! page and its scripts, all embedded in the binary from
//! `gateway/graphiql` (pinned npm packages, see its README), so that
//! nothing is loaded from another origin and the page runs under a
//! Content-Security-Policy without inline script.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::console::{built, security_headers};

/// The page; its scripts and stylesheets are under [`PREFIX`].
const PAGE: &str = include_str!("../../graphiql/index.html");

/// Where the page's files are served.
pub const PREFIX: &str = "/graphiql";

/// GraphiQL's scripts and stylesheets, and the page's own.
#[derive(rust_embed::Embed)]
#[folder = "graphiql/assets"]
struct Assets;

/// The policy of GraphiQL's page: the console's, with the fonts GraphiQL's
/// stylesheet carries as `data:` URLs, and inline styles. GraphiQL's
/// dialogs (settings, shortcuts) lock scrolling by adding a `<style>`
/// element (react-remove-scroll), which its bundle gives no way to mark
/// with a nonce; scripts stay `'self'` only.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// GraphiQL's page, under its policy.
pub fn page() -> Response {
    let mut r = Html(PAGE).into_response();
    let h = r.headers_mut();
    security_headers(h, None);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The routes of GraphiQL's files.
pub fn routes() -> Router {
    Router::new()
        .route(&format!("{PREFIX}/{{file}}"), get(asset))
        .layer(tower_http::compression::CompressionLayer::new())
}

async fn asset(Path(file): Path<String>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    match Assets::get(&file) {
        Some(f) => built(f, false, &headers),
        None => crate::graphql::transports::not_found(headers, uri).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files the page names: its scripts and stylesheets.
    fn referenced() -> Vec<&'static str> {
        PAGE.split(['"', '\''])
            .filter(|s| s.starts_with('/'))
            .collect()
    }

    #[test]
    fn the_page_names_only_files_of_this_binary() {
        let files = referenced();
        assert!(files.len() >= 5, "{files:?}");
        for f in files {
            let name = f
                .strip_prefix(&format!("{PREFIX}/"))
                .unwrap_or_else(|| panic!("{f} is not under {PREFIX}"));
            assert!(Assets::get(name).is_some(), "{f} is not embedded");
        }
        assert!(!PAGE.contains("//"), "no other origin, no scheme");
        assert!(!PAGE.contains("<style"), "no inline style");
        for script in PAGE.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(tag.contains(" src=\"/graphiql/"), "inline script: {tag}");
        }
    }
}
