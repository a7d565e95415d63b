//! The identity provider's keys, served over real HTTP: fetched at most
//! once per cooldown whatever keys tokens name, one fetch at a time, on the
//! schedule its `Cache-Control` sets within bounds, each fetch replacing
//! the set. Time moves on with tokio's clock paused, never by waiting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use passerelle::auth::{AuthError, JwksRefresh, KeyFetches, Validator};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longer than any wait in these tests, so that a broken test fails
/// rather than hangs.
const PATIENCE: Duration = Duration::from_secs(30);

/// A signing key of the identity provider.
struct Signer {
    kid: String,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    fn new(kid: &str) -> Self {
        let random = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
                .unwrap();
        let (x, y) = pair.public_key().as_ref()[1..].split_at(32);
        Self {
            kid: kid.to_owned(),
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({ "kty": "EC", "crv": "P-256", "use": "sig", "kid": kid, "x": B64.encode(x), "y": B64.encode(y) }),
        }
    }

    /// A token it signs naming `kid` (none: no `kid`), with `extra` header
    /// fields.
    fn sign_as(&self, kid: Option<&str>, extra: Value) -> String {
        let mut header = json!({ "alg": "ES256", "typ": "JWT" });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let now = chrono::Utc::now().timestamp();
        let claims = json!({ "iss": "idp", "aud": "passerelle", "sub": "s", "exp": now + 600 });
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, Algorithm::ES256).unwrap();
        format!("{input}.{signature}")
    }

    /// A token it signs, naming its key.
    fn token(&self) -> String {
        self.sign_as(Some(&self.kid), json!({}))
    }

    /// A token it signs, naming a key nobody publishes.
    fn stranger(&self) -> String {
        let mut kid = [0u8; 8];
        SystemRandom::new().fill(&mut kid).unwrap();
        self.sign_as(Some(&B64.encode(kid)), json!({}))
    }
}

/// What the provider answers at its JWKS URL.
#[derive(Clone)]
struct Published {
    keys: Vec<Value>,
    cache_control: Option<String>,
    status: u16,
}

struct Answer {
    published: Arc<Mutex<Published>>,
    asked: Arc<Notify>,
}

impl Respond for Answer {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.asked.notify_one();
        let p = self.published.lock().unwrap().clone();
        let answer = ResponseTemplate::new(p.status).set_body_json(json!({ "keys": p.keys }));
        match p.cache_control {
            Some(cc) => answer.insert_header("cache-control", cc.as_str()),
            None => answer,
        }
    }
}

/// The identity provider: its JWKS on a real HTTP server.
struct Provider {
    server: MockServer,
    published: Arc<Mutex<Published>>,
    /// Notified at each request.
    asked: Arc<Notify>,
}

impl Provider {
    async fn start(keys: &[&Signer], cache_control: Option<&str>) -> Self {
        let server = MockServer::start().await;
        let published = Arc::new(Mutex::new(Published {
            keys: keys.iter().map(|s| s.jwk.clone()).collect(),
            cache_control: cache_control.map(str::to_owned),
            status: 200,
        }));
        let asked = Arc::new(Notify::new());
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(Answer {
                published: published.clone(),
                asked: asked.clone(),
            })
            .mount(&server)
            .await;
        Self {
            server,
            published,
            asked,
        }
    }

    fn url(&self) -> url::Url {
        format!("{}/jwks", self.server.uri()).parse().unwrap()
    }

    /// Publishes these keys instead.
    fn publish(&self, keys: &[&Signer]) {
        self.published.lock().unwrap().keys = keys.iter().map(|s| s.jwk.clone()).collect();
    }

    /// Answers with this status from now on.
    fn answer(&self, status: u16) {
        self.published.lock().unwrap().status = status;
    }

    /// The requests it received.
    async fn fetches(&self) -> usize {
        self.server.received_requests().await.unwrap().len()
    }

    /// A validator of its tokens, with no key of its own.
    fn validator(&self, refresh: JwksRefresh) -> Arc<Validator> {
        Arc::new(
            Validator::new(
                "idp".into(),
                "passerelle".into(),
                Duration::from_secs(5),
                vec![Algorithm::ES256, Algorithm::RS256],
                Default::default(),
                Some(self.url()),
            )
            .with_refresh(refresh),
        )
    }
}

/// Moves the clock on by `by` at once: the timers due meanwhile fire.
async fn jump(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

/// What the validator's fetches did, once it made `count` of them.
async fn fetched(validator: &Validator, count: u64) -> KeyFetches {
    let mut fetches = validator.key_fetches().expect("a JWKS URL");
    let done = tokio::time::timeout(PATIENCE, fetches.wait_for(|f| f.count >= count))
        .await
        .unwrap_or_else(|_| panic!("no fetch number {count}"))
        .unwrap();
    *done
}

#[tokio::test]
async fn a_thousand_unknown_keys_fetch_the_set_once_per_cooldown() {
    let a = Signer::new("a");
    let provider = Provider::start(&[&a], None).await;
    // Longer than the test could ever take.
    let cooldown = Duration::from_secs(600);
    let v = provider.validator(JwksRefresh {
        cooldown,
        ..JwksRefresh::default()
    });
    for _ in 0..1000 {
        assert_eq!(v.validate(&a.stranger()).await, Err(AuthError::UnknownKey));
    }
    assert_eq!(provider.fetches().await, 1);
    assert!(v.validate(&a.token()).await.is_ok());

    jump(cooldown).await;
    for _ in 0..1000 {
        assert_eq!(v.validate(&a.stranger()).await, Err(AuthError::UnknownKey));
    }
    assert_eq!(provider.fetches().await, 2);
}

#[tokio::test]
async fn concurrent_unknown_keys_wait_for_one_fetch() {
    let a = Signer::new("a");
    let provider = Provider::start(&[&a], None).await;
    let v = provider.validator(JwksRefresh::default());
    // Nothing fetched yet: every token's key is unknown at first.
    let tokens: Vec<(bool, String)> = (0..100)
        .map(|i| match i % 2 {
            0 => (true, a.token()),
            _ => (false, a.stranger()),
        })
        .collect();
    let outcomes = futures::future::join_all(tokens.iter().map(|(_, t)| v.validate(t))).await;
    for ((published, _), outcome) in tokens.iter().zip(outcomes) {
        match published {
            true => assert!(outcome.is_ok(), "{outcome:?}"),
            false => assert_eq!(outcome, Err(AuthError::UnknownKey)),
        }
    }
    assert_eq!(provider.fetches().await, 1);
}

#[tokio::test]
async fn the_set_is_kept_as_long_as_its_max_age_says_within_bounds() {
    let a = Signer::new("a");
    for (cache_control, kept) in [
        (Some("public, max-age=120"), 120),
        (Some("max-age=1"), 60),
        (Some("no-store"), 60),
        (Some("max-age=86400, must-revalidate"), 3600),
        (None, 300),
    ] {
        let provider = Provider::start(&[&a], cache_control).await;
        let v = provider.validator(JwksRefresh::default());
        assert!(v.validate(&a.token()).await.is_ok());
        let fetches = fetched(&v, 1).await;
        assert!(!fetches.failed);
        assert_eq!(
            fetches.next_after,
            Duration::from_secs(kept),
            "{cache_control:?}"
        );
    }
}

#[tokio::test]
async fn a_withdrawn_key_is_refused_after_the_scheduled_fetch() {
    let (a, b) = (Signer::new("a"), Signer::new("b"));
    let provider = Provider::start(&[&a, &b], Some("max-age=120")).await;
    let v = provider.validator(JwksRefresh::default());
    let stop = CancellationToken::new();
    let refresher = tokio::spawn(v.refresher(stop.clone()).unwrap());
    // Fetched at start, before any token.
    fetched(&v, 1).await;
    assert!(v.validate(&a.token()).await.is_ok());
    assert!(v.validate(&b.token()).await.is_ok());

    provider.publish(&[&b]);
    jump(Duration::from_secs(121)).await;
    fetched(&v, 2).await;
    assert_eq!(v.validate(&a.token()).await, Err(AuthError::UnknownKey));
    assert!(v.validate(&b.token()).await.is_ok());
    // Refused without asking the provider again: it just answered.
    assert_eq!(provider.fetches().await, 2);

    stop.cancel();
    tokio::time::timeout(PATIENCE, refresher)
        .await
        .expect("the refresher stops with the gateway")
        .unwrap();
}

#[tokio::test]
async fn a_withdrawn_key_is_refused_as_soon_as_an_unknown_key_fetches_the_set() {
    let (a, b) = (Signer::new("a"), Signer::new("b"));
    let provider = Provider::start(&[&a], Some("max-age=3600")).await;
    let v = provider.validator(JwksRefresh::default());
    assert!(v.validate(&a.token()).await.is_ok());

    // The provider fails: the keys it published stay, and a token naming
    // another key is refused as unverifiable for now.
    provider.answer(500);
    jump(JwksRefresh::default().cooldown).await;
    assert_eq!(
        v.validate(&b.token()).await,
        Err(AuthError::KeysUnavailable)
    );
    assert!(fetched(&v, 2).await.failed);
    assert_eq!(
        v.validate(&b.token()).await,
        Err(AuthError::KeysUnavailable)
    );
    assert!(v.validate(&a.token()).await.is_ok());
    assert_eq!(provider.fetches().await, 2);

    // It rotates `a` out: the first token naming `b` after the cooldown
    // fetches the new set, which `a` is no longer in.
    provider.answer(200);
    provider.publish(&[&b]);
    jump(JwksRefresh::default().cooldown).await;
    assert!(v.validate(&b.token()).await.is_ok());
    assert_eq!(v.validate(&a.token()).await, Err(AuthError::UnknownKey));
    assert_eq!(provider.fetches().await, 3);
}

#[tokio::test]
async fn a_token_without_kid_needs_one_published_key_and_crit_is_refused() {
    let (a, b) = (Signer::new("a"), Signer::new("b"));
    let provider = Provider::start(&[&a], None).await;
    let v = provider.validator(JwksRefresh::default());
    let anonymous = a.sign_as(None, json!({}));
    assert!(v.validate(&anonymous).await.is_ok());

    let critical = a.sign_as(Some("a"), json!({ "crit": ["exp"], "exp": 0 }));
    assert_eq!(v.validate(&critical).await, Err(AuthError::CriticalHeader));

    provider.publish(&[&a, &b]);
    jump(JwksRefresh::default().cooldown).await;
    assert!(v.validate(&b.token()).await.is_ok());
    assert_eq!(v.validate(&anonymous).await, Err(AuthError::AmbiguousKey));
    assert_eq!(provider.fetches().await, 2);
}

#[tokio::test]
async fn the_refresher_needs_a_jwks_url_and_ends_with_its_validator() {
    let without = Arc::new(Validator::new(
        "idp".into(),
        "passerelle".into(),
        Duration::from_secs(5),
        vec![Algorithm::ES256],
        Default::default(),
        None,
    ));
    assert!(without.refresher(CancellationToken::new()).is_none());

    let a = Signer::new("a");
    let provider = Provider::start(&[&a], None).await;
    let v = provider.validator(JwksRefresh::default());
    let refresher = tokio::spawn(v.refresher(CancellationToken::new()).unwrap());
    fetched(&v, 1).await;
    drop(v);
    jump(JwksRefresh::default().default).await;
    tokio::time::timeout(PATIENCE, refresher)
        .await
        .expect("the refresher ends with its validator")
        .unwrap();
    assert_eq!(provider.fetches().await, 1);
}

#[tokio::test]
async fn a_gateway_with_a_jwks_url_fetches_the_keys_at_start() {
    let a = Signer::new("a");
    let provider = Provider::start(&[&a], None).await;
    let data = tempfile::tempdir().unwrap();
    let config = passerelle::config::Config::from_toml(&format!(
        r#"
        listen = "127.0.0.1:0"
        data_dir = "{}"
        [sandbox.data]
        cci_offers = 20
        cma_offers = 20
        shared_offers = 5
        [alerts]
        detect = false
        [auth]
        jwks_url = "{}"
        issuer = "idp"
        "#,
        data.path().display(),
        provider.url(),
    ))
    .unwrap();
    let app = passerelle::app::Application::build(config).await.unwrap();
    tokio::time::timeout(PATIENCE, provider.asked.notified())
        .await
        .expect("the keys are fetched at start, before any token");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, served)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
}
