//! The Région's identity provider, played by a real one: oidc-provider (an
//! OpenID Certified provider, `tests/clients/provider.mjs`) issuing JWT
//! access tokens through resource indicators, with its claims laid out as
//! Keycloak, Entra ID and Auth0 lay them out. The API reads each layout as
//! `[auth.claims]` says, follows a key rotation, and the console signs a
//! person in through the provider's own pages, in Chromium.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::browser::{browser, Browser, DESKTOP};
use crate::helpers::{spawn_app_with, TestApp, SMALL};

/// The API the provider issues tokens for.
const AUDIENCE: &str = "https://passerelle.test/graphql";

/// oidc-provider, running until dropped.
struct Provider {
    issuer: String,
    client: reqwest::Client,
    _child: Child,
}

impl Provider {
    async fn start() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "oidc-provider is missing: run `npm ci` in tests/clients (tests/run.sh does)"
        );
        let mut child = Command::new("node")
            .args(["provider.mjs", "--audience", AUDIENCE])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the provider starts")
            .unwrap()
            .expect("the provider says where it listens");
        let said: Value = serde_json::from_str(&line).unwrap();
        // What it says later (its warnings) is read, so that its writes
        // never fail on a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            issuer: said["issuer"].as_str().unwrap().to_owned(),
            client: reqwest::Client::new(),
            _child: child,
        }
    }

    /// The gateway's configuration trusting this provider, its claims read
    /// as `claims` (TOML of `[auth.claims]`) says, and `extra`.
    fn config(&self, claims: &str, extra: &str) -> String {
        format!(
            "[auth]\njwks_url = \"{0}/jwks\"\nissuer = \"{0}\"\naudience = \"{AUDIENCE}\"\n\
             algorithms = [\"ES256\"]\njwks_cooldown = \"100ms\"\njwks_refresh_min = \"100ms\"\n\
             [auth.claims]\n{claims}\n{extra}",
            self.issuer
        )
    }

    /// An access token of the machine client of `layout`, asking `scope`.
    async fn token(&self, layout: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials"), ("resource", AUDIENCE)];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let answer: Value = self
            .client
            .post(format!("{}/token", self.issuer))
            .basic_auth(format!("machine-{layout}"), Some("secret-of-the-tests"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {answer}"))
            .to_owned()
    }

    /// Replaces the signing key: the old one is no longer published.
    async fn rotate(&self) {
        let r = self
            .client
            .post(format!("{}/_test/rotate", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
}

/// What a caller with `token` gets of a field needing `region:bi` and one
/// needing `alerts:write`: each field's error code, or `None` when
/// answered; and the HTTP status.
async fn granted(app: &TestApp, token: &str) -> (u16, Option<String>, Option<String>) {
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ taxCampaign(year: 2026) { year totals { allocations } } offerAlerts(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    let code_at = |field: &str| {
        body["errors"].as_array().and_then(|errors| {
            errors
                .iter()
                .find(|e| e["path"][0] == field)
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("?").to_owned())
        })
    };
    (status, code_at("taxCampaign"), code_at("offerAlerts"))
}

#[tokio::test]
async fn each_providers_claim_layout_grants_its_scopes_as_configured() {
    let provider = Provider::start().await;
    let cases = [
        ("standard", Some("region:bi alerts:write"), ""),
        (
            "keycloak",
            None,
            "scopes = [\"realm_access.roles\", \"resource_access.passerelle-api.roles\"]\n\
             [auth.claims.rename]\n\"passerelle-region-bi\" = \"region:bi\"\n\
             \"passerelle-alerts\" = \"alerts:write\"",
        ),
        (
            "entra",
            None,
            "scopes = [\"scp\", \"roles\"]\nopco = \"extension_opco\"\n\
             [auth.claims.rename]\n\"Alerts.Write\" = \"alerts:write\"",
        ),
        (
            "auth0",
            None,
            "scopes = [\"permissions\"]\ncfa = \"https://passerelle.region-normandie.fr/cfa\"",
        ),
    ];
    for (layout, scope, claims) in cases {
        let app = spawn_app_with(SMALL, &provider.config(claims, "")).await;
        let token = provider.token(layout, scope).await;
        assert_eq!(
            granted(&app, &token).await,
            (200, None, None),
            "{layout}: both scopes granted"
        );
        if scope.is_none() {
            // Read as `scope` alone, the same token grants nothing.
            let plain = spawn_app_with(SMALL, &provider.config("", "")).await;
            assert_eq!(
                granted(&plain, &token).await,
                (
                    200,
                    Some("FORBIDDEN".to_owned()),
                    Some("FORBIDDEN".to_owned())
                ),
                "{layout} without its claims map"
            );
        }
    }
}

#[tokio::test]
async fn a_rotated_key_is_followed_and_the_removed_one_refused() {
    let provider = Provider::start().await;
    let app = spawn_app_with(SMALL, &provider.config("", "")).await;
    let before = provider
        .token("standard", Some("region:bi alerts:write"))
        .await;
    assert_eq!(granted(&app, &before).await, (200, None, None));
    provider.rotate().await;
    let after = provider
        .token("standard", Some("region:bi alerts:write"))
        .await;
    // Past the cooldown between two fetches (100 ms here): the gateway's
    // first fetch of the keys may be more recent than that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A key the gateway has not seen: fetched, and the token accepted.
    assert_eq!(granted(&app, &after).await, (200, None, None));
    // The keys fetched no longer hold the old one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _, _) = granted(&app, &before).await;
    assert_eq!(status, 401, "a token of the removed key");
}

/// Signs in at the provider's own pages from the console's campaign page.
async fn sign_in(b: &Browser, app: &TestApp) {
    let login = b
        .to_sign_in(app, "/campagne?annee=2026", "campagne", "input[name=login]")
        .await;
    login.send_keys("analyste").await.unwrap();
    let password = b.wait_for("input[name=password]").await;
    password.send_keys("any").await.unwrap();
    b.click("button[type=submit]").await;
    // oidc-provider asks a person to confirm what a native client is
    // granted, every time.
    b.wait_for("input[name=prompt][value=consent]").await;
    b.click("button[type=submit]").await;
}

#[tokio::test]
async fn the_console_signs_a_person_in_at_the_provider_with_a_resource_indicator() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let provider = Provider::start().await;
    let console = |resource: bool| {
        format!(
            "[console]\ndiscovery_url = \"{}/.well-known/openid-configuration\"\n\
             client_id = \"passerelle-console\"\nscopes = [\"openid\", \"region:bi\"]\n{}",
            provider.issuer,
            if resource {
                format!("resource = \"{AUDIENCE}\"\n")
            } else {
                String::new()
            }
        )
    };
    // With the resource indicator, the token is a JWT for the API: signed
    // in, with the scope asked.
    let app = spawn_app_with(SMALL, &provider.config("", &console(true))).await;
    sign_in(&b, &app).await;
    b.ready("campagne").await;
    assert_eq!(b.text("#session-subject").await, "analyste");
    let session: Value = b
        .client
        .execute(
            "return fetch('/console/session').then((r) => r.json());",
            vec![],
        )
        .await
        .expect("the page runs scripts");
    assert_eq!(session["scopes"], json!(["region:bi"]), "{session}");

    // Without it, oidc-provider issues an opaque token, which the API
    // cannot check: the sign-in is refused, and says so.
    let opaque = spawn_app_with(SMALL, &provider.config("", &console(false))).await;
    // Cookies are a host's, whatever the port: the first session goes.
    b.client.delete_all_cookies().await.unwrap();
    sign_in(&b, &opaque).await;
    let mut page = String::new();
    for _ in 0..100 {
        page = b.text("body").await;
        if page.contains("pas accepté par l'API") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = b.client.current_url().await.unwrap();
    assert!(url.path().starts_with("/console/callback"), "{url}: {page}");
    assert!(page.contains("pas accepté par l'API"), "{page}");
}
