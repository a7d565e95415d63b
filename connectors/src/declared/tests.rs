//! Declarations read and checked, the shipped ones among them.

use std::sync::Arc;

use passerelle_mappings::Entity;
use serde_json::json;

use super::shipped;
use crate::registry::PartnerKind;
use crate::Registry;

fn declared(extra: serde_json::Value) -> serde_json::Value {
    let mut t = json!({
        "kind": "declared",
        "id": "branche",
        "api_name": "BRANCHE",
        "name": "Branche — catalogue",
        "about": "A branch's catalogue.",
        "feeds": [{ "entity": "formation", "url": "https://branche.example/catalogue.xml" }],
    });
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

/// The error of reading `t` as the only `[[partners]]` table.
fn refused(t: serde_json::Value) -> String {
    let tables = [t];
    match Registry::standard().declaring(&tables) {
        Err(e) => e.to_string(),
        Ok(r) => r.configure(&tables).unwrap_err().to_string(),
    }
}

#[test]
fn the_shipped_declarations_are_the_identities_their_simulators_name() {
    for (shipped, partner) in [
        (&shipped::CMA, crate::cma::PARTNER),
        (&shipped::CARIF, crate::carif::PARTNER),
        (&shipped::ERASMUS, crate::erasmus::PARTNER),
        (&shipped::PASS_MONDE, crate::passmonde::PARTNER),
    ] {
        let kind = shipped.kind();
        assert_eq!(kind.partner().info(), partner.info(), "{}", shipped.file());
        assert!(shipped.file().starts_with(&format!("{}/", partner.id())));
    }
}

#[test]
fn a_shipped_declaration_is_configured_by_its_settings_as_before() {
    let registry = Registry::standard();
    let tables = [json!({
        "kind": "cma",
        "feed_url": "https://cma.example/flux.xml",
        "sync_interval": "6h",
        "http": { "timeout": "90s" },
    })];
    let configured = registry.configure(&tables).unwrap();
    assert_eq!(configured[0].partner, crate::cma::PARTNER);
    let table = configured[0].settings.table();
    assert_eq!(
        table["feed_url"].as_str(),
        Some("https://cma.example/flux.xml")
    );
    let catalog = registry.catalog(None).unwrap();
    let sources = configured[0].settings.sources(&catalog).unwrap();
    assert_eq!(sources.len(), 1);
    assert!(matches!(
        &sources[0],
        crate::Source::OfferFeed(s, crate::source::Employers::Private) if s.interval.as_secs() == 6 * 3600
    ));
    // Its URL is needed, and nothing it does not know is taken.
    let e = refused(json!({ "kind": "cma" }));
    assert!(e.contains("missing field `feed_url`"), "{e}");
    let e = refused(
        json!({ "kind": "erasmus", "export_url": "https://e.example/x.csv", "feed_url": "x" }),
    );
    assert!(e.contains("unknown field `feed_url`"), "{e}");
}

#[test]
fn a_shipped_declarations_settings_may_sit_in_a_table_and_be_optional() {
    let cci = |credentials: serde_json::Value| {
        refused(
            json!({ "kind": "cci", "base_url": "https://cci.example/", "credentials": credentials }),
        )
    };
    let whole = json!({ "token_url": "https://cci.example/oauth/token", "client_id": "p", "client_secret": "s" });
    // Scopes may be left out.
    let tables = [
        json!({ "kind": "cci", "base_url": "https://cci.example/", "credentials": whole.clone() }),
    ];
    let configured = Registry::standard().configure(&tables).unwrap();
    assert_eq!(configured[0].partner, crate::cci::PARTNER);
    // A setting missing, or one it does not know, is named.
    let mut partial = whole.clone();
    partial.as_object_mut().unwrap().remove("token_url");
    let e = cci(partial);
    assert!(e.contains("missing field `credentials.token_url`"), "{e}");
    let mut extra = whole.clone();
    extra["client_secrte"] = "x".into();
    let e = cci(extra);
    assert!(
        e.contains("unknown field `credentials.client_secrte`"),
        "{e}"
    );
    // A shipped partner is configured by its settings, not declared again.
    let e = refused(json!({ "kind": "cci", "id": "cci", "api_name": "CCI" }));
    assert!(
        e.contains("cci is shipped with Passerelle: configure it by its settings ("),
        "{e}"
    );
    assert!(
        e.contains("base_url") && e.contains("credentials.token_url"),
        "{e}"
    );
}

#[test]
fn a_partner_declared_in_configuration_joins_the_registry_after_the_shipped_ones() {
    let tables = [declared(json!({}))];
    let registry = Registry::standard().declaring(&tables).unwrap();
    let last = registry.partners().last().unwrap();
    assert_eq!(last.id(), "branche");
    assert_eq!(last.info().api_name, "BRANCHE");
    assert_eq!(last.mode(), passerelle_schema::PartnerMode::Synced);
    assert_eq!(
        "branche".parse::<passerelle_schema::Partner>().unwrap(),
        last
    );
    let configured = registry.configure(&tables).unwrap();
    assert_eq!(configured[0].partner, last);
    // Its mapping is the operator's: without one, the error says where.
    let catalog = registry.catalog(None).unwrap();
    let Err(e) = configured[0].settings.sources(&catalog) else {
        panic!("a declared partner's mapping is not shipped");
    };
    let e = e.to_string();
    assert!(e.contains("branche/formation.toml"), "{e}");
    // Declaring it again (a second reading of the same configuration) is
    // the same partner.
    let again = Registry::standard().declaring(&tables).unwrap();
    assert_eq!(again.partners().last(), Some(last));
}

#[test]
fn a_declaration_that_cannot_hold_is_refused_naming_the_setting() {
    let cases = [
        (json!({ "colour": "blue" }), "unknown field `colour`"),
        (
            json!({ "id": "Branche!" }),
            "id: \"Branche!\" is not an identifier",
        ),
        (
            json!({ "api_name": "branche" }),
            "api_name: \"branche\" is not a GraphQL enum value",
        ),
        (json!({ "name": " " }), "name: must not be empty"),
        (
            json!({ "feeds": [] }),
            "feeds, live: a declared partner publishes at least one feed or live source",
        ),
        (
            json!({ "feeds": [{ "entity": "offre", "url": "https://b.example/" }] }),
            "unknown entity \"offre\"",
        ),
        (
            json!({ "feeds": [{ "entity": "formation" }] }),
            "feeds[0]: missing field `url`",
        ),
        (
            json!({ "feeds": [{ "entity": "formation", "url": "ftp://b.example/x" }] }),
            "feeds[0]: url: ftp://b.example/x is not http(s)",
        ),
        (
            json!({ "feeds": [{ "entity": "formation", "url": "https://b.example/", "employers": "public" }] }),
            "feeds[0]: employers: only a feed of offers",
        ),
        (
            json!({ "feeds": [{ "entity": "formation", "url": "https://b.example/a" },
                              { "entity": "formation", "url": "https://b.example/b" }] }),
            "feeds[1]: a second feed of formations",
        ),
        (
            json!({ "feeds": [{ "entity": "formation", "url": "https://b.example/", "sync_interval": "soon" }] }),
            "feeds[0].sync_interval: invalid value",
        ),
        // Live sources: what their templates name must exist.
        (
            json!({ "live": [{ "entity": "offer", "base_url": "https://api.example/",
                               "request": { "path": "offres", "query": { "metier": "{metier}" } } }] }),
            "live[0]: request.query.metier: \"{metier}\": no filter is named \"metier\"; known: rome, departement, level",
        ),
        (
            json!({ "live": [{ "entity": "offer", "base_url": "https://api.example/",
                               "request": { "path": "offres" }, "pagination": { "kind": "page" } }] }),
            "live[0]: pagination: its request names no `{page}`",
        ),
        (
            json!({ "live": [{ "entity": "mobility", "base_url": "https://api.example/",
                               "request": { "path": "bourses" } }] }),
            "live[0]: program: a source of mobilities says which programme funds them",
        ),
        (
            json!({ "live": [{ "entity": "offer", "base_url": "https://api.example/",
                               "request": { "path": "offres" }, "auth": { "kind": "api_key", "key": "k" } }] }),
            "live[0]: auth.api_key: say its `header` or its `param`",
        ),
        (
            json!({ "live": [{ "entity": "offer", "base_url": "https://api.example/",
                               "request": { "path": "offres", "query": { "niveau": "{level|niveaux}" } } }] }),
            "no code list is named \"niveaux\"",
        ),
        (
            json!({ "live": [{ "entity": "event", "base_url": "https://api.example/",
                               "request": { "path": "x" } }] }),
            "live[0]: entity: a live source answers offers or mobilities, not events",
        ),
        // Two partners under one identifier, or one API name.
        (
            json!({ "id": "cma", "api_name": "CMA2" }),
            "id: cma is already a partner; configure it with kind = \"cma\"",
        ),
        (
            json!({ "id": "branche2", "api_name": "CMA" }),
            "the API name \"CMA\" is already the partner \"cma\"'s",
        ),
    ];
    for (extra, expected) in cases {
        let e = refused(declared(extra.clone()));
        assert!(e.starts_with("at partners[0]: "), "{extra}: {e}");
        assert!(e.contains(expected), "{extra}: {e}");
    }
    // The same identifier declared twice in one configuration.
    let tables = [
        declared(json!({})),
        declared(json!({ "api_name": "BRANCHE_BIS" })),
    ];
    let e = Registry::standard()
        .declaring(&tables)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("at partners[1]: id: branche is already a partner"),
        "{e}"
    );
}

/// A live source of offers declared against `server`, with `pagination`
/// and `query` (and the live table's `more` settings), its records read by
/// a mapping of JSON `{ "offres": […] }`.
fn paged(
    id: &str,
    server: &wiremock::MockServer,
    pagination: serde_json::Value,
    query: serde_json::Value,
    more: serde_json::Value,
) -> std::sync::Arc<dyn crate::source::LiveOffers> {
    let mut live = json!({ "entity": "offer", "base_url": server.uri(),
                           "request": { "path": "offres", "query": query }, "pagination": pagination });
    live.as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    let tables = [json!({
        "kind": "declared", "id": id, "api_name": id.to_ascii_uppercase().replace('-', "_"),
        "name": id, "about": "A test.",
        "live": [live],
    })];
    let registry = Registry::standard().declaring(&tables).unwrap();
    let configured = registry.configure(&tables).unwrap();
    let mapping = include_str!("../../../tests/tests/e2e/declared/offer.toml")
        .replace("partner = \"bourse\"", &format!("partner = \"{id}\""));
    let catalog =
        passerelle_mappings::Catalog::of_files([("t/offer.toml", mapping.as_str())]).unwrap();
    match configured[0].settings.sources(&catalog).unwrap().pop() {
        Some(crate::Source::LiveOffers(c)) => c,
        _ => panic!("a live source of offers"),
    }
}

/// Offers of the test mapping's shape, numbered from `from`.
fn offres(from: usize, n: usize) -> serde_json::Value {
    let offres: Vec<serde_json::Value> = (from..from + n)
        .map(|i| {
            json!({
                "ref": format!("O-{i}"), "titre": "Boulanger", "rome": ["D1102"],
                "employeur": { "siret": "73282932000074", "nom": "Fournil" },
                "lieu": { "insee": "14118" }, "publiee": "2026-11-02T08:00:00Z",
            })
        })
        .collect();
    json!({ "offres": offres })
}

#[tokio::test]
async fn offsets_and_link_headers_are_followed_to_the_last_page() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // Offsets: two at a time, five offers; the short page is the last.
    let server = MockServer::start().await;
    for (offset, n) in [(0, 2), (2, 2), (4, 1)] {
        Mock::given(method("GET"))
            .and(path("/offres"))
            .and(query_param("debut", offset.to_string()))
            .and(query_param("nombre", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(offres(offset, n)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let source = paged(
        "par-offset",
        &server,
        json!({ "kind": "offset", "size": 2 }),
        json!({ "debut": "{offset}", "nombre": "{size}" }),
        json!({}),
    );
    let answer = source.search(Default::default()).await.unwrap().value;
    assert_eq!(answer.offers.len(), 5);
    assert_eq!(answer.total, 5);

    // A `Link` header to the next page, until there is none; a link to
    // another host is not followed.
    let server = MockServer::start().await;
    let next = |page: usize| format!("<{}/offres?page={page}>; rel=\"next\"", server.uri());
    for page in 1..=3 {
        let mut answer = ResponseTemplate::new(200).set_body_json(offres(page * 10, 2));
        match page {
            1 | 2 => answer = answer.insert_header("link", next(page + 1).as_str()),
            _ => {
                answer = answer.insert_header(
                    "link",
                    "<https://elsewhere.example/offres?page=4>; rel=\"next\"",
                )
            }
        }
        let mock = Mock::given(method("GET")).and(path("/offres"));
        let mock = if page == 1 {
            mock.and(wiremock::matchers::query_param_is_missing("page"))
        } else {
            mock.and(query_param("page", page.to_string()))
        };
        mock.respond_with(answer).expect(1).mount(&server).await;
    }
    let source = paged(
        "par-lien",
        &server,
        json!({ "kind": "link" }),
        json!({}),
        json!({}),
    );
    let answer = source.search(Default::default()).await.unwrap().value;
    assert_eq!(answer.offers.len(), 6);
}

#[tokio::test]
async fn pages_sent_again_unchanged_are_not_read_again() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    // Three pages of two; the second's last record has an employer
    // without a SIRET, rejected.
    let page = |offset: usize| {
        let mut page = offres(offset, if offset == 4 { 1 } else { 2 });
        if offset == 2 {
            page["offres"][1]["employeur"]["siret"] = json!("");
        }
        page
    };
    let mount = |offset: usize, body: serde_json::Value| {
        Mock::given(method("GET"))
            .and(path("/offres"))
            .and(query_param("debut", offset.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    for offset in [0, 2, 4] {
        mount(offset, page(offset)).mount(&server).await;
    }
    // Every search calls the partner: the answers are fresh for 1 ms.
    let source = paged(
        "inchangee",
        &server,
        json!({ "kind": "offset", "size": 2 }),
        json!({ "debut": "{offset}", "nombre": "{size}" }),
        json!({ "cache_ttl": "1ms" }),
    );
    let search = || async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        Arc::clone(&source)
            .search(Default::default())
            .await
            .unwrap()
            .value
    };
    let ids = |a: &crate::source::OfferAnswer| -> Vec<String> {
        a.offers.iter().map(|o| o.partner_id().to_owned()).collect()
    };
    let first = search().await;
    assert_eq!(ids(&first), ["O-0", "O-1", "O-2", "O-4"]);
    assert_eq!(first.rejected.len(), 1);
    assert_eq!(first.rejected[0].index, 3);

    // The same bytes: the partner was called again, and the answer is the
    // last one itself.
    let calls = server.received_requests().await.unwrap().len();
    let again = search().await;
    assert_eq!(server.received_requests().await.unwrap().len(), calls + 3);
    assert!(Arc::ptr_eq(&first, &again));

    // The first page changes: it is read, the others are the last
    // answer's records, in their places, the rejection numbered anew.
    server.reset().await;
    mount(0, offres(10, 2)).mount(&server).await;
    for offset in [2, 4] {
        mount(offset, page(offset)).mount(&server).await;
    }
    let changed = search().await;
    assert!(!Arc::ptr_eq(&first, &changed));
    assert_eq!(ids(&changed), ["O-10", "O-11", "O-2", "O-4"]);
    assert!(Arc::ptr_eq(&changed.offers[2], &first.offers[2]));
    assert_eq!(changed.rejected.len(), 1);
    assert_eq!(changed.rejected[0].index, 3);
    assert_eq!(changed.total, first.total);
}
