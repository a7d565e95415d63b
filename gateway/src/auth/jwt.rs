//! Checking bearer tokens: signature by a known key, an accepted
//! algorithm, issuer, audience, expiry and not-before with a small leeway.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Caller;

/// Why a token is refused. The messages say nothing of keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not a JWT.
    #[error("the bearer token is malformed")]
    Malformed,
    /// An algorithm outside the allow-list (`none`, `HS256`…).
    #[error("the bearer token's algorithm is not accepted")]
    Algorithm,
    /// Signed by a key the identity provider does not publish.
    #[error("the bearer token's signing key is unknown")]
    UnknownKey,
    /// Expired, or not valid yet.
    #[error("the bearer token has expired or is not valid yet")]
    Expired,
    /// The signature does not match.
    #[error("the bearer token's signature is invalid")]
    Signature,
    /// Issued by another issuer, or for another audience.
    #[error("the bearer token is not for this API")]
    WrongParty,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    opco: Option<String>,
    #[serde(default)]
    cfa: Option<String>,
    #[serde(default)]
    exp: Option<u64>,
}

/// Checks tokens against the identity provider's keys.
pub struct Validator {
    keys: RwLock<HashMap<String, (Algorithm, DecodingKey)>>,
    jwks_url: Option<url::Url>,
    http: reqwest::Client,
    issuer: String,
    audience: String,
    leeway: Duration,
    algorithms: Vec<Algorithm>,
}

impl Validator {
    /// A validator for tokens of `issuer` for `audience`, with these keys
    /// (kid → algorithm and key), and, when `jwks_url` is given, the keys
    /// published there, fetched again when a token names an unknown key.
    pub fn new(
        issuer: String,
        audience: String,
        leeway: Duration,
        algorithms: Vec<Algorithm>,
        keys: HashMap<String, (Algorithm, DecodingKey)>,
        jwks_url: Option<url::Url>,
    ) -> Self {
        Self {
            keys: RwLock::new(keys),
            jwks_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("the TLS backend initialises"),
            issuer,
            audience,
            leeway,
            algorithms,
        }
    }

    async fn refresh(&self) {
        let Some(url) = &self.jwks_url else { return };
        let fetched = async {
            self.http
                .get(url.clone())
                .send()
                .await?
                .error_for_status()?
                .json::<JwkSet>()
                .await
        };
        match fetched.await {
            Ok(set) => {
                let mut keys = self.keys.write().expect("keys lock");
                for jwk in &set.keys {
                    let (Some(kid), Ok(key)) =
                        (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
                    else {
                        continue;
                    };
                    let alg = match &jwk.algorithm {
                        jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => {
                            Algorithm::ES256
                        }
                        _ => Algorithm::RS256,
                    };
                    keys.insert(kid, (alg, key));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the identity provider's keys could not be fetched")
            }
        }
    }

    /// The caller a bearer token names, or why it is refused.
    pub async fn validate(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(AuthError::Algorithm);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let known = |kid: &str| {
            self.keys
                .read()
                .expect("keys lock")
                .get(kid)
                .map(|(a, k)| (*a, k.clone()))
        };
        let (alg, key) = match known(&kid) {
            Some(k) => k,
            None => {
                self.refresh().await;
                known(&kid).ok_or(AuthError::UnknownKey)?
            }
        };
        // The key decides the algorithm: a token may not pick another one
        // for a key (an RSA public key used as an HMAC secret).
        if alg != header.alg {
            return Err(AuthError::Algorithm);
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => AuthError::Expired,
                ErrorKind::InvalidIssuer
                | ErrorKind::InvalidAudience
                | ErrorKind::MissingRequiredClaim(_) => AuthError::WrongParty,
                ErrorKind::InvalidSignature => AuthError::Signature,
                _ => AuthError::Malformed,
            }
        })?;
        let c = data.claims;
        Ok(Caller {
            subject: c.sub,
            scopes: c
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            opco: c.opco,
            cfa: c.cfa,
            expires: c.exp.map(|exp| exp.saturating_add(self.leeway.as_secs())),
        })
    }
}
