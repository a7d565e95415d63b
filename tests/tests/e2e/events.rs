//! Orientation events (iCalendar, synced) and sites (JSON directory).

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, SMALL};

const QUERY: &str = r#"query($f: EventFilter, $first: Int!, $after: String) {
    events(filter: $f, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id partnerId title kind start end allDay recurring location site { id partnerId kind communeCode } }
    }
}"#;

#[tokio::test]
async fn recurring_open_days_are_expanded_in_the_window() {
    let app = spawn_app(SMALL).await;
    let window =
        json!({ "from": "2027-01-01T00:00:00Z", "to": "2027-07-01T00:00:00Z", "kind": "OPEN_DAY" });
    let data = app.data(QUERY, json!({ "f": window, "first": 1000 })).await;
    let nodes = data["events"]["nodes"].as_array().unwrap();
    // 71 CFAs each open three to five first Saturdays.
    assert!(nodes.len() >= 71 * 3, "{}", nodes.len());
    assert!(nodes
        .iter()
        .all(|n| n["recurring"] == true && n["kind"] == "OPEN_DAY"));
    let starts: Vec<&str> = nodes.iter().map(|n| n["start"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "soonest first");
    // 9:00 or 10:00 in Paris: 08:00/09:00 UTC in winter, 07:00/08:00 in summer.
    assert!(starts
        .iter()
        .any(|s| s.starts_with("2027-04")
            && (s.ends_with("T07:00:00Z") || s.ends_with("T08:00:00Z"))));

    let narrow =
        json!({ "from": "2027-03-01T00:00:00Z", "to": "2027-03-31T00:00:00Z", "kind": "OPEN_DAY" });
    let march = app.data(QUERY, json!({ "f": narrow, "first": 1000 })).await;
    assert!(march["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["start"].as_str().unwrap().starts_with("2027-03")));
}

#[tokio::test]
async fn all_day_events_and_site_filters() {
    let app = spawn_app(SMALL).await;
    let window = json!({ "from": "2027-01-01T00:00:00Z", "to": "2027-12-31T00:00:00Z", "kind": "QUINZAINE", "departement": "14" });
    let data = app.data(QUERY, json!({ "f": window, "first": 100 })).await;
    let nodes = data["events"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!(nodes.iter().all(
        |n| n["allDay"] == true && n["site"]["communeCode"].as_str().unwrap().starts_with("14")
    ));
    assert!(
        nodes
            .iter()
            .all(|n| n["title"].as_str().unwrap().contains(", ")),
        "escaped commas are read"
    );

    let sites = app
        .data("{ orientationSites(filter: { kind: CFA, departement: \"14\" }) { totalCount nodes { id kind uai location { communeCode departement { code } } } } }", json!({}))
        .await;
    assert_eq!(sites["orientationSites"]["totalCount"], 17);
    let sites = sites["orientationSites"]["nodes"].as_array().unwrap();
    assert_eq!(sites.len(), 17);
    assert!(sites
        .iter()
        .all(|s| s["location"]["departement"]["code"] == "14"));
    assert!(sites
        .iter()
        .all(|s| s["uai"].as_str().unwrap().starts_with("014")));
}

#[tokio::test]
async fn paging_through_events_visits_each_occurrence_once() {
    let app = spawn_app(SMALL).await;
    let window = json!({ "from": "2026-12-01T00:00:00Z", "to": "2027-07-01T00:00:00Z" });
    let mut seen = std::collections::HashSet::new();
    let mut after = serde_json::Value::Null;
    let mut total: u64;
    loop {
        let data = app
            .data(QUERY, json!({ "f": window, "first": 40, "after": after }))
            .await;
        total = data["events"]["totalCount"].as_u64().unwrap();
        for n in data["events"]["nodes"].as_array().unwrap() {
            assert!(
                seen.insert(n["id"].as_str().unwrap().to_owned()),
                "twice: {}",
                n["id"]
            );
        }
        if !data["events"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = data["events"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len() as u64, total);
    let (_, body) = app
        .post(QUERY, json!({ "f": { "from": "2027-01-01T00:00:00Z", "to": "2029-01-01T00:00:00Z" }, "first": 1 }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
}

#[tokio::test]
async fn a_calendar_written_to_rfc_5545_is_expanded_as_calendar_clients_show_it() {
    let ics = include_bytes!("../../../connectors/src/spro/samples/rfc5545.ics");
    let spro = crate::corpus::directory_of(&[("cio-14118.ics".to_owned(), ics.to_vec())]).await;
    let app = spawn_app_with(
        SMALL,
        &format!(
            "[sandbox]\nenabled = false\n[[partners]]\nkind = \"spro\"\ndirectory_url = \"{}\"\n",
            spro.base_url().join("/api/sites").unwrap()
        ),
    )
    .await;
    let query = r#"query($f: EventFilter) {
        events(filter: $f, first: 100) {
            totalCount
            nodes { id title status start end allDay recurring location }
        }
    }"#;
    let window = json!({ "from": "2027-01-01T00:00:00Z", "to": "2027-07-01T00:00:00Z" });
    let listed = |data: &serde_json::Value| -> Vec<String> {
        data["events"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                format!(
                    "{} {} {} {}",
                    n["start"].as_str().unwrap(),
                    n["end"].as_str().unwrap(),
                    n["status"].as_str().unwrap(),
                    n["title"].as_str().unwrap()
                )
            })
            .collect()
    };
    let data = app.data(query, json!({ "f": window })).await;
    assert_eq!(
        listed(&data),
        [
            // A floating time, in Paris, every other Wednesday until 10 March,
            // less two skipped dates, plus one added; no end: an instant.
            "2027-01-13T13:00:00Z 2027-01-13T13:00:00Z CONFIRMED Atelier CV",
            // The last weekday of each month (BYSETPOS), all day: to midnight.
            "2027-01-28T23:00:00Z 2027-01-29T23:00:00Z CONFIRMED Forum de l'alternance, dernier jour ouvré du mois",
            "2027-02-24T13:00:00Z 2027-02-24T13:00:00Z CONFIRMED Atelier CV",
            "2027-02-25T23:00:00Z 2027-02-26T23:00:00Z CONFIRMED Forum de l'alternance, dernier jour ouvré du mois",
            "2027-02-28T23:00:00Z 2027-03-02T23:00:00Z TENTATIVE Quinzaine de l'apprentissage : journée d'orientation",
            // Outlook's Romance Standard Time is Paris; the end from the DURATION.
            "2027-03-06T09:00:00Z 2027-03-06T15:00:00Z CONFIRMED Portes ouvertes",
            "2027-03-10T13:00:00Z 2027-03-10T13:00:00Z CONFIRMED Atelier CV",
            "2027-03-17T13:00:00Z 2027-03-17T13:00:00Z CONFIRMED Atelier CV",
            "2027-03-30T22:00:00Z 2027-03-31T22:00:00Z CONFIRMED Forum de l'alternance, dernier jour ouvré du mois",
            // The 3 April open day, moved by its override of the highest SEQUENCE.
            "2027-04-10T12:00:00Z 2027-04-10T15:00:00Z CONFIRMED Portes ouvertes (reportées)",
            // Of two versions, the later SEQUENCE.
            "2027-04-20T07:30:00Z 2027-04-20T10:00:00Z CONFIRMED Visite d'entreprise (nouvelle date)",
            // 1 May skipped (EXDATE), 5 June cancelled (an override).
        ]
    );
    let moved = &data["events"]["nodes"][9];
    assert_eq!(moved["location"], "Hôtel de ville de Caen");
    assert_eq!(moved["recurring"], true);

    let all = app
        .data(
            query,
            json!({ "f": { "from": "2027-01-01T00:00:00Z", "to": "2027-07-01T00:00:00Z", "includeCancelled": true } }),
        )
        .await;
    let cancelled: Vec<String> = listed(&all)
        .into_iter()
        .filter(|l| l.contains(" CANCELLED "))
        .collect();
    assert_eq!(
        cancelled,
        [
            // A cancelled event: each occurrence of its rule (BYMONTHDAY).
            "2027-02-15T08:00:00Z 2027-02-15T11:00:00Z CANCELLED Réunion d'information",
            "2027-03-15T08:00:00Z 2027-03-15T11:00:00Z CANCELLED Réunion d'information",
            "2027-06-05T08:00:00Z 2027-06-05T14:00:00Z CANCELLED Portes ouvertes",
        ]
    );
    assert_eq!(all["events"]["totalCount"], 14);
}

#[tokio::test]
async fn the_sandbox_s_cancelled_events_are_shown_only_to_who_asks() {
    let app = spawn_app(SMALL).await;
    let query = r#"query($f: EventFilter) {
        events(filter: $f, first: 1000) { totalCount nodes { id status end start site { partnerId } } }
    }"#;
    let window = json!({ "from": "2026-12-01T00:00:00Z", "to": "2027-12-01T00:00:00Z" });
    let default = app.data(query, json!({ "f": window })).await;
    let mut with = window.clone();
    with["includeCancelled"] = json!(true);
    let all = app.data(query, json!({ "f": with })).await;
    let nodes = |d: &serde_json::Value| d["events"]["nodes"].as_array().unwrap().clone();
    assert!(nodes(&default).iter().all(|n| n["status"] != "CANCELLED"));
    let cancelled: Vec<serde_json::Value> = nodes(&all)
        .into_iter()
        .filter(|n| n["status"] == "CANCELLED")
        .collect();
    // The Cité des métiers' visit, and some CFAs' second open day.
    assert!(cancelled
        .iter()
        .any(|n| n["site"]["partnerId"] == "cdm-76540"));
    assert!(cancelled
        .iter()
        .any(|n| n["site"]["partnerId"].as_str().unwrap().starts_with("cfa-")));
    assert_eq!(
        all["events"]["totalCount"].as_u64().unwrap(),
        default["events"]["totalCount"].as_u64().unwrap() + cancelled.len() as u64
    );
    // Every occurrence has an end, from DTEND or DURATION.
    assert!(nodes(&all)
        .iter()
        .all(|n| n["end"].as_str().unwrap() >= n["start"].as_str().unwrap()));
}

#[tokio::test]
async fn events_are_found_by_words_and_around_a_place() {
    let app = spawn_app(SMALL).await;
    let query = r#"query($f: EventFilter) {
        events(filter: $f, first: 1000) {
            totalCount
            nodes { title description site { name communeCode } }
        }
    }"#;
    let year = json!({ "from": "2027-01-01T00:00:00Z", "to": "2027-12-31T00:00:00Z" });
    let all = app.data(query, json!({ "f": year })).await["events"]["totalCount"]
        .as_u64()
        .unwrap();

    // Words, case and accents aside, in the title, description or site
    // (`de l'apprentissage` says nothing an event is told apart by).
    let mut f = year.clone();
    f["text"] = json!("QUINZAINE de l'APPRENTISSAGE");
    let quinzaine = app.data(query, json!({ "f": f })).await;
    let nodes = quinzaine["events"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!((nodes.len() as u64) < all);
    assert!(nodes.iter().all(|n| {
        let folded = |v: &serde_json::Value| {
            passerelle_schema::reference::fold_name(v.as_str().unwrap_or(""))
        };
        [&n["title"], &n["description"], &n["site"]["name"]]
            .iter()
            .any(|v| folded(v).contains("quinzaine"))
    }));
    f["text"] = json!("portes OUVERTES");
    let open_days = app.data(query, json!({ "f": f })).await;
    let nodes = open_days["events"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!(nodes
        .iter()
        .all(|n| n["title"].as_str().unwrap().starts_with("Portes ouvertes")));
    f["text"] = json!("astronautique lunaire");
    assert_eq!(
        app.data(query, json!({ "f": f })).await["events"]["totalCount"],
        0
    );

    // Around Caen: sites within 15 km only, fewer than in all Normandy.
    let mut near = year.clone();
    near["near"] = json!({ "commune": "14118", "radiusKm": 15 });
    let around = app.data(query, json!({ "f": near })).await;
    let nodes = around["events"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert!((nodes.len() as u64) < all);
    let caen = passerelle_schema::reference::commune("14118")
        .unwrap()
        .position
        .unwrap();
    for n in nodes {
        let commune = n["site"]["communeCode"].as_str().unwrap();
        let at = passerelle_schema::reference::commune(commune)
            .unwrap()
            .position
            .unwrap();
        assert!(caen.distance_km(&at) <= 15.0, "{commune}");
    }
    // And the directory's sites around the same place.
    let sites = app
        .data(
            r#"{ orientationSites(filter: { near: { commune: "14118", radiusKm: 15 } }, first: 1000) { totalCount nodes { communeCode } } }"#,
            json!({}),
        )
        .await;
    assert!(sites["orientationSites"]["totalCount"].as_u64().unwrap() > 0);

    // A radius out of bounds, or a text too long, is refused by name.
    let mut wrong = year.clone();
    wrong["near"] = json!({ "commune": "14118", "radiusKm": 500 });
    let (_, body) = app.post(query, json!({ "f": wrong })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("filter.near.radiusKm"));
    let mut long = year.clone();
    long["text"] = json!("a".repeat(201));
    let (_, body) = app.post(query, json!({ "f": long })).await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("filter.text"));
}
