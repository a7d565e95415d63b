//! Signing in to the console: the session the page reads, the sign-in at
//! the identity provider (authorization code with PKCE, its state and
//! verifier in a signed cookie), the callback, and signing out.

use std::sync::Arc;

use axum::extract::{Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use cookie::SameSite;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::back::local_path;
use super::signed::CookieKey;
use super::{
    cookie_value, expiry, message, no_store, see_other, set_cookie, Console, Endpoints, LOGIN_TTL,
};
use crate::auth::{Caller, Validator};

/// `GET /console/session`: the signed-in person's token and what it
/// grants, for the page to call the API with; 401 when nobody is signed
/// in (or the token no longer holds).
pub(super) async fn session(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
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
pub(super) async fn login(
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
    // The API the token is for: without it some providers (oidc-provider,
    // Auth0) issue an opaque token the API cannot check.
    if let Some(resource) = &c.config.resource {
        request = request.add_extra_param("resource", resource.clone());
    }
    if let Some(audience) = &c.config.audience {
        request = request.add_extra_param("audience", audience.clone());
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
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /console/callback`: the code exchanged for a token, the token
/// checked as the API checks it, and the person sent back where they were.
pub(super) async fn callback(
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
        let mut exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        // RFC 8707 §2.2: the token asked for the resource it was granted for.
        if let Some(resource) = &c.config.resource {
            exchange = exchange.add_extra_param("resource", resource.clone());
        }
        exchange.request_async(&c.http).await.map_err(|e| match e {
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

/// `POST /console/logout`: the session forgotten; refused (403) to a
/// page of another site.
pub(super) async fn logout(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Some(refused) = c.refuse_other_site(&headers) {
        return refused;
    }
    let gone = c.cookie(c.session_cookie(), String::new(), "/", 0);
    let mut r = see_other("/");
    set_cookie(&mut r, &gone);
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
}
