use std::sync::Arc;
use std::time::Duration;

use passerelle_mappings::EntityKind;
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::http::ClientCredentials;
use crate::sandbox::generate::{dataset, DatasetSettings};
use crate::sandbox::{FaultUpdate, Faults, SimServer};

fn mapping() -> Arc<passerelle_mappings::Mapping> {
    crate::Registry::standard()
        .catalog(None)
        .unwrap()
        .get(crate::cci::PARTNER, EntityKind::Offer)
        .unwrap()
}

fn settings() -> DatasetSettings {
    DatasetSettings {
        cci_offers: 1200,
        cma_offers: 100,
        shared_offers: 50,
        ..Default::default()
    }
}

async fn sim(faults: Faults) -> (SimServer, CciConfig) {
    let data = dataset(&settings());
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cci, Duration::from_secs(3600), faults),
    )
    .await
    .unwrap();
    let base = server.base_url();
    let mut config = CciConfig::new(
        base.clone(),
        ClientCredentials {
            token_url: base.join("oauth/token").unwrap(),
            client_id: simulator::CLIENT_ID.into(),
            client_secret: SecretString::from(simulator::CLIENT_SECRET),
            scopes: vec![],
        },
    );
    config.page_size = 100;
    (server, config)
}

#[tokio::test]
async fn filters_are_pushed_down_and_every_page_is_followed() {
    let (_server, config) = sim(Faults::default()).await;
    let connector = Arc::new(CciConnector::new(config, mapping()));
    let expected = dataset(&settings())
        .cci
        .iter()
        .filter(|p| p.commune.departement == "14")
        .count();
    let answer = connector
        .search(CciQuery {
            departement: Some("14".into()),
            ..Default::default()
        })
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

    let all = connector.search(CciQuery::default()).await.unwrap();
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
    let (_server, config) = sim(Faults::default()).await;
    let connector = Arc::new(CciConnector::new(config, mapping()));
    let q = CciQuery {
        rome: vec!["D1106".into()],
        ..Default::default()
    };
    let first = connector.search(q.clone()).await.unwrap();
    let second = connector.search(q).await.unwrap();
    assert!(Arc::ptr_eq(&first.value, &second.value));
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
    let (_server, config) = sim(faults).await;
    let answer = Arc::new(CciConnector::new(config, mapping()))
        .search(CciQuery::default())
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
    let (_server, config) = sim(faults.clone()).await;
    faults
        .update(&FaultUpdate {
            outage: Some(crate::sandbox::faults::Outage::Flag(true)),
            ..Default::default()
        })
        .unwrap();
    let err = Arc::new(CciConnector::new(config, mapping()))
        .search(CciQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PARTNER_UNAVAILABLE");
    assert_eq!(err.partner(), crate::cci::PARTNER);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let (_server, mut config) = sim(Faults::default()).await;
    config.credentials.client_secret = SecretString::from("wrong");
    let err = Arc::new(CciConnector::new(config, mapping()))
        .count()
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
    let base = url::Url::parse(&server.uri()).unwrap();
    let config = CciConfig::new(
        base.clone(),
        ClientCredentials {
            token_url: base.join("oauth/token").unwrap(),
            client_id: "c".into(),
            client_secret: SecretString::from("s"),
            scopes: vec![],
        },
    );
    assert_eq!(
        Arc::new(CciConnector::new(config, mapping()))
            .count()
            .await
            .unwrap(),
        7
    );
}

#[tokio::test]
async fn the_simulator_serves_its_openapi_document() {
    let (server, _config) = sim(Faults::default()).await;
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
    let base = url::Url::parse(&server.uri()).unwrap();
    let config = CciConfig::new(
        base.clone(),
        ClientCredentials {
            token_url: base.join("oauth/token").unwrap(),
            client_id: "c".into(),
            client_secret: SecretString::from("s"),
            scopes: vec![],
        },
    );
    let e = Arc::new(CciConnector::new(config, mapping()))
        .search(CciQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "MAPPING_FAILED");
}
