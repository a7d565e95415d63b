//! The book at `/book/`: the documentation in `docs/src`, built by mdBook
//! into `docs/book` (committed, and checked by the test suite to be the
//! build of its sources) and embedded in the binary, so that the console's
//! and GraphiQL's help links answer wherever the gateway runs, with nothing
//! loaded from another origin.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::console::built;

/// Where the book is served.
pub const PREFIX: &str = "/book";

/// The built book.
#[derive(rust_embed::Embed)]
#[folder = "../docs/book"]
struct Built;

/// The book's policy: the console's, with the inline scripts and styles
/// mdBook's pages carry (the theme and the sidebar's state, set before the
/// page paints). The book holds no data and no form.
const POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The book's routes.
pub fn routes() -> Router {
    Router::new()
        .route(PREFIX, get(|| async { Redirect::permanent("/book/") }))
        .route(&format!("{PREFIX}/"), get(index))
        .route(&format!("{PREFIX}/{{*path}}"), get(page))
        .layer(tower_http::compression::CompressionLayer::new())
}

async fn index(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    serve("index.html", headers, uri).await
}

async fn page(Path(path): Path<String>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    // A folder is its index; nothing outside the book is named.
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path
    };
    serve(&path, headers, uri).await
}

async fn serve(path: &str, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let inside = path
        .split('/')
        .all(|segment| !segment.is_empty() && segment != ".." && segment != ".")
        && !path.contains('\\');
    match Built::get(path).filter(|_| inside) {
        Some(file) => {
            let mut r = built(file, false, &headers);
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            );
            r
        }
        None => crate::graphql::transports::not_found(headers, uri)
            .await
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_is_built_into_the_binary() {
        for page in [
            "index.html",
            "analysts/console.html",
            "portal/search-offers.html",
            "reference/graphql.html",
        ] {
            assert!(Built::get(page).is_some(), "{page} is not in docs/book");
        }
    }
}
