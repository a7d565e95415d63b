//! The web console's server side, over HTTP: its pages and their security
//! headers, the sign-in (authorization code with PKCE) at the sandbox's
//! identity provider and at another gateway's, the session the page reads,
//! the export a page links to; and the API fields the console reads.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{push_campaign, spawn_app, spawn_app_with, TestApp, SMALL};

/// A browser that does not follow redirects and keeps its cookies by hand.
struct Browser {
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let c = cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap();
            if c.max_age().is_some_and(|a| a.is_zero()) {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let r = self
            .client
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    async fn post_form(&mut self, url: &str, form: &[(String, String)]) -> reqwest::Response {
        let r = self
            .client
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }
}

fn location(r: &reqwest::Response) -> String {
    assert!(r.status().is_redirection(), "{}", r.status());
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The hidden fields of the sandbox's sign-in form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|s| {
            let name = s
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = s
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (
                name.to_owned(),
                value.replace("&amp;", "&").replace("&quot;", "\""),
            )
        })
        .collect()
}

/// Signs in at `console` through the identity provider it redirects to,
/// granting `scopes`; returns the callback's redirect.
async fn sign_in(browser: &mut Browser, console: &TestApp, scopes: &[&str]) -> String {
    let done = sign_in_from(
        browser,
        console,
        "/console/login?return=/campagne%3Fannee%3D2026",
        scopes,
    )
    .await;
    location(&done)
}

/// Signs in from `login` (a path of `console`), granting `scopes`;
/// returns the callback's answer.
async fn sign_in_from(
    browser: &mut Browser,
    console: &TestApp,
    login: &str,
    scopes: &[&str],
) -> reqwest::Response {
    let r = browser.get(&console.url(login)).await;
    let authorize = location(&r);
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(authorize.contains("code_challenge="), "{authorize}");
    let callback = approve(browser, &console.url(""), &authorize, scopes).await;
    assert!(
        callback.starts_with(&console.url("/console/callback?code=")),
        "{callback}"
    );
    browser.get(&callback).await
}

/// Signs in on the identity provider's page at `authorize`, granting
/// `scopes`, for the console at `console` (an origin); returns where the
/// provider sends the browser back.
async fn approve(browser: &mut Browser, console: &str, authorize: &str, scopes: &[&str]) -> String {
    let page = browser.get(authorize).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {console}")),
        "{csp}"
    );
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("subject".into(), "analyste@region-normandie.fr".into()));
    form.extend(scopes.iter().map(|s| ("grant".to_owned(), (*s).to_owned())));
    form.push(("decision".into(), "allow".into()));
    let action = authorize.split('?').next().unwrap().to_owned();
    let back = browser.post_form(&action, &form).await;
    location(&back)
}

#[tokio::test]
async fn a_person_signs_in_with_pkce_and_the_page_gets_a_token_in_memory_only() {
    let app = spawn_app(SMALL).await;
    push_campaign(&app, 300, 40).await;
    let mut browser = Browser::new();

    // Nobody signed in yet.
    let r = browser.get(&app.url("/console/session")).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "signedIn": false, "sandbox": true, "signIn": true })
    );

    let back = sign_in(&mut browser, &app, &["region:bi"]).await;
    assert_eq!(back, "/campagne?annee=2026");
    assert!(!browser.cookies.contains_key("passerelle_console_login"));

    let r = browser.get(&app.url("/console/session")).await;
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["subject"], "analyste@region-normandie.fr");
    assert_eq!(session["scopes"], json!(["region:bi"]));
    let token = session["accessToken"].as_str().unwrap();
    let (_, body) = app
        .post_as(
            Some(token),
            "{ taxCampaign(year: 2026) { totals { allocations } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["taxCampaign"]["totals"]["allocations"], 300,
        "{body}"
    );

    // The export a page links to takes the session cookie.
    let export = browser.get(&app.url("/export/tax-campaign/2026.csv")).await;
    assert_eq!(export.status(), 200);
    assert_eq!(export.text().await.unwrap().lines().count(), 301);
    // Nothing that changes data does.
    let upload = browser
        .client
        .post(app.url("/ingest/allocations?campaign=2026"))
        .header("cookie", browser.cookie_header())
        .header("content-type", "text/csv")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 401);

    // Signing out forgets the session.
    let out = browser.post_form(&app.url("/console/logout"), &[]).await;
    assert_eq!(location(&out), "/");
    assert_eq!(
        browser.get(&app.url("/console/session")).await.status(),
        401
    );
    assert_eq!(
        browser
            .get(&app.url("/export/tax-campaign/2026.csv"))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn the_sandbox_provider_refuses_what_a_provider_must() {
    let app = spawn_app(SMALL).await;
    let mut browser = Browser::new();
    let r = browser.get(&app.url("/console/login")).await;
    let authorize = location(&r);

    // Without PKCE, or with a plain challenge, there is no sign-in page.
    let plain = authorize.replace("code_challenge_method=S256", "code_challenge_method=plain");
    assert_eq!(browser.get(&plain).await.status(), 400);
    let without: String = authorize
        .split('&')
        .filter(|p| !p.starts_with("code_challenge="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(browser.get(&without).await.status(), 400);

    // A code is exchanged once, with its verifier only.
    let page = browser.get(&authorize).await.text().await.unwrap();
    let mut form = hidden_fields(&page);
    let redirect_uri = form
        .iter()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .clone();
    form.push(("subject".into(), "x".into()));
    form.push(("grant".into(), "region:bi".into()));
    let action = authorize.split('?').next().unwrap().to_owned();
    let back = location(&browser.post_form(&action, &form).await);
    let code = back
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let exchange = |verifier: &str| {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", "passerelle-console"),
            ("code_verifier", verifier),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let client = browser.client.clone();
        let url = app.url("/_sandbox/oidc/token");
        async move {
            let r = client.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = exchange("a-verifier-that-is-not-the-one-of-this-challenge-at-all").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // The wrong verifier spent the code, as a provider does on a failed
    // exchange.
    let (status, body) = exchange("again").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // An unknown scope or a bad UAI is refused on the form.
    let mut bad = hidden_fields(&page);
    bad.push(("subject".into(), "x".into()));
    bad.push(("grant".into(), "everything".into()));
    assert_eq!(browser.post_form(&action, &bad).await.status(), 400);
    let mut bad = hidden_fields(&page);
    bad.push(("subject".into(), "x".into()));
    bad.push(("cfa".into(), "0141234Z".into()));
    assert_eq!(browser.post_form(&action, &bad).await.status(), 400);

    // Refusing goes back to the console, which says so.
    let mut deny = hidden_fields(&page);
    deny.push(("subject".into(), "x".into()));
    deny.push(("decision".into(), "deny".into()));
    let back = location(&browser.post_form(&action, &deny).await);
    assert!(back.contains("error=access_denied"), "{back}");
    let r = browser.get(&back).await;
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("La connexion a été refusée."));

    // A callback without its sign-in under way is refused.
    let mut stranger = Browser::new();
    let r = stranger
        .get(&app.url("/console/callback?code=x&state=y"))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_console_signs_in_at_the_identity_provider_it_is_configured_with() {
    // One gateway is the identity provider (its sandbox's), the other
    // trusts its keys and sends people to it, as production trusts the
    // Région's provider.
    let provider = spawn_app(SMALL).await;
    let console = spawn_app_with(
        SMALL,
        &format!(
            r#"
            [auth]
            jwks_url = "{}"
            [console]
            discovery_url = "{}"
            scopes = ["openid", "region:bi"]
            "#,
            provider.url("/.well-known/jwks.json"),
            provider.url("/.well-known/openid-configuration"),
        ),
    )
    .await;
    let mut browser = Browser::new();
    let r = browser.get(&console.url("/console/login")).await;
    let authorize = location(&r);
    assert!(
        authorize.starts_with(&provider.url("/_sandbox/oidc/authorize?")),
        "{authorize}"
    );
    assert!(
        authorize.contains("scope=openid+region%3Abi"),
        "{authorize}"
    );
    // The console has no provider of its own.
    assert_eq!(
        browser
            .get(&console.url("/_sandbox/oidc/authorize"))
            .await
            .status(),
        404
    );
    let back = sign_in(&mut browser, &console, &["region:bi"]).await;
    assert_eq!(back, "/campagne?annee=2026");
    let session: Value = browser
        .get(&console.url("/console/session"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["signedIn"], true, "{session}");
    let (_, body) = console
        .post_as(
            session["accessToken"].as_str(),
            "{ partners { id lastSync { outcome } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn the_pages_are_served_under_a_strict_policy() {
    let app = spawn_app(SMALL).await;
    // Not decompressing, to see what is sent.
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let mut assets = Vec::new();
    for path in [
        "/",
        "/campagne",
        "/offres",
        "/partenaires",
        "/mobilite",
        "/secteur-public",
    ] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert_eq!(h["content-type"], "text/html", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"fr\""), "{html}");
        // No inline script: every script is a file of the site.
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(tag.contains("src=\"/assets/"), "{tag}");
        }
        assets.extend(
            html.split(['"', '\''])
                .filter(|s| s.starts_with("/assets/"))
                .map(str::to_owned),
        );
    }
    assets.sort();
    assets.dedup();
    assert!(!assets.is_empty());
    for a in &assets {
        let r = client
            .get(app.url(a))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{a}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(r.headers()["content-encoding"], "gzip", "{a}");
    }
    for (path, features) in [
        ("/geo/departements.geojson", 5),
        (
            "/geo/communes.geojson",
            passerelle_schema::reference::communes().len(),
        ),
    ] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let etag = r.headers()["etag"].clone();
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(
            body["features"].as_array().unwrap().len(),
            features,
            "{path}"
        );
        let again = client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
    let r = client
        .get(app.url("/assets/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn establishments_are_found_by_name_or_by_the_beginning_of_their_uai() {
    let app = spawn_app(SMALL).await;
    push_campaign(&app, 2_000, 200).await;
    let page = |search: &str| {
        let app = &app;
        let search = search.to_owned();
        async move {
            app.data_bi(
                "query($s: String) { taxCampaign(year: 2026) { establishments(first: 1000, search: $s) {
                    totalCount nodes { uai name } } } }",
                json!({ "s": search }),
            )
            .await["taxCampaign"]["establishments"]
                .clone()
        }
    };
    let all = page("").await;
    let nodes = all["nodes"].as_array().unwrap().clone();
    assert_eq!(all["totalCount"], nodes.len());
    let named = nodes.iter().find(|n| n["name"].is_string()).unwrap();
    let name = named["name"].as_str().unwrap();
    // A word of its name, in another case and without accents.
    let word = name.split_whitespace().max_by_key(|w| w.len()).unwrap();
    let folded = passerelle_schema::reference::fold_name(word).to_uppercase();
    let found = page(&folded).await;
    let expected: Vec<&Value> = nodes
        .iter()
        .filter(|n| {
            n["name"].as_str().is_some_and(|m| {
                passerelle_schema::reference::fold_name(m)
                    .contains(&passerelle_schema::reference::fold_name(word))
            }) || n["uai"].as_str().unwrap().starts_with(&folded)
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(found["totalCount"], expected.len(), "{folded}: {found}");
    // The beginning of a UAI.
    let uai = named["uai"].as_str().unwrap();
    let by_uai = page(&uai[..5].to_lowercase()).await;
    let expected = nodes
        .iter()
        .filter(|n| n["uai"].as_str().unwrap().starts_with(&uai[..5]))
        .count();
    assert_eq!(by_uai["totalCount"], expected);
    assert!(page("zzzz introuvable").await["totalCount"] == 0);
    let (_, body) = app
        .post_as(
            Some(&app.token("region:bi", None, None)),
            "{ taxCampaign(year: 2026) { establishments(search: $s) { totalCount } } }"
                .replace("$s", &format!("\"{}\"", "x".repeat(101)))
                .as_str(),
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{body}"
    );
}

#[tokio::test]
async fn offers_and_training_places_are_counted_by_commune_as_the_lists_find_them() {
    let app = spawn_app(SMALL).await;
    let filter = json!({ "level": 3 });
    let figures = app
        .data(
            "query($f: OfferFilter, $t: FormationFilter) { region {
                offers(filter: $f) { total byDepartement { key count } byCommune { key count } }
                training(filter: $t) { total { programmes vacancies }
                    byDepartement { key programmes vacancies } byCommune { key programmes capacity vacancies } }
            } }",
            json!({ "f": filter, "t": filter }),
        )
        .await;
    let offers = &figures["region"]["offers"];
    let by_commune = offers["byCommune"].as_array().unwrap();
    let sum: u64 = by_commune
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(offers["total"].as_u64().unwrap(), sum);
    assert!(by_commune.len() > 3);
    for c in by_commune.iter().take(3) {
        let listed = app
            .data(
                "query($f: OfferFilter) { offers(filter: $f) { totalCount } }",
                json!({ "f": { "level": 3, "commune": c["key"] } }),
            )
            .await;
        assert_eq!(listed["offers"]["totalCount"], c["count"], "{c}");
    }
    let training = &figures["region"]["training"];
    for c in training["byCommune"].as_array().unwrap().iter().take(3) {
        let listed = app
            .data(
                "query($f: FormationFilter) { formations(filter: $f, first: 1000) { totalCount } }",
                json!({ "f": { "level": 3, "commune": c["key"] } }),
            )
            .await;
        assert_eq!(listed["formations"]["totalCount"], c["programmes"], "{c}");
    }
    let departements: u64 = training["byDepartement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["vacancies"].as_u64().unwrap())
        .sum();
    assert!(departements >= training["total"]["vacancies"].as_u64().unwrap() / 2);
}

#[tokio::test]
async fn a_synced_partner_tells_its_last_syncs_newest_first() {
    let app = spawn_app(SMALL).await;
    for _ in 0..2 {
        let r = app
            .client
            .post(app.url("/_sandbox/erasmus/sync"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let data = app
        .data_bi(
            "{ partners { id mode syncs(last: 2) { startedAt outcome records rejected } } }",
            json!({}),
        )
        .await;
    let partners = data["partners"].as_array().unwrap();
    let erasmus = partners.iter().find(|p| p["id"] == "ERASMUS").unwrap();
    let syncs = erasmus["syncs"].as_array().unwrap();
    assert_eq!(syncs.len(), 2, "{erasmus}");
    assert!(syncs[0]["startedAt"].as_str() >= syncs[1]["startedAt"].as_str());
    for p in partners.iter().filter(|p| p["mode"] == "LIVE") {
        assert_eq!(p["syncs"], json!([]), "{p}");
    }
    let (_, body) = app
        .post("{ partners { syncs { outcome } } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (_, body) = app
        .post_as(
            Some(&app.token("region:bi", None, None)),
            "{ partners { syncs(last: 0) { outcome } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{body}"
    );
}

#[tokio::test]
async fn the_way_back_after_signing_in_never_leaves_the_site() {
    let app = spawn_app(SMALL).await;
    for (asked, back) in [
        // Browsers drop tabs and newlines: `/\t/evil.example/` is
        // `//evil.example/`.
        ("/%09/evil.example/", "/"),
        ("/%0A/x", "/"),
        ("/%0D/x", "/"),
        ("/%00/x", "/"),
        ("/%7F/x", "/"),
        ("/%250A/x", "/"),
        ("//evil.example/", "/"),
        ("/%5Cevil.example", "/"),
        ("/%252F/evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/campagne%3Fannee%3D2026", "/campagne?annee=2026"),
    ] {
        let mut browser = Browser::new();
        let done = sign_in_from(
            &mut browser,
            &app,
            &format!("/console/login?return={asked}"),
            &["region:bi"],
        )
        .await;
        assert_eq!(done.status(), 303, "{asked}");
        assert_eq!(location(&done), back, "{asked}");
        assert!(
            browser.cookies.contains_key("passerelle_console"),
            "{asked}"
        );
    }
}

#[tokio::test]
async fn a_sign_in_cookie_the_gateway_did_not_sign_is_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let app = spawn_app(SMALL).await;
    let mut browser = Browser::new();
    let r = browser
        .get(&app.url("/console/login?return=/campagne"))
        .await;
    let authorize = location(&r);
    let genuine = browser.cookies["passerelle_console_login"].clone();
    let (payload, mac) = genuine.rsplit_once('.').expect("a signed value");
    let mut pending: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap())
        .expect("the sign-in as JSON");
    assert_eq!(pending["back"], "/campagne");
    // Another way back under the genuine MAC, or no MAC at all (a cookie
    // planted by another site).
    pending["back"] = json!("//evil.example/");
    let forged = URL_SAFE_NO_PAD.encode(pending.to_string());
    for planted in [format!("{forged}.{mac}"), forged.clone()] {
        browser
            .cookies
            .insert("passerelle_console_login".into(), planted.clone());
        let callback = approve(&mut browser, &app.url(""), &authorize, &["region:bi"]).await;
        let r = browser.get(&callback).await;
        assert_eq!(r.status(), 400, "{planted}");
        assert!(r.headers().get("location").is_none());
        assert!(!browser.cookies.contains_key("passerelle_console"));
    }
    // The cookie the gateway signed still signs in.
    browser
        .cookies
        .insert("passerelle_console_login".into(), genuine);
    let callback = approve(&mut browser, &app.url(""), &authorize, &["region:bi"]).await;
    let done = browser.get(&callback).await;
    assert_eq!(location(&done), "/campagne");
    assert!(browser.cookies.contains_key("passerelle_console"));
}

#[tokio::test]
async fn on_https_the_console_s_cookies_are_host_cookies() {
    let public = "https://passerelle.example";
    let app = spawn_app_with(SMALL, &format!("[console]\npublic_url = \"{public}\"\n")).await;
    // The browser reaches the gateway at its public address; this test
    // reaches it at its own.
    let here = |url: &str| url.replace(public, &app.url(""));
    let set_cookies = |r: &reqwest::Response| -> Vec<cookie::Cookie<'static>> {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
            .collect()
    };
    let host_cookie = |c: &cookie::Cookie<'_>| {
        assert!(c.name().starts_with("__Host-"), "{c}");
        assert_eq!(c.secure(), Some(true), "{c}");
        assert_eq!(c.path(), Some("/"), "{c}");
        assert_eq!(c.domain(), None, "{c}");
        assert_eq!(c.http_only(), Some(true), "{c}");
    };
    let mut browser = Browser::new();
    let r = browser.get(&app.url("/console/login?return=/offres")).await;
    let authorize = location(&r);
    assert!(
        authorize.starts_with(&format!("{public}/_sandbox/oidc/authorize?")),
        "{authorize}"
    );
    assert!(
        authorize.contains("redirect_uri=https%3A%2F%2Fpasserelle.example%2Fconsole%2Fcallback"),
        "{authorize}"
    );
    let login = set_cookies(&r);
    assert_eq!(login.len(), 1);
    assert_eq!(login[0].name(), "__Host-passerelle_console_login");
    host_cookie(&login[0]);
    assert_eq!(login[0].same_site(), Some(cookie::SameSite::Lax));

    let callback = approve(&mut browser, public, &here(&authorize), &["region:bi"]).await;
    assert!(
        callback.starts_with(&format!("{public}/console/callback?code=")),
        "{callback}"
    );
    let done = browser.get(&here(&callback)).await;
    assert_eq!(location(&done), "/offres");
    let session = set_cookies(&done)
        .into_iter()
        .find(|c| c.name() == "__Host-passerelle_console")
        .expect("the session cookie");
    host_cookie(&session);
    assert_eq!(session.same_site(), Some(cookie::SameSite::Strict));

    // Only the __Host- cookie names a session: a plain one may have been
    // planted by a sibling domain.
    let with_cookie = |name: &str| {
        let request = browser
            .client
            .get(app.url("/console/session"))
            .header("cookie", format!("{name}={}", session.value()));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(with_cookie("__Host-passerelle_console").await, 200);
    assert_eq!(with_cookie("passerelle_console").await, 401);
    let export = |name: &str| {
        let request = browser
            .client
            .get(app.url("/export/tax-campaign/2026.csv"))
            .header("cookie", format!("{name}={}", session.value()));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(export("__Host-passerelle_console").await, 200);
    assert_eq!(export("passerelle_console").await, 401);
}

#[tokio::test]
async fn signing_out_is_refused_to_a_page_of_another_site() {
    let app = spawn_app(SMALL).await;
    let mut browser = Browser::new();
    sign_in(&mut browser, &app, &["region:bi"]).await;
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let r = browser
            .client
            .post(app.url("/console/logout"))
            .header("cookie", browser.cookie_header())
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{name}: {value}");
        assert!(r.headers().get("set-cookie").is_none(), "{name}: {value}");
    }
    assert_eq!(
        browser.get(&app.url("/console/session")).await.status(),
        200
    );
    // The console's own page signs out.
    let r = browser
        .client
        .post(app.url("/console/logout"))
        .header("cookie", browser.cookie_header())
        .header("origin", app.url(""))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    browser.keep(&r);
    assert_eq!(location(&r), "/");
    assert_eq!(
        browser.get(&app.url("/console/session")).await.status(),
        401
    );
}

#[tokio::test]
async fn a_forged_host_is_neither_fetched_nor_sent_to() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // A server that would be the identity provider if the gateway
    // believed the Host header: it counts what it is asked.
    let asked = Arc::new(AtomicUsize::new(0));
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_addr = trap.local_addr().unwrap();
    let counted = asked.clone();
    let trap_app = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({
                "authorization_endpoint": format!("http://{trap_addr}/authorize"),
                "token_endpoint": format!("http://{trap_addr}/token"),
            }))
        }
    });
    tokio::spawn(async move { axum::serve(trap, trap_app).await });

    let app = spawn_app(SMALL).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let ours = |to: &str| {
        let u = url::Url::parse(to).unwrap_or_else(|e| panic!("{to}: {e}"));
        assert_eq!(
            (u.host_str(), u.port()),
            (Some("127.0.0.1"), Some(app.addr.port())),
            "{to}"
        );
        u
    };
    for host in [trap_addr.to_string(), "evil.example".to_owned()] {
        // Sent to the same page at the gateway's own address first.
        let r = client
            .get(app.url("/console/login?return=/campagne"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let again = ours(&location(&r));
        assert_eq!(again.path(), "/console/login");
        // Even asked again under that Host, the provider is the gateway's.
        let r = client
            .get(app.url("/console/login?return=/campagne&again"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{host}");
        let authorize = ours(&location(&r));
        assert_eq!(authorize.path(), "/_sandbox/oidc/authorize");
        let redirect_uri = authorize
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(redirect_uri, app.url("/console/callback"));
        // The provider's discovery names the gateway's address too.
        let discovery: Value = client
            .get(app.url("/.well-known/openid-configuration"))
            .header("host", &host)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for endpoint in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
            ours(discovery[endpoint].as_str().unwrap());
        }
    }
    assert_eq!(asked.load(Ordering::SeqCst), 0);
}
