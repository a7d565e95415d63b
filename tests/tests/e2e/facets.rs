//! Facets: the counts a portal shows beside its results, each equal to
//! what the search refined by that value finds.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, SMALL};

const OFFERS: &str = r#"query($f: OfferFilter) {
    offers(filter: $f, first: 1) {
        totalCount
        facets {
            levels { value label count }
            departements { value label count }
            occupations(first: 200) { value label count }
            sources { value label count }
            publicSector { value label count }
        }
    }
}"#;

const FORMATIONS: &str = r#"query($f: FormationFilter) {
    formations(filter: $f, first: 1) {
        totalCount
        facets {
            levels { value label count }
            departements { value label count }
            occupations { value label count }
            withVacancies
        }
    }
}"#;

/// A search: a query of a connection, under a filter to refine.
struct Search<'a> {
    app: &'a TestApp,
    query: &'a str,
    /// The connection's field.
    field: &'a str,
    base: Value,
}

impl Search<'_> {
    /// The connection's total under `filter`.
    async fn total(&self, filter: Value) -> u64 {
        self.app.data(self.query, json!({ "f": filter })).await[self.field]["totalCount"]
            .as_u64()
            .unwrap()
    }

    /// Checks that each facet of `dimension` counts what the search refined
    /// by its value (the filter's `key`, as `value` writes it) finds, the
    /// most frequent first, each with a label.
    async fn refines(
        &self,
        facets: &Value,
        dimension: &str,
        key: &str,
        value: impl Fn(&str) -> Value,
    ) {
        let list = facets[dimension].as_array().unwrap();
        assert!(!list.is_empty(), "{dimension}");
        let counts: Vec<u64> = list.iter().map(|f| f["count"].as_u64().unwrap()).collect();
        assert!(
            counts.windows(2).all(|w| w[0] >= w[1]),
            "{dimension}: most frequent first"
        );
        for f in list.iter().take(6) {
            assert!(f["label"].is_string(), "{dimension}: {f}");
            let mut filter = self.base.clone();
            filter[key] = value(f["value"].as_str().unwrap());
            assert_eq!(
                self.total(filter.clone()).await,
                f["count"].as_u64().unwrap(),
                "{dimension} {f} under {filter}"
            );
        }
    }
}

/// A facet's level as the filter takes it.
fn level(v: &str) -> Value {
    json!(v.parse::<u64>().unwrap())
}

#[tokio::test]
async fn offer_facets_count_what_each_refinement_finds() {
    let app = spawn_app(SMALL).await;
    let base = json!({ "departement": "14" });
    let data = app.data(OFFERS, json!({ "f": base })).await;
    let all = data["offers"]["totalCount"].as_u64().unwrap();
    let facets = &data["offers"]["facets"];
    assert_eq!(
        facets["departements"],
        json!([{ "value": "14", "label": "Calvados", "count": all }])
    );
    let public: u64 = facets["publicSector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(public, all, "every offer is public or private");
    let search = Search {
        app: &app,
        query: OFFERS,
        field: "offers",
        base,
    };
    search.refines(facets, "levels", "level", level).await;
    search
        .refines(facets, "occupations", "rome", |v| json!([v]))
        .await;
    search
        .refines(facets, "sources", "source", |v| json!(v))
        .await;
    search
        .refines(facets, "publicSector", "publicSector", |v| {
            json!(v == "true")
        })
        .await;
    // Across the region, by département.
    let region = app.data(OFFERS, json!({ "f": {} })).await;
    let search = Search {
        app: &app,
        query: OFFERS,
        field: "offers",
        base: json!({}),
    };
    search
        .refines(
            &region["offers"]["facets"],
            "departements",
            "departement",
            |v| json!(v),
        )
        .await;

    // The facets follow the search: an occupation's offers count as it.
    let bakers = app
        .data(OFFERS, json!({ "f": { "rome": ["D1102"] } }))
        .await;
    let n = bakers["offers"]["totalCount"].as_u64().unwrap();
    assert!(n > 0);
    assert_eq!(
        bakers["offers"]["facets"]["occupations"][0],
        json!({ "value": "D1102", "label": "Boulanger / Boulangère", "count": n })
    );
    let (_, body) = app
        .post(
            "{ offers(first: 1) { facets { occupations(first: 0) { value } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{body}"
    );
}

#[tokio::test]
async fn programme_facets_count_what_each_refinement_finds() {
    let app = spawn_app(SMALL).await;
    let data = app.data(FORMATIONS, json!({ "f": {} })).await;
    let facets = &data["formations"]["facets"];
    let search = Search {
        app: &app,
        query: FORMATIONS,
        field: "formations",
        base: json!({}),
    };
    search.refines(facets, "levels", "level", level).await;
    search
        .refines(facets, "departements", "departement", |v| json!(v))
        .await;
    search
        .refines(facets, "occupations", "rome", |v| json!([v]))
        .await;
    assert_eq!(
        facets["withVacancies"].as_u64().unwrap(),
        search.total(json!({ "hasVacancies": true })).await
    );
}
