//! The sandbox's identity provider: OpenID Connect discovery, an
//! authorization endpoint that is a sign-in page where a person picks the
//! scopes and claims of a development token, and a token endpoint that
//! checks the PKCE verifier. The console signs in to it exactly as it
//! signs in to the Région's identity provider, so that the sandbox runs
//! the same flow. Codes live a minute, in memory, and serve once. Its
//! endpoints are at the site's address (the console's `public_url`, else
//! the listen address), never at a request's `Host`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

use super::console::{escape, security_headers};
use crate::auth::issuer::Issuer;

/// How long a code may wait for its exchange.
const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a token issued here is valid.
const TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);
/// The scopes a person may pick, with what they allow.
const SCOPES: [(&str, &str); 3] = [
    (
        "region:bi",
        "Région : campagne de la taxe d'apprentissage, santé détaillée des partenaires",
    ),
    ("allocations:write", "OPCO : verser des allocations"),
    ("alerts:write", "Alertes sur les nouvelles offres"),
];

/// A code granted and not yet exchanged.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    subject: String,
    scope: String,
    opco: Option<String>,
    cfa: Option<String>,
}

/// The sandbox's identity provider.
pub struct Provider {
    issuer: Arc<Issuer>,
    /// The `iss` of its tokens.
    issuer_name: String,
    /// The origin its endpoints are at (`http://127.0.0.1:4000`).
    site: String,
    codes: moka::sync::Cache<String, Arc<Grant>>,
}

impl Provider {
    /// A provider at `site` (an origin), signing with `issuer`, whose
    /// tokens name `issuer_name`.
    pub fn new(issuer: Arc<Issuer>, issuer_name: String, site: String) -> Self {
        Self {
            issuer,
            issuer_name,
            site,
            codes: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CODE_TTL)
                .build(),
        }
    }
}

/// The provider's routes.
pub fn routes(provider: Arc<Provider>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/_sandbox/oidc/authorize", get(sign_in_page).post(sign_in))
        .route("/_sandbox/oidc/token", post(token))
        .with_state(provider)
}

async fn discovery(State(p): State<Arc<Provider>>) -> Response {
    let origin = &p.site;
    Json(json!({
        "issuer": p.issuer_name,
        "authorization_endpoint": format!("{origin}/_sandbox/oidc/authorize"),
        "token_endpoint": format!("{origin}/_sandbox/oidc/token"),
        "jwks_uri": format!("{origin}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": std::iter::once("openid").chain(SCOPES.iter().map(|(s, _)| *s)).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// What a client asks of the authorization endpoint.
#[derive(Debug, Deserialize)]
struct AuthorizeRequest {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// A request that can be answered: where to send the person back.
struct Checked {
    client_id: String,
    redirect_uri: url::Url,
    state: Option<String>,
    challenge: String,
    scope: String,
}

impl AuthorizeRequest {
    /// Checks the request as a provider does; what is wrong is shown to
    /// the person (an error that cannot go back to the client).
    fn check(&self) -> Result<Checked, &'static str> {
        let client_id = self
            .client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or("client_id manque.")?;
        let redirect_uri = self
            .redirect_uri
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none())
            .ok_or("redirect_uri manque ou n'est pas une adresse http(s).")?;
        if self.response_type.as_deref() != Some("code") {
            return Err("response_type doit valoir code.");
        }
        let challenge = self
            .code_challenge
            .clone()
            .filter(|c| (43..=128).contains(&c.len()))
            .ok_or("code_challenge (PKCE) manque ou n'a pas 43 à 128 caractères.")?;
        if self.code_challenge_method.as_deref() != Some("S256") {
            return Err("code_challenge_method doit valoir S256.");
        }
        Ok(Checked {
            client_id,
            redirect_uri,
            state: self.state.clone(),
            challenge,
            scope: self.scope.clone().unwrap_or_default(),
        })
    }
}

/// The page of a request that cannot be answered.
fn invalid_request(why: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Demande de connexion invalide",
        &format!("<p>{}</p>", escape(why)),
        None,
    )
}

async fn sign_in_page(Query(request): Query<AuthorizeRequest>) -> Response {
    let checked = match request.check() {
        Ok(c) => c,
        Err(why) => return invalid_request(why),
    };
    let asked: Vec<&str> = checked.scope.split_whitespace().collect();
    let hidden = [
        ("response_type", "code"),
        ("client_id", checked.client_id.as_str()),
        ("redirect_uri", checked.redirect_uri.as_str()),
        ("state", checked.state.as_deref().unwrap_or("")),
        ("scope", checked.scope.as_str()),
        ("code_challenge", checked.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(n, v)| format!(r#"<input type="hidden" name="{n}" value="{}">"#, escape(v)))
    .collect::<String>();
    let scopes = SCOPES
        .iter()
        .map(|(scope, what)| {
            let checked = if asked.contains(scope) { " checked" } else { "" };
            format!(
                r#"<li><label><input type="checkbox" name="grant" value="{scope}"{checked}> <code>{scope}</code> — {}</label></li>"#,
                escape(what)
            )
        })
        .collect::<String>();
    let opcos = passerelle_schema::reference::opcos()
        .iter()
        .map(|(code, name)| {
            format!(
                r#"<option value="{}">{} ({})</option>"#,
                escape(code),
                escape(name),
                escape(code)
            )
        })
        .collect::<String>();
    let body = format!(
        r#"<p>Bac à sable : cette page délivre des jetons de développement, signés par la clé du bac à sable. En production, la connexion passe par le fournisseur d'identité de la Région.</p>
<form method="post" action="/_sandbox/oidc/authorize">
{hidden}
<p><label for="subject">Identifiant</label><br><input id="subject" name="subject" required maxlength="200" value="analyste@region-normandie.fr" autocomplete="username"></p>
<fieldset><legend>Droits</legend><ul>{scopes}</ul></fieldset>
<p><label for="opco">OPCO représenté (claim <code>opco</code>)</label><br><select id="opco" name="opco"><option value="">Aucun</option>{opcos}</select></p>
<p><label for="cfa">CFA représenté (claim <code>cfa</code>, un UAI)</label><br><input id="cfa" name="cfa" maxlength="8" pattern="[0-9]{{7}}[A-Za-z]" placeholder="0141234A"></p>
<p class="actions"><button id="sign-in-submit" type="submit" name="decision" value="allow">Se connecter</button> <button type="submit" name="decision" value="deny" class="secondary">Refuser</button></p>
</form>"#
    );
    page(
        StatusCode::OK,
        "Connexion au bac à sable",
        &body,
        Some(&checked.redirect_uri),
    )
}

/// The sign-in form as posted.
#[derive(Debug, Deserialize)]
struct SignIn {
    #[serde(flatten)]
    request: AuthorizeRequest,
    subject: Option<String>,
    /// The scopes ticked, as the form encodes them: `grant=…&grant=…`,
    /// read from the body itself.
    #[serde(skip)]
    grants: Vec<String>,
    opco: Option<String>,
    cfa: Option<String>,
    decision: Option<String>,
}

async fn sign_in(State(p): State<Arc<Provider>>, body: axum::body::Bytes) -> Response {
    let Ok(mut form) = serde_urlencoded::from_bytes::<SignIn>(&body) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Demande de connexion invalide",
            "<p>Le formulaire est illisible.</p>",
            None,
        );
    };
    form.grants = url::form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "grant")
        .map(|(_, v)| v.into_owned())
        .collect();
    let checked = match form.request.check() {
        Ok(c) => c,
        Err(why) => return invalid_request(why),
    };
    let back = |params: &[(&str, &str)]| {
        let mut to = checked.redirect_uri.clone();
        {
            let mut q = to.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
            if let Some(s) = &checked.state {
                q.append_pair("state", s);
            }
        }
        Redirect::to(to.as_str()).into_response()
    };
    if form.decision.as_deref() == Some("deny") {
        return back(&[
            ("error", "access_denied"),
            ("error_description", "the person refused"),
        ]);
    }
    let invalid = |why: &str| {
        page(
            StatusCode::BAD_REQUEST,
            "Connexion refusée",
            &format!(
                "<p>{}</p><p>Revenez à la page précédente pour corriger.</p>",
                escape(why)
            ),
            None,
        )
    };
    let subject = form.subject.as_deref().map(str::trim).unwrap_or_default();
    if subject.is_empty() || subject.len() > 200 {
        return invalid("L'identifiant est obligatoire (200 caractères au plus).");
    }
    let mut scope: Vec<&str> = Vec::new();
    for g in &form.grants {
        match SCOPES.iter().find(|(s, _)| s == g) {
            Some((s, _)) if !scope.contains(s) => scope.push(s),
            Some(_) => {}
            None => return invalid(&format!("Droit inconnu : {g}")),
        }
    }
    let opco = match form
        .opco
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        None => None,
        Some(o) => match passerelle_schema::Opco::parse(o) {
            Ok(o) => Some(o.as_str().to_owned()),
            Err(e) => return invalid(&format!("OPCO : {e}")),
        },
    };
    let cfa = match form.cfa.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match passerelle_schema::Uai::parse(c) {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(e) => return invalid(&format!("UAI : {e}")),
        },
    };
    let code = oauth2::CsrfToken::new_random().secret().clone();
    p.codes.insert(
        code.clone(),
        Arc::new(Grant {
            client_id: checked.client_id.clone(),
            redirect_uri: checked.redirect_uri.to_string(),
            challenge: checked.challenge.clone(),
            subject: subject.to_owned(),
            scope: scope.join(" "),
            opco,
            cfa,
        }),
    );
    back(&[("code", &code)])
}

/// A token request, as a client posts it.
#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
}

async fn token(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Response {
    let refuse = |error: &str, why: &str| {
        let mut r = (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error, "error_description": why })),
        )
            .into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    };
    if request.grant_type.as_deref() != Some("authorization_code") {
        return refuse(
            "unsupported_grant_type",
            "only authorization_code is granted",
        );
    }
    let Some(grant) = request.code.as_deref().and_then(|c| p.codes.remove(c)) else {
        return refuse("invalid_grant", "the code is unknown, used or expired");
    };
    // A confidential client names itself in HTTP Basic authentication.
    let client_id = request.client_id.clone().or_else(|| basic_client(&headers));
    if client_id.as_deref() != Some(grant.client_id.as_str()) {
        return refuse("invalid_grant", "the code was granted to another client");
    }
    if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return refuse(
            "invalid_grant",
            "redirect_uri differs from the authorization's",
        );
    }
    let Some(verifier) = request.code_verifier.as_deref() else {
        return refuse("invalid_request", "code_verifier is missing");
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge {
        return refuse(
            "invalid_grant",
            "code_verifier does not match the challenge",
        );
    }
    let access = p.issuer.mint(
        &grant.subject,
        &grant.scope,
        grant.opco.as_deref(),
        grant.cfa.as_deref(),
        TOKEN_TTL,
    );
    let mut r = Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL.as_secs(),
        "scope": grant.scope,
    }))
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The client identifier of HTTP Basic client authentication.
fn basic_client(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let id = decoded.split(':').next()?;
    Some(
        url::form_urlencoded::parse(format!("i={id}").as_bytes())
            .next()?
            .1
            .into_owned(),
    )
}

/// A page of the provider, under the console's security headers; a form
/// may post back here and be redirected to `redirect`'s origin.
fn page(status: StatusCode, title: &str, body: &str, redirect: Option<&url::Url>) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Passerelle</title><link rel="stylesheet" href="/console/page.css"></head>
<body><main><h1>{title}</h1>
{body}
</main></body></html>"#,
        title = escape(title)
    );
    let form_action = redirect.map(|r| r.origin().ascii_serialization());
    let mut r = (status, Html(html)).into_response();
    security_headers(r.headers_mut(), form_action.as_deref());
    r
}
