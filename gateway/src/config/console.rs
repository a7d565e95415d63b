//! `[console]`: the web console's pages and how a person signs in to it.

use super::load::yes;
use std::path::PathBuf;

use serde::Deserialize;

/// The web console at `/`: its pages, and how a person signs in to it
/// (OpenID Connect authorization code flow with PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Whether the console is served.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The identity provider's OpenID configuration
    /// (`https://idp.example/realms/region/.well-known/openid-configuration`).
    /// Unset in sandbox mode: the sandbox's own sign-in page then. Unset
    /// otherwise: the console shows its public pages only.
    #[serde(default)]
    pub discovery_url: Option<url::Url>,
    /// The console's client at the identity provider.
    #[serde(default = "default_console_client")]
    pub client_id: String,
    /// The client's secret, for a confidential client; none for a public
    /// one (PKCE alone).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Where browsers reach the gateway (`https://passerelle.region-normandie.fr`):
    /// the redirect URI is `/console/callback` under it, and cookies are
    /// `Secure` when it is HTTPS. Unset: taken from the request's `Host`.
    #[serde(default)]
    pub public_url: Option<url::Url>,
    /// The scopes asked of the identity provider.
    #[serde(default = "default_console_scopes")]
    pub scopes: Vec<String>,
    /// The API the console's access token is for, as a resource indicator
    /// (RFC 8707: `resource`, on the authorization and the token requests):
    /// what oidc-provider and Keycloak's resource-indicator support need to
    /// issue a JWT for the API rather than an opaque token. Usually
    /// `auth.audience`.
    #[serde(default)]
    pub resource: Option<String>,
    /// The API the console's access token is for, as Auth0 names it
    /// (`audience`, on the authorization request): without it Auth0 issues
    /// an opaque token.
    #[serde(default)]
    pub audience: Option<String>,
    /// A file holding the key (at least 32 bytes) that signs the cookie of
    /// a sign-in under way. Replicas behind one address must share it.
    /// Unset: `console-cookie.key` under `data_dir`, created on first use.
    #[serde(default)]
    pub cookie_key_file: Option<PathBuf>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            discovery_url: None,
            client_id: default_console_client(),
            client_secret: None,
            public_url: None,
            scopes: default_console_scopes(),
            resource: None,
            audience: None,
            cookie_key_file: None,
        }
    }
}

fn default_console_client() -> String {
    "passerelle-console".into()
}
fn default_console_scopes() -> Vec<String> {
    vec!["openid".into()]
}
