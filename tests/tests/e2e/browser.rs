//! The web console as a person uses it: headless Chromium (Debian's, through
//! its chromedriver) against the real gateway on the sandbox. A person signs
//! in at the sandbox's identity provider, opens each page, and sees the
//! figures the API answers; filters change what is shown; a partner's outage
//! shows within one refresh; the campaign page refuses a caller without
//! `region:bi`; axe-core finds no serious or critical violation on any page;
//! GraphiQL renders from the gateway's own files.
//!
//! Without Chromium the tests say so and pass, unless
//! `PASSERELLE_REQUIRE_BROWSER` is set (the suite's script sets it, after
//! installing Chromium). `UPDATE_SCREENSHOTS=1` writes the book's
//! screenshots under `docs/src/images/`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::{push_campaign, spawn_app, TestApp, SMALL};

/// Desktop and phone viewports.
pub const DESKTOP: (u32, u32) = (1366, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// Browsers open at once: each Chromium takes a core while it renders.
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A chromedriver of this test, in a process group of its own, stopped
/// with the Chromium it started when dropped: killed alone, the driver
/// left its browser behind, a hundred processes after a run.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.0.id()) {
            // SAFETY: a signal sent to the group this test made.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium session, its driver, and its place among the
/// browsers open.
pub struct Browser {
    pub client: Client,
    _driver: Driver,
    _permit: tokio::sync::SemaphorePermit<'static>,
}

fn chromium() -> Option<(&'static str, &'static str)> {
    let found = |p: &str| std::path::Path::new(p).exists();
    (found("/usr/bin/chromium") && found("/usr/bin/chromedriver"))
        .then_some(("/usr/bin/chromium", "/usr/bin/chromedriver"))
}

/// A browser at `size`, or `None` (with a note) when Chromium is missing
/// and not required.
pub async fn browser(size: (u32, u32)) -> Option<Browser> {
    let Some((binary, driver)) = chromium() else {
        assert!(
            std::env::var_os("PASSERELLE_REQUIRE_BROWSER").is_none(),
            "PASSERELLE_REQUIRE_BROWSER is set but Chromium or chromedriver is missing"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium chromium-driver)");
        return None;
    };
    let permit = BROWSERS.acquire().await.expect("the semaphore is open");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(driver);
    command
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own process group, which its browser joins.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    // The driver dies with the tests, even when they are killed.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let driver = Driver(command.spawn().expect("chromedriver starts"));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--lang=fr-FR", "--hide-scrollbars", "--force-device-scale-factor=1",
                format!("--window-size={},{}", size.0, size.1),
            ],
        }),
    );
    let webdriver = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&webdriver)
            .await
        {
            Ok(client) => {
                client
                    .set_window_size(size.0, size.1)
                    .await
                    .expect("the window resizes");
                return Some(Browser {
                    client,
                    _driver: driver,
                    _permit: permit,
                });
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start a session: {last:?}");
}

impl Browser {
    /// Waits until the page says it has rendered `page` whole.
    pub async fn ready(&self, page: &str) {
        for _ in 0..300 {
            let state = self
                .client
                .execute(
                    "return document.documentElement.dataset.ready || null",
                    vec![],
                )
                .await
                .expect("the page runs scripts");
            if state.as_str() == Some(page) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = self.client.current_url().await.unwrap();
        let body = self.text("body").await;
        panic!("{url} never became ready as {page}: {body}");
    }

    /// Opens `path` of `app` and waits until `page` is rendered.
    pub async fn open(&self, app: &TestApp, path: &str, page: &str) {
        self.client.goto(&app.url(path)).await.expect("navigates");
        self.ready(page).await;
    }

    /// The text of the first element matching `css`, its spaces made plain.
    /// An element the page replaced between finding and reading it (a
    /// navigation, a render), or that a navigation under way has not shown
    /// yet, is found again.
    pub async fn text(&self, css: &str) -> String {
        let mut tries = 0;
        loop {
            let e = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e,
                Err(fantoccini::error::CmdError::Standard(w))
                    if w.error == fantoccini::error::ErrorStatus::NoSuchElement && tries < 20 =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => panic!("no {css}: {e}"),
            };
            match e.text().await {
                Ok(text) => return plain(&text),
                Err(fantoccini::error::CmdError::Standard(w))
                    if w.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && tries < 10 =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("text of {css}: {e}"),
            }
        }
    }

    /// An attribute of every element matching `css`, read at one instant
    /// (the page may be rendering again).
    pub async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let found = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0]))
                    .map(e => e.getAttribute(arguments[1])).filter(v => v !== null)",
                vec![json!(css), json!(attr)],
            )
            .await
            .expect("the page runs scripts");
        serde_json::from_value(found).expect("strings")
    }

    /// Signs in at the sandbox's identity provider from the sign-in button
    /// of `path`, granting `scopes`; waits until `page` is rendered again.
    pub async fn sign_in(&self, app: &TestApp, path: &str, page: &str, scopes: &[&str]) {
        let subject = self.to_sign_in(app, path, page, "#subject").await;
        subject.clear().await.unwrap();
        subject
            .send_keys("analyste@region-normandie.fr")
            .await
            .unwrap();
        for b in self
            .client
            .find_all(Locator::Css("input[name=grant]"))
            .await
            .unwrap()
        {
            let value = b.attr("value").await.unwrap().unwrap_or_default();
            if b.is_selected().await.unwrap() != scopes.contains(&value.as_str()) {
                b.click().await.unwrap();
            }
        }
        self.client
            .find(Locator::Css("#sign-in-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.ready(page).await;
        assert_eq!(
            self.text("#session-subject").await,
            "analyste@region-normandie.fr"
        );
    }

    /// Presses the sign-in button of `path` (rendered as `page`) and waits
    /// for the identity provider's page, until `css` is on it.
    pub async fn to_sign_in(
        &self,
        app: &TestApp,
        path: &str,
        page: &str,
        css: &str,
    ) -> fantoccini::elements::Element {
        self.client.goto(&app.url(path)).await.expect("navigates");
        self.ready(page).await;
        self.click("#sign-in").await;
        self.wait_for(css).await
    }

    /// Clicks the element `css` finds.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("clicks");
    }

    /// Waits, 20 seconds at most, until `css` finds an element.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never came: {e}"))
    }

    /// axe-core's serious and critical violations on the page as it is.
    pub async fn violations(&self) -> Vec<Value> {
        let axe = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/browser/node_modules/axe-core/axe.min.js"
        ))
        .expect("axe-core is installed (npm ci in tests/browser)");
        self.client.execute(&axe, vec![]).await.expect("axe loads");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))))
                   .catch(e => done([{ id: 'axe-failed', impact: 'critical', help: String(e) }]));",
                vec![],
            )
            .await
            .expect("axe runs");
        found
            .as_array()
            .expect("a list")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .cloned()
            .collect()
    }

    /// Writes the whole page as `docs/src/images/console-NAME.png`.
    pub async fn screenshot(&self, name: &str, size: (u32, u32)) {
        let height = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight)",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(u64::from(size.1)) as u32;
        self.client
            .set_window_size(size.0, height.clamp(size.1, 4000))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = format!(
            "{}/../docs/src/images/console-{name}.png",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::write(&path, png).expect("docs/ is writable");
        self.client.set_window_size(size.0, size.1).await.unwrap();
    }
}

/// Text with its non-breaking and narrow spaces made plain.
pub fn plain(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ").trim().to_owned()
}

/// An amount as the console writes it in French: `1 234,50 €`.
pub fn euros(amount: &str) -> String {
    let (units, cents) = amount.split_once('.').expect("two decimals");
    let (sign, digits) = units.strip_prefix('-').map_or(("", units), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{cents} €")
}

/// A count as the console writes it: `12 345`.
pub fn count(n: &Value) -> String {
    euros(&format!("{}.00", n.as_u64().expect("a count")))
        .trim_end_matches(",00 €")
        .to_owned()
}

const CAMPAIGN: &str = "query($s: String, $d: String) { taxCampaign(year: 2026) {
    totals { amount allocations employers establishments toNormandy outsideNormandy leaked leakageRate }
    establishments(first: 50, search: $s, departement: $d) { totalCount nodes { uai name amount } }
} }";

#[tokio::test]
async fn the_campaign_page_shows_what_the_api_answers_and_its_filters_narrow_the_table() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    assert_eq!(push_campaign(&app, 5_000, 400).await, 5_000);
    b.sign_in(&app, "/campagne?annee=2026", "campagne", &["region:bi"])
        .await;
    let api = app.data_bi(CAMPAIGN, json!({})).await;
    let totals = &api["taxCampaign"]["totals"];
    assert_eq!(
        b.text("#total-amount").await,
        euros(totals["amount"].as_str().unwrap())
    );
    assert_eq!(
        b.text("#total-allocations").await,
        count(&totals["allocations"])
    );
    assert_eq!(
        b.text("#total-employers").await,
        count(&totals["employers"])
    );
    assert_eq!(
        b.text("#total-establishments").await,
        count(&totals["establishments"])
    );
    for (id, field) in [
        ("#to-normandy", "toNormandy"),
        ("#outside-normandy", "outsideNormandy"),
        ("#leaked", "leaked"),
    ] {
        assert_eq!(
            b.text(id).await,
            euros(totals[field].as_str().unwrap()),
            "{id}"
        );
    }
    assert!(b.text("#leakage-rate").await.ends_with('%'));

    // The table lists the establishments in the API's order, to the cent.
    let nodes = api["taxCampaign"]["establishments"]["nodes"]
        .as_array()
        .unwrap();
    let uais: Vec<&str> = nodes.iter().map(|n| n["uai"].as_str().unwrap()).collect();
    assert_eq!(
        b.attrs("#establishments tr[data-uai]", "data-uai").await,
        uais
    );
    let amounts: Vec<&str> = nodes
        .iter()
        .map(|n| n["amount"].as_str().unwrap())
        .collect();
    assert_eq!(
        b.attrs("#establishments td[data-money]", "data-money")
            .await,
        amounts
    );

    // Searching by a word of a name narrows the table to what the API finds.
    let word = nodes
        .iter()
        .find_map(|n| n["name"].as_str())
        .and_then(|n| n.split_whitespace().max_by_key(|w| w.len()))
        .unwrap()
        .to_lowercase();
    let search = b
        .client
        .find(Locator::Css("#establishment-search"))
        .await
        .unwrap();
    search.send_keys(&word).await.unwrap();
    let expected = app.data_bi(CAMPAIGN, json!({ "s": word })).await;
    let expected: Vec<String> = expected["taxCampaign"]["establishments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uai"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty() && expected.len() < uais.len());
    wait_for_rows(&b, &expected).await;
    search.clear().await.unwrap();
    search.send_keys(" ").await.unwrap();
    wait_for_rows(
        &b,
        &uais.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
    )
    .await;

    // So does a département.
    b.client
        .find(Locator::Css("#establishment-departement"))
        .await
        .unwrap()
        .select_by_value("50")
        .await
        .unwrap();
    let manche = app.data_bi(CAMPAIGN, json!({ "d": "50" })).await;
    let manche: Vec<String> = manche["taxCampaign"]["establishments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uai"].as_str().unwrap().to_owned())
        .collect();
    assert!(manche.iter().all(|u| u.starts_with("050")));
    wait_for_rows(&b, &manche).await;

    // The export link downloads with the session, not a token in its URL.
    let href = b.attrs("#export-csv", "href").await;
    assert_eq!(href.len(), 1);
    assert!(
        href[0].ends_with("/export/tax-campaign/2026.csv"),
        "{href:?}"
    );
    assert!(!href[0].contains("token"));

    // Help is a link to the book, served by the gateway, in English.
    let help = b.attrs("#help", "href").await;
    assert_eq!(help.len(), 1, "{help:?}");
    assert!(help[0].ends_with("/book/analysts/console.html"), "{help:?}");
    let page_help = b
        .attrs("a[href$='/book/analysts/campaign.html']", "hreflang")
        .await;
    assert_eq!(page_help, ["en"]);
    let stored: Value = b
        .client
        .execute(
            "return [Object.keys(localStorage).length, Object.keys(sessionStorage).length, location.href]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(stored[0], 0);
    assert_eq!(stored[1], 0);
    assert!(!stored[2].as_str().unwrap().contains("eyJ"), "{stored}");
}

/// Waits until the establishments' table lists `uais`, in order.
async fn wait_for_rows(b: &Browser, uais: &[String]) {
    let mut shown = Vec::new();
    for _ in 0..100 {
        shown = b.attrs("#establishments tr[data-uai]", "data-uai").await;
        if shown == uais {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the table shows {shown:?}, not {uais:?}");
}

#[tokio::test]
async fn the_campaign_page_refuses_a_caller_without_region_bi() {
    let Some(b) = browser(PHONE).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.open(&app, "/campagne", "campagne").await;
    assert!(b.text("#campaign-denied").await.contains("region:bi"));
    assert!(b.client.find(Locator::Css("#total-amount")).await.is_err());
    b.sign_in(&app, "/campagne", "campagne", &["alerts:write"])
        .await;
    assert!(b.text("#campaign-denied").await.contains("region:bi"));
    assert!(b.client.find(Locator::Css("#total-amount")).await.is_err());
}

const MAP: &str = "query($f: OfferFilter, $t: FormationFilter) { region {
    offers(filter: $f) { byDepartement { key count } byCommune { key count } }
    training(filter: $t) { byDepartement { key vacancies } }
} }";

fn count_of(lines: &Value, key: &str, field: &str) -> String {
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == key)
        .map_or("0".to_owned(), |l| l[field].to_string())
}

#[tokio::test]
async fn the_map_counts_what_the_api_counts_and_follows_its_filters() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.open(&app, "/offres", "offres").await;
    let api = app.data(MAP, json!({})).await;
    let region = &api["region"];
    for d in ["14", "27", "50", "61", "76"] {
        let shown = b
            .attrs(&format!("path[data-departement=\"{d}\"]"), "data-value")
            .await;
        assert_eq!(
            shown,
            [count_of(&region["offers"]["byDepartement"], d, "count")],
            "{d}"
        );
    }

    // A diploma level narrows the counts as the API narrows them.
    b.client
        .find(Locator::Css("#filter-level"))
        .await
        .unwrap()
        .select_by_value("3")
        .await
        .unwrap();
    let level = app
        .data(MAP, json!({ "f": { "level": 3 }, "t": { "level": 3 } }))
        .await;
    let calvados = count_of(&level["region"]["offers"]["byDepartement"], "14", "count");
    assert_ne!(
        calvados,
        count_of(&region["offers"]["byDepartement"], "14", "count")
    );
    wait_for_value(&b, "path[data-departement=\"14\"]", &calvados).await;

    // Free places in training instead of offers.
    b.client
        .find(Locator::Css("#map-measure"))
        .await
        .unwrap()
        .select_by_value("places")
        .await
        .unwrap();
    let places = count_of(
        &level["region"]["training"]["byDepartement"],
        "14",
        "vacancies",
    );
    wait_for_value(&b, "path[data-departement=\"14\"]", &places).await;

    // Clicking a département lists its offers and programmes.
    b.client
        .find(Locator::Css("path[data-departement=\"14\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let listed = app
        .data(
            "{ offers(filter: { departement: \"14\", level: 3 }) { totalCount }
               formations(filter: { departement: \"14\", level: 3 }) { totalCount } }",
            json!({}),
        )
        .await;
    let selection = b
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#map-selection[data-total-offers]"))
        .await
        .unwrap();
    assert_eq!(
        selection.attr("data-total-offers").await.unwrap(),
        Some(listed["offers"]["totalCount"].to_string())
    );
    assert_eq!(
        selection.attr("data-total-formations").await.unwrap(),
        Some(listed["formations"]["totalCount"].to_string())
    );

    // Every commune of Normandy is drawn at the communes' level.
    b.open(&app, "/offres?niveau=communes", "offres").await;
    let communes = b.attrs("path[data-commune]", "data-commune").await;
    assert_eq!(
        communes.len(),
        passerelle_schema::reference::communes().len()
    );
    let by_commune = &region["offers"]["byCommune"];
    let busiest = by_commune
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|c| c["count"].as_u64())
        .unwrap();
    let key = busiest["key"].as_str().unwrap();
    assert_eq!(
        b.attrs(&format!("path[data-commune=\"{key}\"]"), "data-value")
            .await,
        [busiest["count"].to_string()]
    );
}

#[tokio::test]
async fn the_map_finds_an_occupation_by_the_words_of_a_job() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.open(&app, "/offres", "offres").await;
    // "boulan", as typed on the way to "boulanger": the bakers are offered
    // first, and chosen with the keyboard.
    let field = b.client.find(Locator::Css("#filter-rome")).await.unwrap();
    field.send_keys("boulan").await.unwrap();
    let first = b
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#filter-rome-options [role=option]"))
        .await
        .expect("the occupations are listed as one types");
    assert_eq!(
        first.attr("data-rome").await.unwrap().as_deref(),
        Some("D1102")
    );
    assert_eq!(
        field.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    field.send_keys("\u{e015}").await.unwrap(); // Arrow down.
    assert_eq!(
        field
            .attr("aria-activedescendant")
            .await
            .unwrap()
            .as_deref(),
        Some("filter-rome-option-0")
    );
    field.send_keys("\u{e007}").await.unwrap(); // Enter.
                                                // The map counts the bakers' offers, as the API does.
    let bakers = app
        .data(
            MAP,
            json!({ "f": { "rome": ["D1102"] }, "t": { "rome": ["D1102"] } }),
        )
        .await;
    let calvados = count_of(&bakers["region"]["offers"]["byDepartement"], "14", "count");
    wait_for_value(&b, "path[data-departement=\"14\"]", &calvados).await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains("rome=D1102"), "{url}");
    assert!(field
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
        .contains("(D1102)"));
    assert_eq!(
        field.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
}

#[tokio::test]
async fn the_search_box_ranks_what_a_young_person_types_and_its_counts_refine_it() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.open(&app, "/offres", "offres").await;
    // Typed as on a phone, a town at the end; Enter searches.
    let field = b.client.find(Locator::Css("#filter-words")).await.unwrap();
    field.send_keys("boulangere caen\u{e007}").await.unwrap();
    let results = b
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#search-results"))
        .await
        .expect("the results of the words are shown");
    b.ready("offres").await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains("q=boulangere"), "{url}");
    // What the API ranks first for those words, the page shows first.
    const RANKED: &str = r#"query($f: OfferFilter) {
        offers(filter: $f, first: 1, orderBy: RELEVANCE) {
            totalCount nodes { title }
            facets { levels { value count } }
        }
    }"#;
    let api = app
        .data(RANKED, json!({ "f": { "text": "boulangere caen" } }))
        .await["offers"]
        .clone();
    assert_eq!(
        results.attr("data-total-offers").await.unwrap(),
        Some(api["totalCount"].to_string())
    );
    // The town the words name is said as the API read it.
    let understood = b.text("#search-understood").await;
    assert!(
        understood.contains("autour de Caen (20 km)"),
        "{understood}"
    );
    let first = b.text("#search-results ol li strong").await;
    assert_eq!(first, api["nodes"][0]["title"].as_str().unwrap());
    // A level's count refines the search to it: as many offers as it said.
    let level = &api["facets"]["levels"][0];
    let value = level["value"].as_str().unwrap();
    let button = b
        .client
        .find(Locator::Css(&format!(
            "#facet-levels button[data-value=\"{value}\"]"
        )))
        .await
        .unwrap();
    assert_eq!(
        button.attr("data-count").await.unwrap(),
        Some(level["count"].to_string())
    );
    button.click().await.unwrap();
    b.ready("offres").await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains(&format!("diplome={value}")), "{url}");
    wait_for_attr(
        &b,
        "#search-results",
        "data-total-offers",
        &level["count"].to_string(),
    )
    .await;
    let pressed = b
        .attrs("#facet-levels button[aria-pressed=true]", "data-value")
        .await;
    assert_eq!(pressed, [value]);
}

async fn wait_for_value(b: &Browser, css: &str, value: &str) {
    wait_for_attr(b, css, "data-value", value).await;
}

/// Waits until the one element matching `css` has `attr` equal to `value`.
async fn wait_for_attr(b: &Browser, css: &str, attr: &str, value: &str) {
    let mut shown = Vec::new();
    for _ in 0..100 {
        shown = b.attrs(css, attr).await;
        if shown == [value] {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} shows {attr} {shown:?}, not {value}");
}

#[tokio::test]
async fn a_partner_put_into_outage_shows_down_within_one_refresh() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    // A caller of the API meets Pass Monde up, then down.
    app.data("{ mobility { total { mobilities } } }", json!({}))
        .await;
    b.sign_in(
        &app,
        "/partenaires?rafraichir=2",
        "partenaires",
        &["region:bi"],
    )
    .await;
    let row = "tr[data-partner=\"passmonde\"], [data-partner=\"passmonde\"]";
    assert_eq!(b.attrs(row, "data-status").await[0], "UP");
    app.faults("passmonde", json!({ "outage": true })).await;
    // (Another question than the first, which the gateway has cached.)
    let (_, body) = app
        .post(
            "{ mobility(filter: { year: 2025 }) { total { mobilities } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["partner"], "passmonde",
        "{body}"
    );
    // Two seconds a refresh: within one refresh, and a little more for the
    // page's own request.
    let mut seen = Vec::new();
    for _ in 0..40 {
        seen = b.attrs(row, "data-status").await;
        if seen.first().map(String::as_str) == Some("DOWN") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.first().map(String::as_str), Some("DOWN"), "{seen:?}");
    let text = b.text(row).await;
    assert!(
        text.contains("passmonde") || text.to_lowercase().contains("pass monde"),
        "{text}"
    );
}

/// Every page, as it is rendered, at a desktop's and a phone's width.
const PAGES: [(&str, &str, &str); 7] = [
    ("/", "accueil", "accueil"),
    ("/campagne?annee=2026", "campagne", "campagne"),
    ("/offres", "offres", "offres"),
    (
        "/offres?q=boulang%C3%A8re%20caen",
        "offres",
        "offres-recherche",
    ),
    ("/partenaires", "partenaires", "partenaires"),
    ("/mobilite", "mobilite", "mobilite"),
    ("/secteur-public", "secteur-public", "secteur-public"),
];

#[tokio::test]
async fn no_page_has_a_serious_accessibility_violation_on_a_desktop_or_a_phone() {
    let app = spawn_app(SMALL).await;
    push_campaign(&app, 2_000, 200).await;
    let screenshots = std::env::var_os("UPDATE_SCREENSHOTS").is_some();
    for (size, label) in [(DESKTOP, "desktop"), (PHONE, "phone")] {
        let Some(b) = browser(size).await else {
            return;
        };
        // Signed out first: the campaign page's refusal, the public pages.
        b.open(&app, "/campagne", "campagne").await;
        let found = b.violations().await;
        assert!(
            found.is_empty(),
            "signed out, campagne, {label}: {found:#?}"
        );
        b.sign_in(&app, "/", "accueil", &["region:bi"]).await;
        for (path, page, name) in PAGES {
            b.open(&app, path, page).await;
            let found = b.violations().await;
            assert!(found.is_empty(), "{path} at {label}: {found:#?}");
            // Nothing makes the page wider than the screen.
            let overflow = b
                .client
                .execute(
                    "return document.documentElement.scrollWidth - window.innerWidth",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                overflow.as_i64() <= Some(0),
                "{path} at {label} scrolls sideways by {overflow}"
            );
            if screenshots {
                b.screenshot(&format!("{name}-{label}"), size).await;
            }
        }
    }
}

#[tokio::test]
async fn the_console_is_worked_with_the_keyboard() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.open(&app, "/", "accueil").await;
    // The first Tab reaches the skip link, which leads to the content.
    let body = b.client.find(Locator::Css("body")).await.unwrap();
    body.send_keys("\u{e004}").await.unwrap();
    let first: Value = b
        .client
        .execute("return document.activeElement.getAttribute('href')", vec![])
        .await
        .unwrap();
    assert_eq!(first, "#contenu");
    // A département of the map is chosen with the keyboard.
    b.open(&app, "/offres", "offres").await;
    let calvados = b
        .client
        .find(Locator::Css("path[data-departement=\"14\"]"))
        .await
        .unwrap();
    b.client
        .execute(
            "arguments[0].focus()",
            vec![serde_json::to_value(&calvados).unwrap()],
        )
        .await
        .unwrap();
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{e007}")
        .await
        .unwrap();
    b.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#map-selection[data-total-offers]"))
        .await
        .expect("Enter on a département lists its offers");
}

#[tokio::test]
async fn graphiql_renders_and_runs_a_query_from_the_gateway_s_own_files() {
    let Some(b) = browser(DESKTOP).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.client
        .goto(&app.url("/graphql"))
        .await
        .expect("navigates");
    let editor = ".graphiql-query-editor .CodeMirror";
    b.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(editor))
        .await
        .expect("GraphiQL renders");
    // It loaded the schema by its own introspection (graphql-js's, at the
    // default bounds): the documentation explorer lists the root types.
    b.client
        .find(Locator::Css(
            "button[aria-label=\"Show Documentation Explorer\"]",
        ))
        .await
        .expect("a documentation button")
        .click()
        .await
        .expect("clicks");
    let mut docs = String::new();
    for _ in 0..100 {
        docs = b.text(".graphiql-doc-explorer").await;
        if docs.contains("Query") || docs.contains("Error fetching schema") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(docs.contains("query: Query"), "{docs}");
    assert!(docs.contains("subscription: Subscription"), "{docs}");
    // Violations of the page's policy, those before now included.
    b.client
        .execute(
            "window.violations = [];
             new ReportingObserver((reports) => reports.forEach((r) =>
                 window.violations.push(r.body.effectiveDirective + ' ' + r.body.blockedURL)),
                 { types: ['csp-violation'], buffered: true }).observe();
             document.addEventListener('securitypolicyviolation', (e) =>
                 window.violations.push(e.effectiveDirective + ' ' + e.blockedURI));
             document.querySelector(arguments[0]).CodeMirror.setValue('{ partners { id mode } }');",
            vec![json!(editor)],
        )
        .await
        .expect("the page runs scripts");
    b.client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .expect("a run button")
        .click()
        .await
        .expect("clicks");
    let mut result = String::new();
    for _ in 0..100 {
        result = b.text(".result-window").await;
        if result.contains("\"CMA\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(result.contains("\"SYNCED\""), "{result}");
    // A dialog adds a <style> for its scroll lock: the policy allows it.
    b.client
        .find(Locator::Css("button[aria-label=\"Open settings dialog\"]"))
        .await
        .expect("a settings button")
        .click()
        .await
        .expect("clicks");
    b.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[role=dialog]"))
        .await
        .expect("the settings dialog");
    let seen: Value = b
        .client
        .execute(
            "return new Promise((done) => setTimeout(() => done({
                 violations: window.violations,
                 resources: performance.getEntriesByType('resource').map((e) => e.name),
                 origin: location.origin,
             }), 200));",
            vec![],
        )
        .await
        .expect("the page runs scripts");
    assert_eq!(seen["violations"], json!([]), "{seen:#}");
    let origin = seen["origin"].as_str().unwrap();
    let resources = seen["resources"].as_array().unwrap();
    assert!(resources.len() >= 6, "{seen:#}");
    for r in resources {
        let r = r.as_str().unwrap();
        assert!(
            r.starts_with(&format!("{origin}/")) || r.starts_with("data:"),
            "{r} is not of {origin}"
        );
    }
}

#[tokio::test]
async fn the_console_s_own_page_signs_out() {
    let Some(b) = browser(PHONE).await else {
        return;
    };
    let app = spawn_app(SMALL).await;
    b.sign_in(&app, "/partenaires", "partenaires", &["region:bi"])
        .await;
    // The form posts from the console's own origin (with `Origin: null`:
    // the page sends no referrer): not refused as another site's would be.
    b.client
        .find(Locator::Css("#sign-out"))
        .await
        .expect("a sign-out button")
        .click()
        .await
        .expect("clicks");
    b.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#sign-in"))
        .await
        .expect("signed out, the page offers to sign in again");
    let session: Value = b
        .client
        .execute(
            "return fetch('/console/session').then((r) => r.status)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(session, 401);
}
