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
//! The sign-in's cookie is signed (see [`signed`]), the way back it keeps
//! is a path of this site (see [`back`]), and the site's address is
//! configured or the listen address, never a request's `Host` (see
//! [`origin`]). On HTTPS, both cookies are `__Host-` cookies: `Secure`,
//! `Path=/`, no `Domain`, so that a sibling subdomain cannot plant them.

mod back;
mod origin;
pub mod signed;

pub use origin::site_origin;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use cookie::{Cookie, SameSite};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::back::local_path;
use self::signed::CookieKey;
use crate::auth::{Caller, Validator};
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
        .route("/console/session", get(session))
        .route("/console/login", get(login))
        .route("/console/callback", get(callback))
        .route("/console/logout", post(logout))
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
        None => crate::graphql::http::not_found(headers.clone(), uri).await,
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
        _ => return crate::graphql::http::not_found(headers.clone(), uri).await,
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
        None => crate::graphql::http::not_found(headers.clone(), uri).await,
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

/// `GET /console/session`: the signed-in person's token and what it
/// grants, for the page to call the API with; 401 when nobody is signed
/// in (or the token no longer holds).
async fn session(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let signed_out = |clear: bool| {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "signedIn": false,
                "sandbox": c.sandbox,
                "signIn": c.signs_in(),
            })),
        )
            .into_response();
        if clear {
            let gone = c.cookie(c.session_cookie(), String::new(), "/", 0);
            set_cookie(&mut r, &gone);
        }
        no_store(r)
    };
    let Some(token) = cookie_value(&headers, c.session_cookie()) else {
        return signed_out(false);
    };
    let Ok(caller) = c.validator.validate(&token).await else {
        return signed_out(true);
    };
    let expires_at = expiry(&token)
        .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    no_store(
        Json(json!({
            "signedIn": true,
            "accessToken": token,
            "expiresAt": expires_at,
            "subject": caller.subject,
            "scopes": caller.scopes,
            "opco": caller.opco,
            "cfa": caller.cfa,
            "sandbox": c.sandbox,
            "signIn": true,
        }))
        .into_response(),
    )
}

/// The caller of a request that carries the console's session cookie
/// (named `cookie`, see [`session_cookie`]) and no `Authorization` header:
/// for the downloads a page links to.
pub async fn cookie_caller(
    validator: &Validator,
    headers: &HeaderMap,
    cookie: &str,
) -> Option<Caller> {
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let token = cookie_value(headers, cookie)?;
    validator.validate(&token).await.ok()
}

/// A sign-in under way, as its signed cookie keeps it.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    back: String,
    redirect_uri: String,
    /// When the sign-in expires (Unix seconds).
    expires: i64,
}

impl Pending {
    /// The cookie's value: the sign-in as JSON, signed.
    fn seal(&self, key: &CookieKey, name: &str) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        key.sign(
            name,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json),
        )
    }

    /// The sign-in a cookie's value keeps, when `key` signed it and it has
    /// not expired.
    fn open(value: &str, key: &CookieKey, name: &str) -> Option<Self> {
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key.verify(name, value)?)
            .ok()?;
        serde_json::from_slice::<Self>(&json)
            .ok()
            .filter(|p| p.expires > chrono::Utc::now().timestamp())
    }
}

/// The value of the `return` parameter of a query string; an unreadable
/// one is no value.
fn return_parameter(raw: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(raw?.as_bytes())
        .find(|(k, _)| k == "return")
        .map(|(_, v)| v.into_owned())
}

type Client = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

impl Console {
    fn client(&self, endpoints: &Endpoints, redirect_uri: &str) -> Result<Client, String> {
        let client = oauth2::basic::BasicClient::new(ClientId::new(self.config.client_id.clone()))
            .set_auth_uri(
                AuthUrl::new(endpoints.authorization_endpoint.clone())
                    .map_err(|e| e.to_string())?,
            )
            .set_token_uri(
                TokenUrl::new(endpoints.token_endpoint.clone()).map_err(|e| e.to_string())?,
            )
            .set_redirect_uri(
                RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| e.to_string())?,
            );
        Ok(match &self.config.client_secret {
            Some(s) => client.set_client_secret(ClientSecret::new(s.clone())),
            None => client,
        })
    }
}

/// `GET /console/login?return=/campagne`: off to the identity provider.
///
/// In the sandbox (no `public_url`), a browser that reached the gateway
/// under another name than its listen address (`localhost`) is first sent
/// to the same page at the listen address, where the identity provider
/// will send it back, so that the sign-in's cookie is found there.
async fn login(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let back = local_path(return_parameter(raw.as_deref()).as_deref());
    let again = raw
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "again"));
    if c.signs_in() && c.config.public_url.is_none() && !again && !c.reached_at_site(&headers) {
        return no_store(c.login_at_site(&back));
    }
    let endpoints = match c.endpoints().await {
        Some(Ok(e)) => e,
        None => {
            return message(
                StatusCode::NOT_FOUND,
                "Connexion indisponible",
                "Aucun fournisseur d'identité n'est configuré pour la console ([console] discovery_url).",
            )
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the identity provider's configuration is unreadable");
            return message(
                StatusCode::BAD_GATEWAY,
                "Connexion indisponible",
                "Le fournisseur d'identité ne répond pas. Réessayez dans un instant.",
            );
        }
    };
    let redirect_uri = format!("{}/console/callback", c.site);
    let client = match c.client(&endpoints, &redirect_uri) {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "the identity provider's endpoints are not URLs");
            return message(
                StatusCode::BAD_GATEWAY,
                "Connexion indisponible",
                "La configuration du fournisseur d'identité est invalide.",
            );
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for s in &c.config.scopes {
        request = request.add_scope(Scope::new(s.clone()));
    }
    let (url, state) = request.url();
    let Ok(location) = HeaderValue::from_str(url.as_str()) else {
        tracing::warn!("the identity provider's authorization endpoint is not a header's value");
        return message(
            StatusCode::BAD_GATEWAY,
            "Connexion indisponible",
            "La configuration du fournisseur d'identité est invalide.",
        );
    };
    let pending = Pending {
        state: state.secret().clone(),
        verifier: verifier.secret().clone(),
        back,
        redirect_uri,
        expires: chrono::Utc::now().timestamp() + LOGIN_TTL.as_secs() as i64,
    };
    // Lax: the identity provider sends the person back by a top-level
    // navigation from its own site.
    let mut cookie = c.cookie(
        c.login_cookie(),
        pending.seal(&c.key, c.login_cookie()),
        c.login_path(),
        LOGIN_TTL.as_secs() as i64,
    );
    cookie.set_same_site(SameSite::Lax);
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    set_cookie(&mut r, &cookie);
    no_store(r)
}

impl Console {
    /// Whether the request's `Host` is the site's.
    fn reached_at_site(&self, headers: &HeaderMap) -> bool {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        host.is_some_and(|h| {
            self.site
                .strip_prefix("http://")
                .or_else(|| self.site.strip_prefix("https://"))
                .is_some_and(|site| site.eq_ignore_ascii_case(h))
        })
    }

    /// The sign-in page at the site's own address, going back to `back`.
    fn login_at_site(&self, back: &str) -> Response {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return", back)
            .finish();
        let to = format!("{}/console/login?{query}&again", self.site);
        match HeaderValue::from_str(&to) {
            Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
            Err(_) => see_other("/"),
        }
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /console/callback`: the code exchanged for a token, the token
/// checked as the API checks it, and the person sent back where they were.
async fn callback(
    State(c): State<Arc<Console>>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let failed = |status: StatusCode, why: &str| {
        let mut r = message(status, "Connexion impossible", why);
        set_cookie(&mut r, &c.login_gone());
        r
    };
    // A cookie this gateway did not sign, or signed too long ago, is no
    // sign-in under way.
    let pending = cookie_value(&headers, c.login_cookie())
        .and_then(|v| Pending::open(&v, &c.key, c.login_cookie()));
    let Some(pending) = pending else {
        return failed(
            StatusCode::BAD_REQUEST,
            "La demande de connexion a expiré ou n'a pas été faite depuis ce navigateur. Recommencez.",
        );
    };
    if q.state.as_deref() != Some(pending.state.as_str()) {
        return failed(
            StatusCode::BAD_REQUEST,
            "La réponse du fournisseur d'identité ne correspond pas à la demande. Recommencez.",
        );
    }
    if let Some(error) = &q.error {
        let why = match error.as_str() {
            "access_denied" => "La connexion a été refusée.".to_owned(),
            e => format!(
                "Le fournisseur d'identité a refusé : {e}{}",
                q.error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        };
        return failed(StatusCode::FORBIDDEN, &why);
    }
    let Some(code) = q.code else {
        return failed(StatusCode::BAD_REQUEST, "La réponse ne porte pas de code.");
    };
    let Some(endpoints) = c.endpoints().await else {
        return failed(
            StatusCode::NOT_FOUND,
            "Aucun fournisseur d'identité n'est configuré.",
        );
    };
    let exchanged = async {
        let endpoints = endpoints?;
        let client = c.client(&endpoints, &pending.redirect_uri)?;
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&c.http)
            .await
            .map_err(|e| match e {
                oauth2::RequestTokenError::ServerResponse(r) => format!(
                    "{}{}",
                    r.error(),
                    r.error_description()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                e => e.to_string(),
            })
    }
    .await;
    let token = match exchanged {
        Ok(t) => t.access_token().secret().clone(),
        Err(e) => {
            tracing::warn!(error = %e, "a console sign-in's code exchange failed");
            return failed(
                StatusCode::BAD_GATEWAY,
                "Le fournisseur d'identité n'a pas délivré de jeton. Recommencez.",
            );
        }
    };
    if let Err(e) = c.validator.validate(&token).await {
        tracing::warn!(error = %e, "the identity provider's token is not one the API accepts");
        return failed(
            StatusCode::FORBIDDEN,
            "Le jeton délivré n'est pas accepté par l'API (émetteur, audience ou clé).",
        );
    }
    let ttl = expiry(&token).map_or(3600, |e| e - chrono::Utc::now().timestamp());
    let mut session = c.cookie(c.session_cookie(), token, "/", ttl);
    session.set_same_site(SameSite::Strict);
    // The way back is checked again: it is what the redirect will say.
    let mut r = see_other(&pending.back);
    set_cookie(&mut r, &session);
    set_cookie(&mut r, &c.login_gone());
    no_store(r)
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

/// `POST /console/logout`: the session forgotten; refused (403) to a
/// page of another site.
async fn logout(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Some(refused) = c.refuse_other_site(&headers) {
        return refused;
    }
    let gone = c.cookie(c.session_cookie(), String::new(), "/", 0);
    let mut r = see_other("/");
    set_cookie(&mut r, &gone);
    no_store(r)
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

    fn pending(expires: i64) -> Pending {
        Pending {
            state: "s".into(),
            verifier: "v".into(),
            back: "/campagne".into(),
            redirect_uri: "http://127.0.0.1:4000/console/callback".into(),
            expires,
        }
    }

    #[test]
    fn a_sign_in_cookie_opens_only_signed_by_this_key_under_its_name_and_in_time() {
        let key = CookieKey::from_bytes(&[1; 32]);
        let later = chrono::Utc::now().timestamp() + 60;
        let sealed = pending(later).seal(&key, "login");
        let opened = Pending::open(&sealed, &key, "login").expect("opens");
        assert_eq!(
            (opened.state.as_str(), opened.back.as_str()),
            ("s", "/campagne")
        );
        assert!(Pending::open(&sealed, &key, "session").is_none());
        assert!(Pending::open(&sealed, &CookieKey::from_bytes(&[2; 32]), "login").is_none());
        let (unsigned, _) = sealed.rsplit_once('.').unwrap();
        assert!(Pending::open(unsigned, &key, "login").is_none());
        let expired = pending(chrono::Utc::now().timestamp() - 1).seal(&key, "login");
        assert!(Pending::open(&expired, &key, "login").is_none());
    }

    #[test]
    fn the_redirect_after_signing_in_goes_to_a_path_of_this_site_only() {
        for (back, to) in [
            ("/campagne?annee=2026", "/campagne?annee=2026"),
            ("/\t/evil.example/", "/"),
            ("/\n/x", "/"),
            ("/\u{0}/x", "/"),
            ("//evil.example", "/"),
            ("/caf\u{e9}", "/"),
        ] {
            let r = see_other(back);
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            assert_eq!(r.headers()[header::LOCATION], to, "{back:?}");
        }
    }

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
