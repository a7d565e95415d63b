//! `[auth]`: how callers' tokens are validated, where their claims are,
//! and how often the identity provider's keys are read.

use super::load::ConfigError;

use serde::Deserialize;

/// Where a token's claims carry scopes and the caller's OPCO and CFA
/// (`[auth.claims]`; read by `auth::claims`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClaimMap {
    /// The claims that carry scopes, each a name or a dotted path into
    /// nested objects (`resource_access.passerelle.roles`); each a
    /// space-separated string or an array of strings. The scopes of every
    /// claim present are granted.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Provider names of scopes or roles → Passerelle's scopes
    /// (`"passerelle-region-bi" = "region:bi"`). Names not listed are kept
    /// as they are.
    #[serde(default)]
    pub rename: std::collections::HashMap<String, String>,
    /// The claim naming the OPCO the caller acts for (a string or a
    /// number).
    #[serde(default = "default_opco")]
    pub opco: String,
    /// The claim naming the CFA the caller is (a UAI, or an array of one).
    #[serde(default = "default_cfa")]
    pub cfa: String,
}

fn default_scopes() -> Vec<String> {
    vec!["scope".into()]
}
fn default_opco() -> String {
    "opco".into()
}
fn default_cfa() -> String {
    "cfa".into()
}

impl Default for ClaimMap {
    fn default() -> Self {
        Self {
            scopes: default_scopes(),
            rename: std::collections::HashMap::new(),
            opco: default_opco(),
            cfa: default_cfa(),
        }
    }
}

/// How callers' JWT bearer tokens are checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The identity provider's JWKS. Unset in sandbox mode: the sandbox's
    /// own issuer (`passerelle dev-token`) signs the tokens then.
    #[serde(default)]
    pub jwks_url: Option<url::Url>,
    /// The issuer tokens must name (`iss`).
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// The audience tokens must name (`aud`).
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Clock skew tolerated on expiry and not-before.
    #[serde(default = "default_leeway", with = "humantime_serde")]
    pub leeway: std::time::Duration,
    /// Accepted signature algorithms.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// The least time between two fetches of the JWKS asked for by tokens
    /// naming a key not in it; such tokens are refused without fetching
    /// meanwhile.
    #[serde(default = "default_jwks_cooldown", with = "humantime_serde")]
    pub jwks_cooldown: std::time::Duration,
    /// The least time the JWKS is kept before fetching it again, whatever
    /// its `Cache-Control: max-age` says; also the wait after a failed fetch.
    #[serde(default = "default_jwks_refresh_min", with = "humantime_serde")]
    pub jwks_refresh_min: std::time::Duration,
    /// The most time the JWKS is kept before fetching it again: how late a
    /// key the identity provider withdraws may still be trusted.
    #[serde(default = "default_jwks_refresh_max", with = "humantime_serde")]
    pub jwks_refresh_max: std::time::Duration,
    /// How long the JWKS is kept when its answer has no `max-age`.
    #[serde(default = "default_jwks_refresh", with = "humantime_serde")]
    pub jwks_refresh_default: std::time::Duration,
    /// Which claims carry the caller's scopes (and under which names), its
    /// OPCO and its CFA: see the book's "Plug in the Région's identity
    /// provider" for Keycloak, Entra ID and Auth0.
    #[serde(default)]
    pub claims: ClaimMap,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwks_url: None,
            issuer: default_issuer(),
            audience: default_audience(),
            leeway: default_leeway(),
            algorithms: default_algorithms(),
            jwks_cooldown: default_jwks_cooldown(),
            jwks_refresh_min: default_jwks_refresh_min(),
            jwks_refresh_max: default_jwks_refresh_max(),
            jwks_refresh_default: default_jwks_refresh(),
            claims: ClaimMap::default(),
        }
    }
}

impl AuthConfig {
    /// When the JWKS is fetched again.
    pub fn jwks_refresh(&self) -> JwksRefresh {
        JwksRefresh {
            cooldown: self.jwks_cooldown,
            min: self.jwks_refresh_min,
            max: self.jwks_refresh_max,
            default: self.jwks_refresh_default,
        }
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let inconsistent = |path, reason: &str| {
            Err(ConfigError::Inconsistent {
                path,
                reason: reason.into(),
            })
        };
        if self.jwks_cooldown.is_zero() {
            return inconsistent(
                "auth.jwks_cooldown",
                "must be more than zero: every token naming an unknown key would fetch the JWKS",
            );
        }
        if self.jwks_refresh_min.is_zero() || self.jwks_refresh_min > self.jwks_refresh_max {
            return inconsistent(
                "auth.jwks_refresh_min",
                "must be more than zero and at most auth.jwks_refresh_max",
            );
        }
        if !(self.jwks_refresh_min..=self.jwks_refresh_max).contains(&self.jwks_refresh_default) {
            return inconsistent(
                "auth.jwks_refresh_default",
                "must be between auth.jwks_refresh_min and auth.jwks_refresh_max",
            );
        }
        Ok(())
    }
}

/// When the identity provider's keys are fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksRefresh {
    /// The least time between two fetches asked for by tokens naming a key
    /// not in the set. Within it, such tokens are refused without fetching.
    pub cooldown: std::time::Duration,
    /// The least time the keys are kept, whatever the provider's
    /// `Cache-Control` says (`max-age=0`, `no-store`), and the time before
    /// trying again after a failed fetch.
    pub min: std::time::Duration,
    /// The most time the keys are kept, however long the provider says they
    /// may be: how late a withdrawn key may still be trusted.
    pub max: std::time::Duration,
    /// How long the keys are kept when the provider does not say.
    pub default: std::time::Duration,
}

impl Default for JwksRefresh {
    fn default() -> Self {
        Self {
            // A key the provider signs with before publishing it is picked
            // up that late at most; tokens naming random keys cost the
            // provider two fetches a minute per replica at most.
            cooldown: std::time::Duration::from_secs(30),
            // A provider answering `max-age=0` is not asked more often.
            min: std::time::Duration::from_secs(60),
            // A withdrawn key is trusted an hour at most, whatever the
            // provider's `max-age` (Google's says about six).
            max: std::time::Duration::from_secs(3600),
            // When the provider says nothing (Keycloak), five minutes:
            // 288 small fetches a day per replica.
            default: std::time::Duration::from_secs(300),
        }
    }
}

// The defaults are the validator's own, and say why.
fn default_jwks_cooldown() -> std::time::Duration {
    JwksRefresh::default().cooldown
}
fn default_jwks_refresh_min() -> std::time::Duration {
    JwksRefresh::default().min
}
fn default_jwks_refresh_max() -> std::time::Duration {
    JwksRefresh::default().max
}
fn default_jwks_refresh() -> std::time::Duration {
    JwksRefresh::default().default
}
fn default_issuer() -> String {
    "passerelle-sandbox".into()
}
fn default_audience() -> String {
    "passerelle".into()
}
fn default_leeway() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}
fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}
