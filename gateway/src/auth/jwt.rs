//! Checking bearer tokens: signature by a known key, an accepted
//! algorithm, issuer, audience, expiry and not-before with a small leeway.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::claims::ClaimMap;
use super::jwks::{Jwks, JwksRefresh, KeyFetches};
use super::keys::{choose, Choice, Key};
use super::Caller;

/// Why a token is refused. The messages say nothing of keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Not a JWT.
    #[error("the bearer token is malformed")]
    Malformed,
    /// An algorithm outside the allow-list (`none`, `HS256`…), or one its
    /// key does not verify.
    #[error("the bearer token's algorithm is not accepted")]
    Algorithm,
    /// Signed by a key the identity provider does not publish.
    #[error("the bearer token's signing key is unknown")]
    UnknownKey,
    /// Names no key, and several could have signed it.
    #[error("the bearer token does not name its signing key (kid)")]
    AmbiguousKey,
    /// Its header lists extensions (`crit`) that must be understood and
    /// are not (RFC 7515 §4.1.11).
    #[error("the bearer token requires header extensions this API does not support")]
    CriticalHeader,
    /// Expired, or not valid yet.
    #[error("the bearer token has expired or is not valid yet")]
    Expired,
    /// The signature does not match.
    #[error("the bearer token's signature is invalid")]
    Signature,
    /// Issued by another issuer, or for another audience.
    #[error("the bearer token is not for this API")]
    WrongParty,
    /// Its key is not among those known, and the identity provider's keys
    /// could not be fetched lately.
    #[error("the identity provider's keys are unavailable; retry later")]
    KeysUnavailable,
    /// Signed and for this API, but its claims do not read as `[auth.claims]`
    /// says (a scope claim of numbers, several CFAs).
    #[error("the bearer token's claims cannot be read: {0}")]
    Claims(String),
}

impl AuthError {
    /// Whether the refusal is the caller's doing (a forged, tampered,
    /// foreign or garbled token), so that it counts against the caller's
    /// failed authentications. An expired token (its signature did check:
    /// a client late to renew it) and the identity provider's keys being
    /// unavailable do not count.
    pub fn counts_against_caller(&self) -> bool {
        !matches!(
            self,
            Self::Expired | Self::KeysUnavailable | Self::Claims(_)
        )
    }
}

/// What the validator reads of a token's protected header.
#[derive(Deserialize)]
struct Protected {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A token's algorithm and key id, from its protected header. A token
/// listing critical extensions is refused: this API understands none.
fn protected_header(token: &str) -> Result<(Algorithm, Option<String>), AuthError> {
    let encoded = token.split('.').next().unwrap_or_default();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| AuthError::Malformed)?;
    let header: Protected = serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)?;
    if header.crit.is_some() {
        return Err(AuthError::CriticalHeader);
    }
    let alg = header
        .alg
        .parse::<Algorithm>()
        .map_err(|_| AuthError::Algorithm)?;
    Ok((alg, header.kid))
}

/// Checks tokens against the identity provider's keys.
pub struct Validator {
    /// Keys configured, kept whatever the identity provider publishes.
    fixed: Vec<Key>,
    /// The identity provider's published keys, when it has a JWKS URL.
    jwks: Option<Jwks>,
    issuer: String,
    audience: String,
    leeway: Duration,
    algorithms: Vec<Algorithm>,
    /// Where the claims say what the caller may do.
    claims: ClaimMap,
}

impl Validator {
    /// A validator for tokens of `issuer` for `audience`, with these keys
    /// (kid → algorithm and key), and, when `jwks_url` is given, the keys
    /// published there, fetched again as [`JwksRefresh::default`] says
    /// (see [`Validator::with_refresh`]).
    pub fn new(
        issuer: String,
        audience: String,
        leeway: Duration,
        algorithms: Vec<Algorithm>,
        keys: HashMap<String, (Algorithm, DecodingKey)>,
        jwks_url: Option<url::Url>,
    ) -> Self {
        Self {
            fixed: keys
                .into_iter()
                .map(|(kid, (alg, key))| Key::fixed(kid, alg, key))
                .collect(),
            jwks: jwks_url.map(|url| Jwks::new(url, JwksRefresh::default())),
            issuer,
            audience,
            leeway,
            algorithms,
            claims: ClaimMap::default(),
        }
    }

    /// The validator, reading scopes, OPCO and CFA where `claims` says.
    pub fn with_claims(mut self, claims: ClaimMap) -> Self {
        self.claims = claims;
        self
    }

    /// The validator, its published keys fetched again as `refresh` says.
    pub fn with_refresh(mut self, refresh: JwksRefresh) -> Self {
        if let Some(jwks) = &mut self.jwks {
            jwks.refresh = refresh;
        }
        self
    }

    /// The task that fetches the published keys when they are due (first
    /// at once), until `stop` is cancelled or the validator dropped; none
    /// without a JWKS URL.
    pub fn refresher(
        self: &Arc<Self>,
        stop: CancellationToken,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        self.jwks.as_ref()?;
        let validator = Arc::downgrade(self);
        Some(async move {
            loop {
                let due = match validator.upgrade() {
                    Some(v) => match &v.jwks {
                        Some(jwks) => jwks.due().await,
                        None => return,
                    },
                    None => return,
                };
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep_until(due) => {}
                }
                let Some(v) = validator.upgrade() else { return };
                let Some(jwks) = &v.jwks else { return };
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = jwks.refresh_when_due() => {}
                }
            }
        })
    }

    /// What the fetches of the published keys did so far, to watch; none
    /// without a JWKS URL.
    pub fn key_fetches(&self) -> Option<tokio::sync::watch::Receiver<KeyFetches>> {
        self.jwks.as_ref().map(Jwks::fetches)
    }

    /// The published keys, and the count of fetches when they were read.
    fn published(&self) -> (Arc<[Key]>, u64) {
        match &self.jwks {
            Some(jwks) => jwks.keys(),
            None => (Arc::from(Vec::new()), 0),
        }
    }

    /// The caller a bearer token names, or why it is refused.
    pub async fn validate(&self, token: &str) -> Result<Caller, AuthError> {
        let (alg, kid) = protected_header(token)?;
        if !self.algorithms.contains(&alg) {
            return Err(AuthError::Algorithm);
        }
        let kid = kid.as_deref();
        let (mut published, seen) = self.published();
        let mut current = true;
        let unknown = matches!(
            choose(self.fixed.iter().chain(published.iter()), kid, alg),
            Choice::Unknown
        );
        if let (true, Some(jwks)) = (unknown, &self.jwks) {
            // Maybe a key the provider published since: fetched at most
            // once per cooldown, and whatever it withdrew goes.
            current = jwks.refresh_for_unknown(seen).await;
            published = self.published().0;
        }
        // The key decides the algorithm: a token may not pick another one
        // for a key (an RSA public key used as an HMAC secret).
        let key = match choose(self.fixed.iter().chain(published.iter()), kid, alg) {
            Choice::Key(key) => key,
            Choice::Unknown if current => return Err(AuthError::UnknownKey),
            Choice::Unknown => return Err(AuthError::KeysUnavailable),
            Choice::Algorithm => return Err(AuthError::Algorithm),
            Choice::Ambiguous => return Err(AuthError::AmbiguousKey),
        };
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => {
                        AuthError::Expired
                    }
                    ErrorKind::InvalidIssuer
                    | ErrorKind::InvalidAudience
                    | ErrorKind::MissingRequiredClaim(_) => AuthError::WrongParty,
                    ErrorKind::InvalidSignature => AuthError::Signature,
                    _ => AuthError::Malformed,
                }
            })?;
        let c = data.claims;
        let unreadable = |e: super::claims::Unreadable| AuthError::Claims(e.0);
        Ok(Caller {
            subject: c.get("sub").and_then(Value::as_str).map(str::to_owned),
            scopes: self.claims.scopes(&c).map_err(unreadable)?,
            opco: self.claims.opco(&c).map_err(unreadable)?,
            cfa: self.claims.cfa(&c).map_err(unreadable)?,
            // A token is accepted through its `exp` second, plus the
            // leeway: refused from the next one on (checked a number by
            // the validation above).
            expires: c
                .get("exp")
                .and_then(Value::as_u64)
                .map(|exp| exp.saturating_add(self.leeway.as_secs()).saturating_add(1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::EncodingKey;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::{json, Value};

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    /// A key made for these tests only.
    const RSA_PEM: &[u8] = include_bytes!("testdata/rsa-test-key.pem");
    const RSA_N: &str = include_str!("testdata/rsa-test-key.n");

    /// A new P-256 key: to sign with, and its JWK.
    fn es256(kid: &str) -> (EncodingKey, Value) {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &SystemRandom::new(),
        )
        .unwrap();
        let (x, y) = pair.public_key().as_ref()[1..].split_at(32);
        let jwk = json!({ "kty": "EC", "crv": "P-256", "kid": kid, "x": B64.encode(x), "y": B64.encode(y) });
        (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
    }

    fn rsa(jwk: Value) -> (EncodingKey, Value) {
        let mut base = json!({ "kty": "RSA", "kid": "rsa", "n": RSA_N.trim(), "e": "AQAB" });
        base.as_object_mut()
            .unwrap()
            .extend(jwk.as_object().unwrap().clone());
        (EncodingKey::from_rsa_pem(RSA_PEM).unwrap(), base)
    }

    fn claims() -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({ "iss": "idp", "aud": "passerelle", "sub": "s", "scope": "region:bi", "exp": now + 600 })
    }

    /// A token with this header, signed by `key`.
    fn token(header: Value, key: &EncodingKey) -> String {
        let alg: Algorithm = header["alg"].as_str().unwrap().parse().unwrap();
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims().to_string())
        );
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
        format!("{input}.{signature}")
    }

    /// A validator of the keys these JWKs publish, accepting `algorithms`.
    fn validator(jwks: &[&Value], algorithms: &[Algorithm]) -> Validator {
        let mut v = Validator::new(
            "idp".into(),
            "passerelle".into(),
            Duration::from_secs(5),
            algorithms.to_vec(),
            HashMap::new(),
            None,
        );
        v.fixed = jwks
            .iter()
            .map(|j| Key::from_jwk(&serde_json::from_value((*j).clone()).unwrap()).unwrap())
            .collect();
        v
    }

    #[tokio::test]
    async fn a_token_listing_critical_extensions_is_refused() {
        let (key, jwk) = es256("k");
        let v = validator(&[&jwk], &[Algorithm::ES256]);
        let plain = token(json!({ "alg": "ES256", "kid": "k" }), &key);
        assert!(v.validate(&plain).await.is_ok());
        for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("exp")] {
            let t = token(
                json!({ "alg": "ES256", "kid": "k", "crit": crit, "exp": 1 }),
                &key,
            );
            assert_eq!(
                v.validate(&t).await,
                Err(AuthError::CriticalHeader),
                "{crit}"
            );
        }
    }

    #[tokio::test]
    async fn a_token_without_kid_is_checked_with_the_only_key_for_its_algorithm() {
        let (key, jwk) = es256("k");
        let (_, rsa_jwk) = rsa(json!({}));
        let anonymous = token(json!({ "alg": "ES256" }), &key);
        let allowed = [Algorithm::ES256, Algorithm::RS256];

        let one = validator(&[&jwk, &rsa_jwk], &allowed);
        let caller = one.validate(&anonymous).await.unwrap();
        assert_eq!(caller.subject.as_deref(), Some("s"));

        let (_, other) = es256("k2");
        let two = validator(&[&jwk, &other, &rsa_jwk], &allowed);
        assert_eq!(two.validate(&anonymous).await, Err(AuthError::AmbiguousKey));
        let none = validator(&[&rsa_jwk], &allowed);
        assert_eq!(none.validate(&anonymous).await, Err(AuthError::UnknownKey));
    }

    #[tokio::test]
    async fn an_rsa_key_verifies_the_allowed_rsa_algorithm_the_token_names() {
        let (key, jwk) = rsa(json!({}));
        let v = validator(&[&jwk], &[Algorithm::RS256, Algorithm::RS384]);
        for alg in ["RS256", "RS384"] {
            let t = token(json!({ "alg": alg, "kid": "rsa" }), &key);
            assert!(v.validate(&t).await.is_ok(), "{alg}");
        }
        let rs512 = token(json!({ "alg": "RS512", "kid": "rsa" }), &key);
        assert_eq!(v.validate(&rs512).await, Err(AuthError::Algorithm));

        // A key that says RS256 verifies nothing else.
        let (_, only) = rsa(json!({ "alg": "RS256" }));
        let v = validator(&[&only], &[Algorithm::RS256, Algorithm::RS384]);
        let rs384 = token(json!({ "alg": "RS384", "kid": "rsa" }), &key);
        assert_eq!(v.validate(&rs384).await, Err(AuthError::Algorithm));
    }

    #[tokio::test]
    async fn a_public_key_is_never_an_hmac_secret() {
        let (_, jwk) = rsa(json!({}));
        // Even were HS256 allowed, the RSA key does not verify it.
        let v = validator(&[&jwk], &[Algorithm::RS256, Algorithm::HS256]);
        let secret = EncodingKey::from_secret(RSA_N.trim().as_bytes());
        let forged = token(json!({ "alg": "HS256", "kid": "rsa" }), &secret);
        assert_eq!(v.validate(&forged).await, Err(AuthError::Algorithm));
        let anonymous = token(json!({ "alg": "HS256" }), &secret);
        assert_eq!(v.validate(&anonymous).await, Err(AuthError::UnknownKey));
        let none = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode("{}"));
        assert_eq!(v.validate(&none).await, Err(AuthError::Algorithm));
    }

    #[tokio::test]
    async fn ed25519_keys_verify_eddsa_and_p256_keys_es256() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": B64.encode(pair.public_key().as_ref()) });
        let key = EncodingKey::from_ed_der(pkcs8.as_ref());
        let v = validator(&[&jwk], &[Algorithm::EdDSA, Algorithm::ES256]);
        let t = token(json!({ "alg": "EdDSA", "kid": "ed" }), &key);
        assert!(v.validate(&t).await.is_ok());
        let (es_key, _) = es256("ed");
        let t = token(json!({ "alg": "ES256", "kid": "ed" }), &es_key);
        assert_eq!(v.validate(&t).await, Err(AuthError::Algorithm));
    }

    #[test]
    fn expired_tokens_and_unavailable_keys_do_not_count_against_the_caller() {
        assert!(!AuthError::Expired.counts_against_caller());
        assert!(!AuthError::KeysUnavailable.counts_against_caller());
        assert!(AuthError::Signature.counts_against_caller());
        assert!(AuthError::UnknownKey.counts_against_caller());
    }
}
