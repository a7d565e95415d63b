//! How Passerelle signs in to a declared partner: not at all, an API key
//! (a header or a query parameter), HTTP basic, a bearer token, or OAuth2
//! client credentials. Secrets are written inline, or read from a file or
//! an environment variable (see [`crate::http::secret`]).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::http::{ClientCredentials, TokenSource};
use crate::ConnectorError;

/// How Passerelle signs in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthDeclared {
    /// It does not.
    #[default]
    None,
    /// An API key, in a header or a query parameter.
    ApiKey {
        /// The header it goes in (`X-Api-Key`).
        #[serde(default)]
        header: Option<String>,
        /// The query parameter it goes in, instead.
        #[serde(default)]
        param: Option<String>,
        /// The key.
        #[serde(deserialize_with = "crate::http::secret::deserialize")]
        key: SecretString,
    },
    /// HTTP basic authentication.
    Basic {
        /// The user.
        username: String,
        /// Its password.
        #[serde(deserialize_with = "crate::http::secret::deserialize")]
        password: SecretString,
    },
    /// A bearer token given once for all.
    Bearer {
        /// The token.
        #[serde(deserialize_with = "crate::http::secret::deserialize")]
        token: SecretString,
    },
    /// OAuth2 client credentials: a token asked of the partner's
    /// authorisation server, renewed before it expires and once when
    /// refused.
    Oauth2 {
        /// The token endpoint.
        token_url: url::Url,
        /// Passerelle's client id at the partner.
        client_id: String,
        /// Its client secret.
        #[serde(deserialize_with = "crate::http::secret::deserialize")]
        client_secret: SecretString,
        /// The scopes to ask for.
        #[serde(default)]
        scopes: Vec<String>,
    },
}

impl AuthDeclared {
    /// Checks it; the error names the setting at fault.
    pub fn check(&self) -> Result<(), String> {
        if let AuthDeclared::ApiKey { header, param, .. } = self {
            match (header, param) {
                (Some(_), Some(_)) => return Err("api_key: `header` and `param` both given".into()),
                (None, None) => return Err("api_key: say its `header` or its `param`".into()),
                (Some(h), None)
                    if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() =>
                {
                    return Err(format!("header: {h:?} is not a header's name"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Signs requests as a declaration says.
pub(super) enum Signer {
    None,
    Header(reqwest::header::HeaderName, SecretString),
    Param(String, SecretString),
    Basic(String, SecretString),
    Bearer(SecretString),
    Oauth2(Box<TokenSource>),
}

impl Signer {
    pub(super) fn new(
        auth: &AuthDeclared,
        partner: passerelle_schema::Partner,
        http: &reqwest::Client,
    ) -> Self {
        match auth {
            AuthDeclared::None => Signer::None,
            AuthDeclared::ApiKey {
                header: Some(h),
                key,
                ..
            } => Signer::Header(
                reqwest::header::HeaderName::from_bytes(h.as_bytes())
                    .expect("a header's name (checked when read)"),
                key.clone(),
            ),
            AuthDeclared::ApiKey { param, key, .. } => {
                Signer::Param(param.clone().unwrap_or_default(), key.clone())
            }
            AuthDeclared::Basic { username, password } => {
                Signer::Basic(username.clone(), password.clone())
            }
            AuthDeclared::Bearer { token } => Signer::Bearer(token.clone()),
            AuthDeclared::Oauth2 {
                token_url,
                client_id,
                client_secret,
                scopes,
            } => {
                let credentials = ClientCredentials {
                    token_url: token_url.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    scopes: scopes.clone(),
                };
                Signer::Oauth2(Box::new(TokenSource::new(
                    partner,
                    &credentials,
                    http.clone(),
                )))
            }
        }
    }

    /// `request`, signed.
    pub(super) async fn sign(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        Ok(match self {
            Signer::None => request,
            Signer::Header(name, key) => request.header(name.clone(), key.expose_secret()),
            Signer::Param(name, key) => request.query(&[(name.as_str(), key.expose_secret())]),
            Signer::Basic(user, password) => {
                request.basic_auth(user, Some(password.expose_secret()))
            }
            Signer::Bearer(token) => request.bearer_auth(token.expose_secret()),
            Signer::Oauth2(tokens) => request.bearer_auth(tokens.token().await?.expose_secret()),
        })
    }

    /// After a 401: whether a new token may be asked and the request sent
    /// again.
    pub(super) async fn renew(&self) -> bool {
        match self {
            Signer::Oauth2(tokens) => {
                tokens.invalidate().await;
                true
            }
            _ => false,
        }
    }
}
