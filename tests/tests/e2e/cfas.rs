//! CFAs joined across partners, loaded in batches.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SMALL};

const CFA: &str = r#"query($uai: String!) {
    cfa(uai: $uai) {
        uai name location { communeName departement { code } } departement { code name } vacancies
        formations { totalCount nodes { title vacancies sessions { start recruiting vacancies } } }
        events(from: "2026-12-01T00:00:00Z", first: 2) { totalCount edges { cursor node { title } } }
        offers(first: 5) { totalCount edges { cursor } nodes { title sources { partner } } pageInfo { hasNextPage } }
        nextOpenDay(from: "2026-12-01T00:00:00Z") { title start kind site { id partnerId } }
        mobility { total { mobilities } byProgram { program figures { mobilities } } }
    }
}"#;

#[tokio::test]
async fn a_caen_cfa_gathers_programmes_offers_open_days_and_mobility_from_their_partners() {
    let app = spawn_app((3000, 2500, 300)).await;
    let caen = app
        .data(
            r#"{ cfas(filter: { commune: "14118" }, first: 50) { totalCount nodes { uai } } }"#,
            json!({}),
        )
        .await;
    let uais: Vec<String> = caen["cfas"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["uai"].as_str().unwrap().to_owned())
        .collect();
    assert!(uais.len() >= 3, "{caen}");
    let mut complete = None;
    for uai in &uais {
        let data = app.data(CFA, json!({ "uai": uai })).await;
        let c = &data["cfa"];
        assert_eq!(c["location"]["communeName"], "Caen");
        assert_eq!(c["departement"]["code"], "14");
        let programs: Vec<&str> = c["mobility"]["byProgram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["program"].as_str().unwrap())
            .collect();
        let has_all = c["vacancies"].as_u64().unwrap() > 0
            && !c["offers"]["nodes"].as_array().unwrap().is_empty()
            && c["nextOpenDay"]["kind"] == "OPEN_DAY"
            && programs.contains(&"PASS_MONDE")
            && programs.iter().any(|p| p.starts_with("ERASMUS"));
        if has_all {
            complete = Some(data);
            break;
        }
    }
    let data = complete
        .expect("a Caen CFA with programmes, offers, an open day and both mobility programmes");
    let c = &data["cfa"];
    assert!(c["nextOpenDay"]["start"].as_str().unwrap() >= "2026-12-01");
    assert!(c["nextOpenDay"]["site"]["partnerId"]
        .as_str()
        .unwrap()
        .starts_with("cfa-"));
    insta::assert_json_snapshot!(c);
}

pub(crate) async fn requests(app: &TestApp) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for p in [
        "cci",
        "cma",
        "carif",
        "erasmus",
        "passmonde",
        "spro",
        "cnfpt",
    ] {
        let r: Value = app
            .client
            .get(app.url(&format!("/_sandbox/{p}/faults")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.insert(p.to_owned(), r["requests"].as_u64().unwrap());
    }
    out
}

async fn calls_for_a_page_of(n: usize) -> HashMap<String, u64> {
    let app = crate::helpers::spawn_app_with(SMALL, crate::helpers::NO_DETECTION).await;
    let before = requests(&app).await;
    let data = app
        .data(
            r#"query($n: Int!) { cfas(first: $n) { nodes {
                uai vacancies formations { nodes { title } } offers(first: 3) { nodes { title } }
                nextOpenDay(from: "2026-12-01T00:00:00Z") { start }
                mobility { total { mobilities } }
            } } }"#,
            json!({ "n": n }),
        )
        .await;
    assert_eq!(data["cfas"]["nodes"].as_array().unwrap().len(), n);
    calls_since(&app, &before).await
}

/// The calls each partner received since `before` (from [`requests`]).
pub(crate) async fn calls_since(
    app: &TestApp,
    before: &HashMap<String, u64>,
) -> HashMap<String, u64> {
    let after = requests(app).await;
    after
        .iter()
        .map(|(p, a)| (p.clone(), a - before[p]))
        .collect()
}

#[tokio::test]
async fn fifty_cfas_make_the_same_partner_calls_as_five() {
    let five = calls_for_a_page_of(5).await;
    let fifty = calls_for_a_page_of(50).await;
    assert_eq!(five, fifty, "partner calls grew with the number of CFAs");
    assert!(fifty["cci"] > 0 && fifty["passmonde"] > 0, "{fifty:?}");
    // Synced partners are read from the store, not called.
    assert_eq!(
        fifty["cma"] + fifty["carif"] + fifty["erasmus"] + fifty["spro"],
        0,
        "{fifty:?}"
    );
}

#[tokio::test]
async fn an_employer_gathers_its_offers_and_the_region_adds_up() {
    let app = spawn_app(SMALL).await;
    let first = app
        .data(
            "{ offers(first: 1, filter: { source: CCI }) { nodes { employer { siret } } } }",
            json!({}),
        )
        .await;
    let siret = first["offers"]["nodes"][0]["employer"]["siret"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .data(
            "query($s: String!) { employer(siret: $s) { siret name offerCount offers(first: 100) { totalCount nodes { employer { siret } } } } }",
            json!({ "s": siret }),
        )
        .await;
    assert!(data["employer"]["offerCount"].as_u64().unwrap() >= 1);
    assert_eq!(
        data["employer"]["offers"]["totalCount"],
        data["employer"]["offerCount"]
    );
    assert!(data["employer"]["offers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["employer"]["siret"] == siret));

    let region = app
        .data(
            "{ region { formations { key programmes capacity vacancies } offers { total bySource { key count } byDepartement { key count } } mobility { total { mobilities } } } }",
            json!({}),
        )
        .await;
    let r = &region["region"];
    let all = r["formations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "all")
        .unwrap();
    assert_eq!(all["programmes"], 500);
    let by_dep: u64 = r["formations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["key"].as_str().unwrap().starts_with("departement:"))
        .map(|g| g["programmes"].as_u64().unwrap())
        .sum();
    assert_eq!(by_dep, 500);
    let offers_by_dep: u64 = r["offers"]["byDepartement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(offers_by_dep, r["offers"]["total"].as_u64().unwrap());
    assert!(r["mobility"]["total"]["mobilities"].as_u64().unwrap() > 0);
}

/// Every CFA's joins, read from the indexes kept per snapshot, answer what
/// the searches they replace answer: its département's open offers for its
/// programmes' occupations, its site's events, its programmes, its
/// mobilities, each asked of the root field that searches them.
#[tokio::test]
async fn every_cfa_s_joins_answer_the_searches_they_replace() {
    let app = crate::helpers::spawn_app_with(
        SMALL,
        "[limits]\nmax_page_size = 5000\n[limits.rate]\nanonymous_per_second = 100000\nburst = 100000\n",
    )
    .await;
    // From this hour: a CFA's events are then read from the occurrences
    // kept by site for today, the search of every site's event by event.
    let now = chrono::Utc::now();
    let from = now.format("%Y-%m-%dT%H:00:00Z").to_string();
    let to = (now + chrono::Duration::days(365))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string();
    let figures = "total { mobilities participants days amount } \
                   byProgram { program figures { mobilities participants days } }";
    let page = app
        .data(
            &format!(
                "{{ cfas(first: 5000) {{ totalCount nodes {{ uai departement {{ code }} vacancies \
                 formations(first: 5000) {{ totalCount nodes {{ id romeCodes vacancies }} }} \
                 offers(first: 5000) {{ totalCount nodes {{ id }} }} \
                 events(from: \"{from}\", first: 5000) {{ totalCount nodes {{ id title start }} }} \
                 nextOpenDay(from: \"{from}\") {{ id }} \
                 mobility {{ {figures} }} }} }} \
                 orientationSites(first: 5000) {{ nodes {{ partnerId uai }} }} \
                 events(filter: {{ from: \"{from}\", to: \"{to}\" }}, first: 5000) \
                   {{ totalCount nodes {{ id title start kind site {{ partnerId }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    // Every site's events, listed without asking for a site: read event by
    // event, where a CFA's are read from the occurrences kept by site.
    let every_event = page["events"]["nodes"].as_array().unwrap();
    assert!(
        page["events"]["totalCount"].as_u64().unwrap() < 5000,
        "{page}"
    );
    let sites: HashMap<&str, &str> = page["orientationSites"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| Some((s["uai"].as_str()?, s["partnerId"].as_str()?)))
        .collect();
    let cfas = page["cfas"]["nodes"].as_array().unwrap();
    assert!(cfas.len() >= 20, "{page}");
    let ids = |v: &Value| -> Vec<Value> {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].clone())
            .collect()
    };
    let (mut with_offers, mut with_events, mut with_mobility) = (0, 0, 0);
    for cfa in cfas {
        let uai = cfa["uai"].as_str().unwrap();
        let dep = cfa["departement"]["code"].as_str().unwrap();
        let mut romes: Vec<&str> = cfa["formations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["romeCodes"].as_array().unwrap())
            .map(|r| r.as_str().unwrap())
            .collect();
        romes.sort_unstable();
        romes.dedup();
        let site = sites.get(uai).copied();
        let searched = app
            .data(
                &format!(
                    "query($uai: String!, $dep: String, $romes: [String!], \
                       $withOffers: Boolean!) {{ \
                     offers(filter: {{ departement: $dep, rome: $romes }}, first: 5000) @include(if: $withOffers) \
                       {{ nodes {{ id status }} }} \
                     formations(filter: {{ cfa: $uai }}, first: 5000) {{ totalCount nodes {{ id vacancies }} }} \
                     mobility(filter: {{ cfa: $uai }}) {{ {figures} }} }}"
                ),
                json!({
                    "uai": uai, "dep": dep, "romes": romes, "withOffers": !romes.is_empty(),
                }),
            )
            .await;
        // Offers: the search's open ones, in its order.
        let open: Vec<Value> = match searched.get("offers") {
            Some(o) => o["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["status"] == "ACTIVE")
                .map(|n| n["id"].clone())
                .collect(),
            None => Vec::new(),
        };
        assert_eq!(ids(&cfa["offers"]), open, "offers of {uai}");
        assert_eq!(cfa["offers"]["totalCount"], open.len(), "offers of {uai}");
        with_offers += usize::from(!open.is_empty());
        // Events: the site's, in the year from `from`.
        match site {
            Some(site) => {
                let of_site: Vec<&Value> = every_event
                    .iter()
                    .filter(|n| n["site"]["partnerId"] == site)
                    .collect();
                let occurrences: Vec<(Value, Value)> = cfa["events"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| (n["title"].clone(), n["start"].clone()))
                    .collect();
                let found: Vec<(Value, Value)> = of_site
                    .iter()
                    .map(|n| (n["title"].clone(), n["start"].clone()))
                    .collect();
                assert_eq!(occurrences, found, "events of {uai}");
                assert_eq!(cfa["events"]["totalCount"], found.len(), "events of {uai}");
                let open_day = of_site
                    .iter()
                    .find(|n| n["kind"] == "OPEN_DAY")
                    .map_or(Value::Null, |n| n["id"].clone());
                assert_eq!(cfa["nextOpenDay"]["id"], open_day, "open day of {uai}");
                with_events += usize::from(!found.is_empty());
            }
            None => assert_eq!(cfa["events"]["totalCount"], 0, "events of {uai}"),
        }
        // Programmes and their free places.
        let mut programmes = ids(&cfa["formations"]);
        let mut found = ids(&searched["formations"]);
        programmes.sort_by_key(ToString::to_string);
        found.sort_by_key(ToString::to_string);
        assert_eq!(programmes, found, "programmes of {uai}");
        let places: u64 = searched["formations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["vacancies"].as_u64().unwrap())
            .sum();
        assert_eq!(cfa["vacancies"], places, "vacancies of {uai}");
        // Mobility, counted.
        assert_eq!(cfa["mobility"], searched["mobility"], "mobility of {uai}");
        with_mobility += usize::from(cfa["mobility"]["total"]["mobilities"] != 0);
    }
    // The comparison compared something.
    assert!(
        with_offers >= 10 && with_events >= 10 && with_mobility >= 10,
        "{with_offers} CFAs with offers, {with_events} with events, {with_mobility} with mobility"
    );
}
