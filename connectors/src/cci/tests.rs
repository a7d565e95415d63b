use std::sync::Arc;
use std::time::Duration;

use passerelle_schema::Departement;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::declared::live::DeclaredLive;
use crate::declared::shipped;
use crate::registry::Table;
use crate::sandbox::generate::{dataset, DatasetSettings};
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::source::{LiveOffers, OfferAnswer, OfferQuery};
use crate::ConnectorError;

/// The CCI declared, configured by `settings`.
fn connector(settings: Table) -> Arc<DeclaredLive> {
    shipped::CCI.live(settings).unwrap()
}

/// Its offers for `query`.
async fn search(
    connector: &Arc<DeclaredLive>,
    query: OfferQuery,
) -> Result<Arc<OfferAnswer>, ConnectorError> {
    Ok(LiveOffers::search(connector.clone(), query).await?.value)
}

/// The settings of an API at `base` whose client is `c`/`s`.
fn at(base: &str) -> Table {
    let base = url::Url::parse(base).unwrap();
    let mut t = simulator::settings(&base);
    t["credentials"]["client_id"] = "c".into();
    t["credentials"]["client_secret"] = "s".into();
    t
}

fn data_settings() -> DatasetSettings {
    DatasetSettings {
        cci_offers: 1200,
        cma_offers: 100,
        shared_offers: 50,
        ..Default::default()
    }
}

async fn sim(faults: Faults) -> (SimServer, Table) {
    let data = dataset(&data_settings());
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cci, Duration::from_secs(3600), faults),
    )
    .await
    .unwrap();
    let mut settings = simulator::settings(&server.base_url());
    settings.insert("page_size".into(), 100.into());
    (server, settings)
}

#[tokio::test]
async fn filters_are_pushed_down_and_every_page_is_followed() {
    let (_server, settings) = sim(Faults::default()).await;
    let connector = connector(settings);
    let expected = dataset(&data_settings())
        .cci
        .iter()
        .filter(|p| p.commune.departement == "14")
        .count();
    let answer = search(
        &connector,
        OfferQuery {
            departement: Some(Departement::parse("14").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        expected > 100,
        "the test needs several pages, has {expected}"
    );
    assert_eq!(answer.offers.len(), expected);
    assert_eq!(answer.total, expected as u64);
    assert!(answer
        .offers
        .iter()
        .all(|o| o.location.commune.departement().as_str() == "14"));

    let all = search(&connector, OfferQuery::default()).await.unwrap();
    assert_eq!(all.offers.len(), 1200);
    let mut ids: Vec<_> = all
        .offers
        .iter()
        .map(|o| o.sources[0].partner_id.clone())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1200, "pages overlap");
}

#[tokio::test]
async fn repeated_searches_are_served_from_the_cache() {
    let (_server, settings) = sim(Faults::default()).await;
    let connector = connector(settings);
    let q = OfferQuery {
        rome: vec![passerelle_schema::RomeCode::parse("D1106").unwrap()],
        ..Default::default()
    };
    let first = search(&connector, q.clone()).await.unwrap();
    let second = search(&connector, q).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(connector.cache_stats(), (1, 1));
}

#[tokio::test]
async fn malformed_records_are_rejected_one_by_one() {
    let faults = Faults::default();
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.1),
            ..Default::default()
        })
        .unwrap();
    let (_server, settings) = sim(faults).await;
    let answer = search(&connector(settings), OfferQuery::default())
        .await
        .unwrap();
    assert!(!answer.rejected.is_empty());
    assert_eq!(answer.offers.len() + answer.rejected.len(), 1200);
    let fields: std::collections::BTreeSet<_> =
        answer.rejected.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields.into_iter().collect::<Vec<_>>(),
        ["employer.siret", "location.commune", "published_at"]
    );
}

#[tokio::test]
async fn an_outage_is_reported_as_the_partner_being_unavailable() {
    let faults = Faults::default();
    let (_server, settings) = sim(faults.clone()).await;
    faults
        .update(&FaultUpdate {
            outage: Some(crate::sandbox::faults::Outage::Flag(true)),
            ..Default::default()
        })
        .unwrap();
    let err = search(&connector(settings), OfferQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PARTNER_UNAVAILABLE");
    assert_eq!(err.partner(), crate::cci::PARTNER);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let (_server, mut settings) = sim(Faults::default()).await;
    settings["credentials"]["client_secret"] = "wrong".into();
    let err = search(&connector(settings), OfferQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PARTNER_AUTH_FAILED");
    assert!(err.to_string().contains("invalid_client"), "{err}");
    assert!(
        !err.to_string().contains("wrong"),
        "the secret leaked: {err}"
    );
}

#[tokio::test]
async fn a_refused_token_is_renewed_and_the_call_retried_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "t", "token_type": "Bearer", "expires_in": 3600
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/offres"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/offres"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [], "pagination": {"total": 7, "suivant": null}
        })))
        .mount(&server)
        .await;
    let answer = search(&connector(at(&server.uri())), OfferQuery::default())
        .await
        .unwrap();
    assert_eq!(answer.total, 7);
}

#[tokio::test]
async fn the_simulator_serves_its_openapi_document() {
    let (server, _settings) = sim(Faults::default()).await;
    let doc: serde_json::Value = reqwest::get(server.base_url().join("openapi.json").unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/api/v1/offres"]["get"].is_object());
}

#[tokio::test]
async fn an_answer_that_is_not_the_apis_json_is_a_mapping_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "t", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/offres"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let e = search(&connector(at(&server.uri())), OfferQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "MAPPING_FAILED");
}
