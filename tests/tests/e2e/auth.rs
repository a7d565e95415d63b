//! Bearer tokens: the attack set is refused with 401 and a code, and scopes
//! guard the fields that need them.

use base64::Engine;
use passerelle::auth::issuer::Issuer;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SMALL};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

async fn post_as(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    app.post_as(Some(token), query, json!({})).await
}

fn issuer(app: &TestApp) -> Issuer {
    Issuer::load_or_create(&app.data_dir, "passerelle-sandbox", "passerelle").unwrap()
}

fn claims(exp_in: i64, iss: &str, aud: &str, scope: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": iss, "aud": aud, "sub": "t", "scope": scope, "iat": now, "nbf": now - 10, "exp": now + exp_in })
}

const HEALTH: &str = "{ partners { id lastError { code } lastSync { outcome } } }";

#[tokio::test]
async fn the_jwt_attack_set_is_refused_with_401() {
    let app = spawn_app(SMALL).await;
    let issuer = issuer(&app);
    let good = issuer.sign(&claims(
        600,
        "passerelle-sandbox",
        "passerelle",
        "region:bi",
    ));
    let (status, _) = post_as(&app, &good, HEALTH).await;
    assert_eq!(status, 200);

    let parts: Vec<&str> = good.split('.').collect();
    let none = format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let hs256 = {
        let jwk = issuer.jwks();
        let public = jwk["keys"][0]["x"].as_str().unwrap().to_owned();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(issuer.kid().to_owned());
        jsonwebtoken::encode(
            &header,
            &claims(600, "passerelle-sandbox", "passerelle", "region:bi"),
            &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap()
    };
    let other_dir = tempfile::tempdir().unwrap();
    let stranger =
        Issuer::load_or_create(other_dir.path(), "passerelle-sandbox", "passerelle").unwrap();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(
            claims(
                600,
                "passerelle-sandbox",
                "passerelle",
                "region:bi allocations:write"
            )
            .to_string()
        ),
        parts[2]
    );
    for (name, token) in [
        ("alg none", none),
        ("HS256 signed with the public key", hs256),
        (
            "expired",
            issuer.sign(&claims(
                -3600,
                "passerelle-sandbox",
                "passerelle",
                "region:bi",
            )),
        ),
        (
            "wrong issuer",
            issuer.sign(&claims(
                600,
                "https://ailleurs.example",
                "passerelle",
                "region:bi",
            )),
        ),
        (
            "wrong audience",
            issuer.sign(&claims(600, "passerelle-sandbox", "autre-api", "region:bi")),
        ),
        (
            "unknown kid",
            stranger.sign(&claims(
                600,
                "passerelle-sandbox",
                "passerelle",
                "region:bi",
            )),
        ),
        ("tampered payload", tampered),
        ("malformed", "not.a.jwt".to_owned()),
    ] {
        let (status, body) = post_as(&app, &token, HEALTH).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{name}"
        );
        let text = body.to_string();
        assert!(
            !text.contains(issuer.jwks()["keys"][0]["x"].as_str().unwrap()),
            "{name}: key material in {text}"
        );
        assert!(body.get("data").is_none(), "{name}");
    }
}

#[tokio::test]
async fn partner_health_details_need_the_region_bi_scope() {
    let app = spawn_app(SMALL).await;
    let issuer = issuer(&app);
    // Anonymous: names and statuses, not the details.
    let (status, body) = app.post(HEALTH, json!({})).await;
    assert_eq!(status, 200);
    assert!(body["data"]["partners"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["id"].is_string()));
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["extensions"]["code"] == "FORBIDDEN"),
        "{body}"
    );
    let other = issuer.sign(&claims(
        600,
        "passerelle-sandbox",
        "passerelle",
        "allocations:write",
    ));
    let (_, body) = post_as(&app, &other, HEALTH).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let bi = issuer.sign(&claims(
        600,
        "passerelle-sandbox",
        "passerelle",
        "region:bi",
    ));
    let (_, body) = post_as(&app, &bi, HEALTH).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["partners"][1]["lastSync"]["outcome"],
        "updated"
    );
}
