//! The sandbox's token issuer: an ES256 key kept in the data directory, so
//! that `passerelle dev-token` and a sandbox gateway on the same directory
//! agree. A production configuration names the Région's identity provider
//! instead.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The file the key is kept in, under the data directory.
const KEY_FILE: &str = "sandbox-issuer-es256.pk8";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The sandbox's issuer of tokens.
pub struct Issuer {
    kid: String,
    encoding: EncodingKey,
    x: String,
    y: String,
    issuer: String,
    audience: String,
}

impl Issuer {
    /// The issuer whose key is in `data_dir`, created there the first time.
    pub fn load_or_create(data_dir: &Path, issuer: &str, audience: &str) -> std::io::Result<Self> {
        Self::open(data_dir, issuer, audience, true)
    }

    /// The issuer whose key a sandbox gateway keeps in `data_dir`; an error
    /// naming the file looked for when there is none (nothing is created:
    /// a token signed by a new key would be refused by every gateway).
    pub fn load(data_dir: &Path, issuer: &str, audience: &str) -> std::io::Result<Self> {
        Self::open(data_dir, issuer, audience, false).map_err(|e| {
            if e.kind() != std::io::ErrorKind::NotFound {
                return e;
            }
            let path = data_dir.join(KEY_FILE);
            let path = std::path::absolute(&path).unwrap_or(path);
            std::io::Error::new(
                e.kind(),
                format!(
                    "no sandbox issuer key at {}: start `passerelle serve` on this data \
                     directory first, or name the server's with --data-dir, --config or \
                     PASSERELLE_DATA_DIR",
                    path.display()
                ),
            )
        })
    }

    fn open(data_dir: &Path, issuer: &str, audience: &str, create: bool) -> std::io::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let pkcs8 = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)?;
                let doc = EcdsaKeyPair::generate_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &SystemRandom::new(),
                )
                .map_err(|_| std::io::Error::other("no key could be generated"))?;
                std::fs::write(&path, doc.as_ref())?;
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(e),
        };
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|_| std::io::Error::other(format!("{} is not an ES256 key", path.display())))?;
        let public = pair.public_key().as_ref();
        // An uncompressed point: 0x04, then x and y.
        let (x, y) = public[1..].split_at(32);
        Ok(Self {
            kid: hex::encode(&Sha256::digest(public)[..8]),
            encoding: EncodingKey::from_ec_der(&pkcs8),
            x: B64.encode(x),
            y: B64.encode(y),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// The key's identifier.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key to check its tokens with.
    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ec_components(&self.x, &self.y).expect("the key's own coordinates")
    }

    /// Its public key, as a JWKS.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": self.kid, "alg": "ES256", "use": "sig" }] })
    }

    /// The `iss` of its tokens.
    pub fn name(&self) -> &str {
        &self.issuer
    }

    /// Signs `claims` as they are.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("claims serialize")
    }

    /// A token for `scope` (space-separated scopes), valid `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        scope: &str,
        opco: Option<&str>,
        cfa: Option<&str>,
        ttl: Duration,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs() as i64,
        });
        if let Some(o) = opco {
            claims["opco"] = json!(o);
        }
        if let Some(c) = cfa {
            claims["cfa"] = json!(c);
        }
        self.sign(&claims)
    }
}
