//! The web console at `/`: the pages built from `gateway/console` (embedded
//! in the binary from `gateway/console/dist`, which is committed), the
//! boundaries its map draws, and how a person signs in to it.
//!
//! Sign-in is the OpenID Connect authorization code flow with PKCE,
//! run by the gateway for the page (a backend for the front end): the
//! verifier and state wait in an `HttpOnly` cookie for the callback, and
//! the access token the identity provider returns, once the API's own
//! validator accepts it, is kept in an `HttpOnly`, `SameSite=Strict`
//! cookie. The page asks `/console/session` for it and holds it in memory
//! to call `/graphql` as any client does: it never sits in a URL or in
//! the browser's storage, and a replica needs no session of its own.
//!
//! The sign-in's routes are in [`sign_in`]. Its cookie is signed (see
//! [`signed`]), the way back it keeps is a path of this site (see
//! [`back`]), and the site's address is configured or the listen address,
//! never a request's `Host` (see [`origin`]). On HTTPS, both cookies are
//! `__Host-` cookies: `Secure`, `Path=/`, no `Domain`, so that a sibling
//! subdomain cannot plant them.

mod back;
mod origin;
mod sign_in;
pub mod signed;

pub use origin::site_origin;
pub use sign_in::cookie_caller;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use cookie::Cookie;
use serde::Deserialize;

use self::back::local_path;
use self::signed::CookieKey;
use crate::auth::Validator;
use crate::config::ConsoleConfig;

/// The cookie holding a signed-in person's access token, on HTTPS
/// (`secure`) and on HTTP.
pub fn session_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-passerelle_console"
    } else {
        "passerelle_console"
    }
}

/// The cookie holding a sign-in under way (state, verifier, where to go
/// back), signed, for the callback.
fn login_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-passerelle_console_login"
    } else {
        "passerelle_console_login"
    }
}

/// Whether cookies of a console at `public_url` are `Secure` (and
/// `__Host-`).
pub fn secure(public_url: Option<&url::Url>) -> bool {
    public_url.is_some_and(|u| u.scheme() == "https")
}

/// How long a sign-in may take at the identity provider.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// The paths the console's pages answer; the page routes itself.
pub const PAGES: [&str; 6] = [
    "/",
    "/campagne",
    "/offres",
    "/partenaires",
    "/mobilite",
    "/secteur-public",
];

/// The built console.
#[derive(rust_embed::Embed)]
#[folder = "console/dist"]
struct Built;

/// The boundaries the map draws (see `mappings/reference/README.md`).
#[derive(rust_embed::Embed)]
#[folder = "../mappings/reference"]
#[include = "normandie-*.geojson"]
struct Boundaries;

/// The console's settings and what its sign-in needs.
pub struct Console {
    config: ConsoleConfig,
    validator: Arc<Validator>,
    /// The site's origin: `public_url`'s, else the listen address's.
    site: String,
    /// Signs the cookie of a sign-in under way.
    key: Arc<CookieKey>,
    /// The endpoints of the sandbox's own identity provider, when people
    /// sign in to it: known here, never discovered.
    sandbox_endpoints: Option<Arc<Endpoints>>,
    /// Whether this is the sandbox.
    sandbox: bool,
    /// The identity providers' endpoints, by discovery URL.
    providers: moka::future::Cache<String, Arc<Endpoints>>,
    /// For discovery and the token exchange; never follows redirects.
    http: reqwest::Client,
}

/// Where the identity provider signs people in and issues tokens.
#[derive(Debug, Deserialize)]
struct Endpoints {
    authorization_endpoint: String,
    token_endpoint: String,
}

impl Console {
    /// The console of a gateway listening on `listen`, whose tokens
    /// `validator` checks and whose sign-in cookies `key` signs;
    /// `sandbox_provider` when the sandbox's identity provider is served.
    pub fn new(
        config: ConsoleConfig,
        validator: Arc<Validator>,
        sandbox: bool,
        sandbox_provider: bool,
        listen: std::net::SocketAddr,
        key: Arc<CookieKey>,
    ) -> Self {
        let site = site_origin(config.public_url.as_ref(), listen);
        // The browser goes to the sandbox's provider at the site; the
        // gateway exchanges codes with it on its own listen address.
        let sandbox_endpoints = (sandbox_provider && config.discovery_url.is_none()).then(|| {
            Arc::new(Endpoints {
                authorization_endpoint: format!("{site}/_sandbox/oidc/authorize"),
                token_endpoint: format!("{}/_sandbox/oidc/token", site_origin(None, listen)),
            })
        });
        Self {
            site,
            key,
            config,
            validator,
            sandbox,
            sandbox_endpoints,
            providers: moka::future::Cache::builder()
                .max_capacity(4)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("the HTTP client builds"),
        }
    }

    /// Whether a person can sign in: to the configured identity provider,
    /// or to the sandbox's own.
    fn signs_in(&self) -> bool {
        self.config.discovery_url.is_some() || self.sandbox_endpoints.is_some()
    }

    /// The identity provider's endpoints: the sandbox's, or those the
    /// configured provider's discovery document names; `None` when nobody
    /// can sign in.
    async fn endpoints(&self) -> Option<Result<Arc<Endpoints>, String>> {
        if let Some(e) = &self.sandbox_endpoints {
            return Some(Ok(e.clone()));
        }
        let discovery = self.config.discovery_url.as_ref()?.to_string();
        let http = self.http.clone();
        let found = self
            .providers
            .try_get_with(discovery.clone(), async move {
                let answer = http
                    .get(&discovery)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| format!("{discovery}: {e}"))?;
                answer
                    .json::<Endpoints>()
                    .await
                    .map(Arc::new)
                    .map_err(|e| format!("{discovery}: {e}"))
            })
            .await
            .map_err(|e| e.to_string());
        Some(found)
    }

    /// Whether cookies must be `Secure` (and are `__Host-` cookies).
    fn secure(&self) -> bool {
        secure(self.config.public_url.as_ref())
    }

    fn session_cookie(&self) -> &'static str {
        session_cookie(self.secure())
    }

    fn login_cookie(&self) -> &'static str {
        login_cookie(self.secure())
    }

    /// The path of the sign-in's cookie: the callback's, except that a
    /// `__Host-` cookie must have `/`.
    fn login_path(&self) -> &'static str {
        if self.secure() {
            "/"
        } else {
            "/console/callback"
        }
    }

    fn cookie(
        &self,
        name: &'static str,
        value: String,
        path: &'static str,
        max_age: i64,
    ) -> Cookie<'static> {
        let mut c = Cookie::new(name, value);
        c.set_http_only(true);
        c.set_secure(self.secure());
        c.set_path(path);
        c.set_max_age(cookie::time::Duration::seconds(max_age.max(0)));
        c
    }

    /// The sign-in's cookie, removed.
    fn login_gone(&self) -> Cookie<'static> {
        self.cookie(self.login_cookie(), String::new(), self.login_path(), 0)
    }

    /// `None` when a request that changes something may be served; else
    /// the refusal (403) of a request from another site.
    fn refuse_other_site(&self, headers: &HeaderMap) -> Option<Response> {
        let host_is_site = self.config.public_url.is_none();
        (!origin::same_site(headers, &self.site, host_is_site)).then(|| {
            message(
                StatusCode::FORBIDDEN,
                "Requête refusée",
                "Cette action ne peut venir que des pages de la console.",
            )
        })
    }
}

/// The console's routes.
pub fn routes(console: Arc<Console>) -> Router {
    let mut pages = Router::new();
    for path in PAGES {
        pages = pages.route(path, get(index));
    }
    pages
        .route("/assets/{*file}", get(asset))
        .route("/geo/{file}", get(boundaries))
        .route("/console/session", get(sign_in::session))
        .route("/console/login", get(sign_in::login))
        .route("/console/callback", get(sign_in::callback))
        .route("/console/logout", post(sign_in::logout))
        .route("/console/page.css", get(stylesheet))
        .with_state(console)
        .layer(tower_http::compression::CompressionLayer::new())
}

/// The headers every page of the console carries: a strict
/// Content-Security-Policy (no inline script or style, no framing),
/// no sniffing, no referrer. A form may also post to `form_action`.
pub fn security_headers(headers: &mut HeaderMap, form_action: Option<&str>) {
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'{}; frame-ancestors 'none'",
        form_action.map(|o| format!(" {o}")).unwrap_or_default()
    );
    let pairs = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).expect("the policy is ASCII"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ];
    for (name, value) in pairs {
        headers.insert(name, value);
    }
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A built file, with its type and caching: hashed assets are immutable,
/// the page itself is revalidated.
pub(super) fn built(
    file: rust_embed::EmbeddedFile,
    immutable: bool,
    headers: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = file.data.into_owned().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(file.metadata.mimetype())
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    security_headers(h, None);
    r
}

async fn index(headers: HeaderMap) -> Response {
    match Built::get("index.html") {
        Some(f) => built(f, false, &headers),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the console was not built into this binary (gateway/console/dist)\n",
        )
            .into_response(),
    }
}

async fn asset(Path(file): Path<String>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    match Built::get(&format!("assets/{file}")) {
        Some(f) => built(f, true, &headers),
        None => crate::graphql::transports::not_found(headers.clone(), uri).await,
    }
}

async fn boundaries(
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let name = match file.as_str() {
        "communes.geojson" => "normandie-communes.geojson",
        "departements.geojson" => "normandie-departements.geojson",
        _ => return crate::graphql::transports::not_found(headers.clone(), uri).await,
    };
    match Boundaries::get(name) {
        Some(f) => {
            let mut r = built(f, false, &headers);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/geo+json"),
            );
            r
        }
        None => crate::graphql::transports::not_found(headers.clone(), uri).await,
    }
}

/// The value of a cookie of the request.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// When a token expires (its `exp`), read from a token already validated.
fn expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()
}

/// Adds a `Set-Cookie` to a response; a value no header can carry is
/// not set.
fn set_cookie(r: &mut Response, cookie: &Cookie<'_>) {
    match HeaderValue::from_str(&cookie.to_string()) {
        Ok(v) => {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        Err(_) => tracing::warn!(cookie = cookie.name(), "a cookie's value is not a header's"),
    }
}

/// `303 See Other` to a path of this site, `/` when `path` is not one.
fn see_other(path: &str) -> Response {
    let back = local_path(Some(path));
    let location = HeaderValue::from_str(&back).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The stylesheet of the pages the gateway writes itself (sign-in,
/// messages).
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}

/// A short page saying what happened, with a way back.
fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Passerelle</title><link rel="stylesheet" href="/console/page.css"></head>
<body><main><h1>{title}</h1><p>{text}</p><p><a href="/">Retour à la console</a></p></main></body></html>"#,
        title = escape(title),
        text = escape(text)
    );
    let mut r = (status, Html(html)).into_response();
    security_headers(r.headers_mut(), None);
    no_store(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_host_cookies_on_https_only() {
        assert_eq!(session_cookie(true), "__Host-passerelle_console");
        assert_eq!(session_cookie(false), "passerelle_console");
        assert_eq!(login_cookie(true), "__Host-passerelle_console_login");
        let https = url::Url::parse("https://passerelle.example").unwrap();
        let http = url::Url::parse("http://passerelle.example").unwrap();
        assert!(secure(Some(&https)));
        assert!(!secure(Some(&http)) && !secure(None));
    }

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            escape(r#"<a href="x">l'été & co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;l&#39;été &amp; co&lt;/a&gt;"
        );
    }
}
