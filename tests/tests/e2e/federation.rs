//! Passerelle as a Federation 2 subgraph, asked directly: `_entities`
//! answers what the API answers, in batches, and refuses what it must
//! before anything runs.

use serde_json::{json, Value};

use crate::cfas::{calls_since, requests};
use crate::helpers::{spawn_app, spawn_app_with, TestApp, NO_DETECTION, SMALL};

const CFA_FIELDS: &str = r#"fragment C on Cfa {
    uai name siret departement { code } location { communeCode } vacancies
    formations(first: 3) { totalCount nodes { id title } }
    offers(first: 3) { totalCount nodes { id title } }
    events(from: "2026-12-01T00:00:00Z", first: 2) { totalCount nodes { title } }
    nextOpenDay(from: "2026-12-01T00:00:00Z") { start }
    mobility { total { mobilities } }
}"#;

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    __typename
    ... on Cfa { ...C }
    ... on EmployerProfile { siret name offerCount offers(first: 2) { nodes { id } } }
    ... on Offer { id title employer { siret } location { communeCode } }
    ... on Formation { id title level }
    ... on OrientationSite { id name kind }
} }"#;

fn entities_query() -> String {
    format!("{ENTITIES}\n{CFA_FIELDS}")
}

fn strings(v: &Value, pointer: &str, field: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
        .iter()
        .map(|n| n[field].as_str().unwrap().to_owned())
        .collect()
}

/// A valid UAI that no partner knows: its check letter computed by trying.
fn unknown_uai() -> String {
    ('A'..='Z')
        .map(|c| format!("0149999{c}"))
        .find(|u| passerelle_schema::Uai::parse(u).is_ok())
        .expect("one check letter fits")
}

#[tokio::test]
async fn entities_answer_what_the_api_answers_directly_and_null_for_an_unknown_key() {
    let app = spawn_app(SMALL).await;
    let direct = app
        .data(
            &format!("{{ cfas(first: 30) {{ nodes {{ ...C }} }} }}\n{CFA_FIELDS}"),
            json!({}),
        )
        .await;
    let uais = strings(&direct, "/cfas/nodes", "uai");
    let lists = app
        .data(
            "{ offers(first: 20) { nodes { id employer { siret } } }
               formations(first: 5) { nodes { id } }
               orientationSites(first: 5) { nodes { id } } }",
            json!({}),
        )
        .await;
    let offer_ids = strings(&lists, "/offers/nodes", "id");
    let mut sirets: Vec<String> = lists["offers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["employer"]["siret"].as_str().unwrap().to_owned())
        .collect();
    sirets.sort();
    sirets.dedup();
    let formation_ids = strings(&lists, "/formations/nodes", "id");
    let site_ids = strings(&lists, "/orientationSites/nodes", "id");

    let mut reps: Vec<Value> = uais
        .iter()
        .map(|u| json!({ "__typename": "Cfa", "uai": u }))
        .collect();
    let unknown_at = reps.len();
    reps.push(json!({ "__typename": "Cfa", "uai": unknown_uai() }));
    reps.extend(
        sirets
            .iter()
            .map(|s| json!({ "__typename": "EmployerProfile", "siret": s })),
    );
    reps.extend(
        offer_ids
            .iter()
            .map(|id| json!({ "__typename": "Offer", "id": id })),
    );
    reps.extend(
        formation_ids
            .iter()
            .map(|id| json!({ "__typename": "Formation", "id": id })),
    );
    reps.extend(
        site_ids
            .iter()
            .map(|id| json!({ "__typename": "OrientationSite", "id": id })),
    );
    let (status, body) = app.post(&entities_query(), json!({ "r": reps })).await;
    assert_eq!(status, 200, "{body}");
    let got = body["data"]["_entities"].as_array().expect("entities");
    assert_eq!(got.len(), reps.len());

    // The CFAs, field for field as `cfas` gives them.
    for (i, cfa) in direct["cfas"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let mut entity = got[i].clone();
        assert_eq!(entity["__typename"], "Cfa");
        entity.as_object_mut().unwrap().remove("__typename");
        assert_eq!(&entity, cfa, "CFA {i}");
    }
    // The unknown key: null, and an error at its index.
    assert_eq!(got[unknown_at], Value::Null);
    let errors = body["errors"]
        .as_array()
        .expect("an error for the unknown key");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(errors[0]["path"], json!(["_entities", unknown_at]));

    // The others, as their own fields answer.
    let mut at = unknown_at + 1;
    for siret in &sirets {
        let one = app
            .data(
                "query($s: String!) { employer(siret: $s) { siret name offerCount offers(first: 2) { nodes { id } } } }",
                json!({ "s": siret }),
            )
            .await;
        let mut entity = got[at].clone();
        entity.as_object_mut().unwrap().remove("__typename");
        assert_eq!(entity, one["employer"], "employer {siret}");
        at += 1;
    }
    for id in &offer_ids {
        let one = app
            .data(
                "query($id: ID!) { offer(id: $id) { id title employer { siret } location { communeCode } } }",
                json!({ "id": id }),
            )
            .await;
        let mut entity = got[at].clone();
        entity.as_object_mut().unwrap().remove("__typename");
        assert_eq!(entity, one["offer"], "offer {id}");
        at += 1;
    }
    for (list, typename) in [
        (&formation_ids, "Formation"),
        (&site_ids, "OrientationSite"),
    ] {
        for id in list {
            assert_eq!(got[at]["__typename"], typename);
            assert_eq!(&got[at]["id"], id);
            assert!(got[at]["name"].is_string() || got[at]["title"].is_string());
            at += 1;
        }
    }

    // Deprecated: a programme or a site referenced by its partner's own
    // identifier, which `id` was before it was global, is still found.
    let partner_ids = app
        .data(
            "{ formations(first: 1) { nodes { id partnerId } } orientationSites(first: 1) { nodes { id partnerId } } }",
            json!({}),
        )
        .await;
    let old = |list: &str, typename: &str| {
        let node = &partner_ids[list]["nodes"][0];
        (
            json!({ "__typename": typename, "id": node["partnerId"] }),
            node["id"].clone(),
        )
    };
    let (formation, formation_id) = old("formations", "Formation");
    let (site, site_id) = old("orientationSites", "OrientationSite");
    let (status, body) = app
        .post(&entities_query(), json!({ "r": [formation, site] }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["_entities"][0]["id"], formation_id, "{body}");
    assert_eq!(body["data"]["_entities"][1]["id"], site_id, "{body}");
}

async fn calls_for_entities(n: usize) -> std::collections::HashMap<String, u64> {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    let lists = app
        .data(
            "query($n: Int!) { cfas(first: $n) { nodes { uai } } offers(first: $n) { nodes { id employer { siret } } } }",
            json!({ "n": n }),
        )
        .await;
    let mut reps: Vec<Value> = strings(&lists, "/cfas/nodes", "uai")
        .iter()
        .map(|u| json!({ "__typename": "Cfa", "uai": u }))
        .collect();
    for o in lists["offers"]["nodes"].as_array().unwrap() {
        reps.push(json!({ "__typename": "Offer", "id": o["id"] }));
        reps.push(json!({ "__typename": "EmployerProfile", "siret": o["employer"]["siret"] }));
    }
    let before = requests(&app).await;
    let (status, body) = app.post(&entities_query(), json!({ "r": reps })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["_entities"].as_array().unwrap().len(), 3 * n);
    calls_since(&app, &before).await
}

#[tokio::test]
async fn fifty_entities_of_each_kind_make_the_partner_calls_of_five() {
    let five = calls_for_entities(5).await;
    let fifty = calls_for_entities(50).await;
    assert_eq!(five, fifty, "partner calls grew with the representations");
    // Mobility is asked live for the batch; the CCI's listing was asked
    // for the representations already, and is answered from its cache.
    assert!(fifty["passmonde"] > 0, "{fifty:?}");
}

async fn refused(app: &TestApp, query: &str, variables: Value) -> (String, String) {
    let (status, body) = app.post(query, variables).await;
    assert!(body["data"].is_null(), "{body}");
    assert_ne!(status, 500, "{body}");
    let e = &body["errors"][0];
    (
        e["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn too_many_or_malformed_representations_are_refused_before_anything_runs() {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    let uai = strings(
        &app.data("{ cfas(first: 1) { nodes { uai } } }", json!({}))
            .await,
        "/cfas/nodes",
        "uai",
    )
    .remove(0);
    let before = requests(&app).await;

    // Ten thousand: refused with a code, no fan-out.
    let many: Vec<Value> = (0..10_000)
        .map(|_| json!({ "__typename": "Cfa", "uai": uai }))
        .collect();
    let (code, message) = refused(&app, &entities_query(), json!({ "r": many })).await;
    assert_eq!(code, "TOO_MANY_REPRESENTATIONS", "{message}");
    assert!(message.contains("at most 1000"), "{message}");
    // Two fields of 600 add up.
    let six: Vec<Value> = many[..600].to_vec();
    let (code, _) = refused(
        &app,
        "query($r: [_Any!]!) { a: _entities(representations: $r) { __typename } b: _entities(representations: $r) { __typename } }",
        json!({ "r": six }),
    )
    .await;
    assert_eq!(code, "TOO_MANY_REPRESENTATIONS");

    // Malformed: the first wrong one is named.
    for (rep, said) in [
        (
            json!({ "uai": uai }),
            "representations[1] has no __typename",
        ),
        (
            json!({ "__typename": "Grant", "id": "7" }),
            "representations[1] names Grant",
        ),
        (
            json!({ "__typename": "Cfa", "uai": "14" }),
            "representations[1] uai:",
        ),
        (
            json!({ "__typename": "Offer", "id": 3 }),
            "representations[1] has no id",
        ),
    ] {
        let reps = json!([{ "__typename": "Cfa", "uai": uai }, rep]);
        let (code, message) = refused(&app, &entities_query(), json!({ "r": reps })).await;
        assert_eq!(code, "INVALID_REPRESENTATION", "{message}");
        assert!(message.contains(said), "{message}");
    }
    // Given in the document rather than in variables, the same.
    let (code, message) = refused(
        &app,
        r#"{ _entities(representations: [{ __typename: "Cfa" }]) { __typename } }"#,
        json!({}),
    )
    .await;
    assert_eq!(code, "INVALID_REPRESENTATION", "{message}");
    // A list written in the document, of variables: counted all the same.
    let list = vec!["$c"; 1001].join(", ");
    let (code, _) = refused(
        &app,
        &format!("query($c: _Any!) {{ _entities(representations: [{list}]) {{ __typename }} }}"),
        json!({ "c": { "__typename": "Cfa", "uai": uai } }),
    )
    .await;
    assert_eq!(code, "TOO_MANY_REPRESENTATIONS");

    let after = requests(&app).await;
    assert_eq!(before, after, "a refused fetch called partners");
}

#[tokio::test]
async fn a_partner_failure_inside_an_entity_is_said_at_its_index() {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    let uais = strings(
        &app.data("{ cfas(first: 3) { nodes { uai } } }", json!({}))
            .await,
        "/cfas/nodes",
        "uai",
    );
    app.faults("passmonde", json!({ "outage": true })).await;
    let reps: Vec<Value> = uais
        .iter()
        .map(|u| json!({ "__typename": "Cfa", "uai": u }))
        .collect();
    let (status, body) = app
        .post(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Cfa { uai mobility { total { mobilities } } } } }",
            json!({ "r": reps }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut paths: Vec<Value> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .inspect(|e| assert_eq!(e["extensions"]["code"], "PARTNER_UNAVAILABLE", "{e}"))
        .map(|e| e["path"].clone())
        .collect();
    paths.sort_by_key(|p| p[1].as_u64());
    assert_eq!(
        paths,
        (0..3)
            .map(|i| json!(["_entities", i, "mobility"]))
            .collect::<Vec<_>>()
    );
    for (i, uai) in uais.iter().enumerate() {
        assert_eq!(body["data"]["_entities"][i]["uai"], uai.as_str());
    }
}
