//! Searches around a place: every answer checked against a brute-force
//! filter over all the offers and programmes, at centres inside Normandy
//! and at its borders, in both orders and across pages.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::{all_offers, spawn_app_with, TestApp, SMALL};

/// Hundreds of pages are read: the rate of anonymous callers is raised.
const UNLIMITED: &str = "[limits.rate]\nanonymous_per_second = 100000\nburst = 100000\n";

/// The great-circle distance in kilometres, written apart from the
/// gateway's own.
fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

fn position(commune: &str) -> Option<(f64, f64)> {
    passerelle_schema::reference::commune(commune)
        .and_then(|c| c.position)
        .map(|p| (p.latitude, p.longitude))
}

/// Centres: a commune or a position, each with the radii tried.
fn centres() -> Vec<(Value, (f64, f64))> {
    let commune = |code: &str| (json!({ "commune": code }), position(code).unwrap());
    let point = |lat: f64, lon: f64| (json!({ "lat": lat, "lon": lon }), (lat, lon));
    vec![
        // Caen, Rouen, Alençon (the southern border), Le Tréport (the
        // border with the Somme), Pontorson (by Brittany).
        commune("14118"),
        commune("76540"),
        commune("61001"),
        commune("76711"),
        commune("50410"),
        // Off Cherbourg, at sea; in Paris, outside Normandy.
        point(49.75, -1.7),
        point(48.8566, 2.3522),
    ]
}

const RADII: [f64; 4] = [1.0, 12.5, 40.0, 200.0];

/// Every item of a connection, paging `page` at a time.
async fn every_edge(
    app: &TestApp,
    field: &str,
    query: &str,
    vars: Value,
    page: usize,
) -> Vec<Value> {
    let mut edges = Vec::new();
    let mut after = Value::Null;
    loop {
        let mut v = vars.clone();
        v["first"] = json!(page);
        v["after"] = after.clone();
        let data = app.data(query, v).await;
        let conn = &data[field];
        let got = conn["edges"].as_array().expect("edges").clone();
        assert!(conn["totalCount"].as_u64().unwrap() as usize >= edges.len() + got.len());
        edges.extend(got);
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            assert_eq!(conn["totalCount"].as_u64().unwrap() as usize, edges.len());
            return edges;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

const OFFERS: &str = r#"query($f: OfferFilter, $first: Int!, $after: String, $o: OfferOrder = NEWEST) {
    offers(filter: $f, first: $first, after: $after, orderBy: $o) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor distanceKm node { id location { communeCode } } }
    }
}"#;

#[tokio::test]
async fn offers_around_a_place_are_those_a_brute_force_filter_finds() {
    let app = spawn_app_with(SMALL, UNLIMITED).await;
    let (everything, _) = all_offers(&app, json!(null), 1000).await;
    let communes: HashMap<String, String> = everything
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["location"]["communeCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut found_any = 0;
    for (near, centre) in centres() {
        for radius in RADII {
            let mut near = near.clone();
            near["radiusKm"] = json!(radius);
            let distance = |id: &str| position(&communes[id]).map(|p| haversine(centre, p));
            // Offers whose distance is within a metre of the radius may
            // fall either side of it by rounding.
            let border = |id: &str| distance(id).is_some_and(|d| (d - radius).abs() < 1e-3);
            let mut wanted: Vec<&str> = communes
                .keys()
                .map(String::as_str)
                .filter(|id| distance(id).is_some_and(|d| d <= radius) && !border(id))
                .collect();
            wanted.sort_unstable();
            for order in ["NEWEST", "DISTANCE"] {
                let vars = json!({ "f": { "near": near }, "o": order });
                let edges = every_edge(&app, "offers", OFFERS, vars, 97).await;
                let mut got: Vec<&str> = edges
                    .iter()
                    .map(|e| e["node"]["id"].as_str().unwrap())
                    .filter(|id| !border(id))
                    .collect();
                // Each offer once, across pages.
                let n = got.len();
                got.sort_unstable();
                got.dedup();
                assert_eq!(n, got.len(), "{near} {order}: an offer on two pages");
                assert_eq!(got, wanted, "{near} {order}");
                for e in &edges {
                    let id = e["node"]["id"].as_str().unwrap();
                    let d = e["distanceKm"].as_f64().expect("a distance");
                    assert!((d - distance(id).unwrap()).abs() < 0.01, "{id}: {d}");
                }
                if order == "DISTANCE" {
                    let ds: Vec<f64> = edges
                        .iter()
                        .map(|e| e["distanceKm"].as_f64().unwrap())
                        .collect();
                    assert!(
                        ds.windows(2).all(|w| w[0] <= w[1] + 1e-3),
                        "{near}: not nearest first"
                    );
                }
            }
            found_any += wanted.len();
        }
    }
    assert!(
        found_any > 1000,
        "too few offers near the centres to test: {found_any}"
    );
}

#[tokio::test]
async fn a_cursor_by_distance_stays_valid_and_the_orders_do_not_mix() {
    let app = spawn_app_with(SMALL, UNLIMITED).await;
    let vars = json!({ "f": { "near": { "commune": "14118", "radiusKm": 30 } }, "o": "DISTANCE", "first": 5 });
    let data = app.data(OFFERS, vars.clone()).await;
    let end = data["offers"]["pageInfo"]["endCursor"].clone();
    // The same page after the same cursor, twice.
    let mut next = vars.clone();
    next["after"] = end.clone();
    let a = app.data(OFFERS, next.clone()).await;
    let b = app.data(OFFERS, next).await;
    assert_eq!(a, b);
    // A cursor by distance is not one of the newest-first list.
    let mut newest = vars;
    newest["o"] = json!("NEWEST");
    newest["after"] = end;
    let (_, body) = app.post(OFFERS, newest).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_CURSOR",
        "{body}"
    );
}

#[tokio::test]
async fn bad_searches_around_a_place_get_a_coded_error() {
    let app = spawn_app_with(SMALL, UNLIMITED).await;
    let cases = [
        (
            json!({ "commune": "99999", "radiusKm": 10 }),
            "filter.near.commune",
        ),
        (
            json!({ "commune": "75056", "radiusKm": 10 }),
            "filter.near.commune",
        ),
        (
            json!({ "lat": 91.0, "lon": 0.0, "radiusKm": 10 }),
            "filter.near.lat",
        ),
        (
            json!({ "lat": 49.0, "lon": -181.0, "radiusKm": 10 }),
            "filter.near.lon",
        ),
        (
            json!({ "commune": "14118", "radiusKm": 0.5 }),
            "filter.near.radiusKm",
        ),
        (
            json!({ "commune": "14118", "radiusKm": 201 }),
            "filter.near.radiusKm",
        ),
        (
            json!({ "commune": "14118", "lat": 49.0, "lon": 0.0, "radiusKm": 10 }),
            "both",
        ),
        (json!({ "lat": 49.0, "radiusKm": 10 }), "lat and lon"),
    ];
    for (near, says) in cases {
        for (query, field) in [
            (
                "query($n: NearInput!) { offers(filter: { near: $n }) { totalCount } }",
                "offers",
            ),
            (
                "query($n: NearInput!) { formations(filter: { near: $n }) { totalCount } }",
                "formations",
            ),
        ] {
            let (status, body) = app.post(query, json!({ "n": near })).await;
            assert_eq!(status, 200, "{body}");
            let e = &body["errors"][0];
            assert_eq!(
                e["extensions"]["code"], "INVALID_INPUT",
                "{field} {near}: {body}"
            );
            assert!(
                e["message"].as_str().unwrap().contains(says),
                "{field} {near}: {body}"
            );
        }
    }
    let (_, body) = app
        .post("{ offers(orderBy: DISTANCE) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{body}"
    );
}

const FORMATIONS: &str = r#"query($f: FormationFilter, $first: Int!, $after: String, $o: FormationOrder = CATALOGUE) {
    formations(filter: $f, first: $first, after: $after, orderBy: $o) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor distanceKm node { id communeCode places { communeCode } } }
    }
}"#;

#[tokio::test]
async fn programmes_around_a_place_are_those_a_brute_force_filter_finds() {
    let app = spawn_app_with(SMALL, UNLIMITED).await;
    let all = every_edge(&app, "formations", FORMATIONS, json!({}), 100).await;
    // Each programme's communes: its own and its places'.
    let places: HashMap<String, Vec<String>> = all
        .iter()
        .map(|e| {
            let n = &e["node"];
            let mut communes: Vec<String> = n["places"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|p| p["communeCode"].as_str().map(str::to_owned))
                .collect();
            communes.extend(n["communeCode"].as_str().map(str::to_owned));
            (n["id"].as_str().unwrap().to_owned(), communes)
        })
        .collect();
    let mut found_any = 0;
    for (near, centre) in centres() {
        for radius in [12.5, 40.0, 200.0] {
            let mut near = near.clone();
            near["radiusKm"] = json!(radius);
            let distance = |id: &str| {
                places[id]
                    .iter()
                    .filter_map(|c| position(c))
                    .map(|p| haversine(centre, p))
                    .min_by(f64::total_cmp)
            };
            let border = |id: &str| distance(id).is_some_and(|d| (d - radius).abs() < 1e-3);
            let mut wanted: Vec<&str> = places
                .keys()
                .map(String::as_str)
                .filter(|id| distance(id).is_some_and(|d| d <= radius) && !border(id))
                .collect();
            wanted.sort_unstable();
            for order in ["CATALOGUE", "DISTANCE"] {
                let vars = json!({ "f": { "near": near }, "o": order });
                let edges = every_edge(&app, "formations", FORMATIONS, vars, 23).await;
                let mut got: Vec<&str> = edges
                    .iter()
                    .map(|e| e["node"]["id"].as_str().unwrap())
                    .filter(|id| !border(id))
                    .collect();
                got.sort_unstable();
                assert_eq!(got, wanted, "{near} {order}");
                if order == "DISTANCE" {
                    let ds: Vec<f64> = edges
                        .iter()
                        .map(|e| e["distanceKm"].as_f64().unwrap())
                        .collect();
                    assert!(
                        ds.windows(2).all(|w| w[0] <= w[1] + 1e-3),
                        "{near}: not nearest first"
                    );
                }
            }
            found_any += wanted.len();
        }
    }
    assert!(
        found_any > 200,
        "too few programmes near the centres: {found_any}"
    );
}
