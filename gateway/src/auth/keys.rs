//! The keys tokens are checked with: each key with the algorithms it
//! verifies, read from a JWK, and the choice of the one key a token's
//! header points at.

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// The signature algorithms of an RSA key.
const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// A key tokens may be signed with.
#[derive(Clone)]
pub(super) struct Key {
    /// Its identifier (`kid`), when it has one.
    pub kid: Option<String>,
    /// The algorithms it verifies. The key decides, never the token: an
    /// RSA public key is never taken for an HMAC secret.
    pub algorithms: Vec<Algorithm>,
    /// The key itself.
    pub key: DecodingKey,
}

impl Key {
    /// A key configured with its algorithm.
    pub fn fixed(kid: String, algorithm: Algorithm, key: DecodingKey) -> Self {
        Self {
            kid: Some(kid),
            algorithms: vec![algorithm],
            key,
        }
    }

    /// The key a JWK publishes, when it is a signature key this gateway
    /// can check tokens with.
    pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
        let algorithms = algorithms(jwk);
        if algorithms.is_empty() {
            return None;
        }
        Some(Self {
            kid: jwk.common.key_id.clone(),
            algorithms,
            key: DecodingKey::from_jwk(jwk).ok()?,
        })
    }

    /// Whether it verifies signatures of `algorithm`.
    pub fn verifies(&self, algorithm: Algorithm) -> bool {
        self.algorithms.contains(&algorithm)
    }
}

/// The algorithms a JWK's key verifies: those of its kind (RSA: RS* and
/// PS*; EC P-256: ES256; EC P-384: ES384; OKP Ed25519: EdDSA), narrowed to
/// its `alg` when it names one. None for symmetric keys, encryption keys,
/// curves the verifier lacks (P-521) and an `alg` of another kind.
fn algorithms(jwk: &Jwk) -> Vec<Algorithm> {
    let common = &jwk.common;
    if common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
        || common
            .key_operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return Vec::new();
    }
    let kind: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => RSA.to_vec(),
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => Vec::new(),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        // Symmetric keys are never taken from a published set.
        _ => Vec::new(),
    };
    match common.key_algorithm {
        None => kind,
        Some(named) => signature(named)
            .filter(|a| kind.contains(a))
            .into_iter()
            .collect(),
    }
}

/// The signature algorithm a JWK's `alg` names; none for encryption.
fn signature(named: KeyAlgorithm) -> Option<Algorithm> {
    Some(match named {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        KeyAlgorithm::RSA1_5 | KeyAlgorithm::RSA_OAEP | KeyAlgorithm::RSA_OAEP_256 => return None,
    })
}

/// The usable keys of a JWKS document, and how many of its entries were
/// left out (unknown kinds, encryption keys, malformed entries): one odd
/// key does not make the others unusable.
pub(super) fn parse_set(body: &[u8]) -> Result<(Vec<Key>, usize), serde_json::Error> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(body)?;
    let listed = set.keys.len();
    let keys: Vec<Key> = set
        .keys
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
        .filter_map(|jwk| Key::from_jwk(&jwk))
        .collect();
    let left_out = listed - keys.len();
    Ok((keys, left_out))
}

/// The key for a token, as its header points at it.
pub(super) enum Choice<'a> {
    /// This key, which verifies the token's algorithm.
    Key(&'a Key),
    /// No key has the token's `kid`; or, without one, none verifies its
    /// algorithm.
    Unknown,
    /// The key the `kid` names does not verify the token's algorithm.
    Algorithm,
    /// The token has no `kid` and several keys verify its algorithm.
    Ambiguous,
}

/// The key among `keys` for a token of `algorithm` naming `kid`. A token
/// without one is checked with the only key that verifies its algorithm.
pub(super) fn choose<'a>(
    keys: impl Iterator<Item = &'a Key> + Clone,
    kid: Option<&str>,
    algorithm: Algorithm,
) -> Choice<'a> {
    match kid {
        Some(kid) => {
            let mut named = keys.filter(|k| k.kid.as_deref() == Some(kid)).peekable();
            if named.peek().is_none() {
                return Choice::Unknown;
            }
            named
                .find(|k| k.verifies(algorithm))
                .map_or(Choice::Algorithm, Choice::Key)
        }
        None => {
            let mut usable = keys.filter(|k| k.verifies(algorithm));
            match (usable.next(), usable.next()) {
                (Some(key), None) => Choice::Key(key),
                (None, _) => Choice::Unknown,
                (Some(_), Some(_)) => Choice::Ambiguous,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RSA_N: &str = include_str!("testdata/rsa-test-key.n");

    fn rsa(extra: serde_json::Value) -> serde_json::Value {
        let mut jwk = json!({ "kty": "RSA", "kid": "r", "n": RSA_N.trim(), "e": "AQAB" });
        jwk.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        jwk
    }

    fn ec(crv: &str, extra: serde_json::Value) -> serde_json::Value {
        // Any coordinates parse: the key is only checked when used.
        let mut jwk = json!({ "kty": "EC", "kid": "e", "crv": crv, "x": "AAAA", "y": "AAAA" });
        jwk.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        jwk
    }

    fn algorithms_of(jwk: serde_json::Value) -> Vec<Algorithm> {
        let body = json!({ "keys": [jwk] }).to_string();
        let (keys, _) = parse_set(body.as_bytes()).unwrap();
        keys.first()
            .map(|k| k.algorithms.clone())
            .unwrap_or_default()
    }

    #[test]
    fn the_key_decides_the_algorithm() {
        assert_eq!(algorithms_of(rsa(json!({}))), RSA.to_vec());
        assert_eq!(
            algorithms_of(rsa(json!({ "alg": "RS384" }))),
            [Algorithm::RS384]
        );
        assert_eq!(algorithms_of(ec("P-256", json!({}))), [Algorithm::ES256]);
        assert_eq!(algorithms_of(ec("P-384", json!({}))), [Algorithm::ES384]);
        assert_eq!(
            algorithms_of(json!({ "kty": "OKP", "crv": "Ed25519", "x": "AAAA" })),
            [Algorithm::EdDSA]
        );
    }

    #[test]
    fn keys_that_cannot_sign_for_this_api_are_left_out() {
        for (name, jwk) in [
            ("an RSA key that says ES256", rsa(json!({ "alg": "ES256" }))),
            ("an RSA key that says HS256", rsa(json!({ "alg": "HS256" }))),
            ("an encryption key", rsa(json!({ "use": "enc" }))),
            ("an RSA-OAEP key", rsa(json!({ "alg": "RSA-OAEP" }))),
            (
                "a key only for encrypting",
                rsa(json!({ "key_ops": ["encrypt"] })),
            ),
            (
                "a P-256 key that says ES384",
                ec("P-256", json!({ "alg": "ES384" })),
            ),
            ("a P-521 key", ec("P-521", json!({}))),
            ("a secret", json!({ "kty": "oct", "k": "c2VjcmV0" })),
            (
                "an X25519 key",
                json!({ "kty": "OKP", "crv": "X25519", "x": "AAAA" }),
            ),
            ("an unknown kind", json!({ "kty": "PQC", "kid": "q" })),
        ] {
            assert_eq!(algorithms_of(jwk), [], "{name}");
        }
    }

    #[test]
    fn an_odd_key_leaves_the_others_usable() {
        let body = json!({ "keys": [
            { "kty": "EC", "crv": "P-521", "x": "AAAA", "y": "AAAA", "alg": "ES512" },
            rsa(json!({ "use": "sig" })),
        ] })
        .to_string();
        let (keys, left_out) = parse_set(body.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(left_out, 1);
        assert!(parse_set(b"{\"kys\": []}").is_err());
    }

    fn key(kid: Option<&str>, algorithm: Algorithm) -> Key {
        Key {
            kid: kid.map(str::to_owned),
            algorithms: vec![algorithm],
            key: DecodingKey::from_secret(b"unused"),
        }
    }

    fn kid_of(choice: Choice<'_>) -> Option<&str> {
        match choice {
            Choice::Key(k) => k.kid.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn a_token_without_kid_takes_the_only_key_for_its_algorithm() {
        let keys = [
            key(Some("rsa"), Algorithm::RS256),
            key(Some("ec"), Algorithm::ES256),
        ];
        assert_eq!(
            kid_of(choose(keys.iter(), None, Algorithm::ES256)),
            Some("ec")
        );
        assert!(matches!(
            choose(keys.iter(), None, Algorithm::ES384),
            Choice::Unknown
        ));
        let two = [
            key(Some("old"), Algorithm::ES256),
            key(Some("new"), Algorithm::ES256),
        ];
        assert!(matches!(
            choose(two.iter(), None, Algorithm::ES256),
            Choice::Ambiguous
        ));
    }

    #[test]
    fn a_kid_names_its_key_and_the_key_its_algorithm() {
        let keys = [
            key(Some("rsa"), Algorithm::RS256),
            key(Some("ec"), Algorithm::ES256),
        ];
        assert_eq!(
            kid_of(choose(keys.iter(), Some("rsa"), Algorithm::RS256)),
            Some("rsa")
        );
        assert!(matches!(
            choose(keys.iter(), Some("rsa"), Algorithm::ES256),
            Choice::Algorithm
        ));
        assert!(matches!(
            choose(keys.iter(), Some("gone"), Algorithm::RS256),
            Choice::Unknown
        ));
    }
}
