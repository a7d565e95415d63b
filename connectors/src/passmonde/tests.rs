use secrecy::SecretString;

use passerelle_mappings::EntityKind;
use passerelle_schema::MobilityProgram;

use super::*;
use crate::sandbox::cfas::cfas;
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::mobility::pass_monde;
use crate::sandbox::{Faults, SimServer};

async fn sim(
    key: &str,
) -> (
    SimServer,
    std::sync::Arc<PassMondeConnector>,
    Vec<crate::sandbox::mobility::PassMondeGrant>,
    Vec<crate::sandbox::cfas::Cfa>,
) {
    let s = DatasetSettings::default();
    let cfas = cfas(&s);
    let grants = pass_monde(&s, &cfas);
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&cfas, &grants, Faults::default()),
    )
    .await
    .unwrap();
    let mapping = crate::Registry::standard()
        .catalog(None)
        .unwrap()
        .get(crate::passmonde::PARTNER, EntityKind::Mobility)
        .unwrap();
    let config = PassMondeConfig::new(server.base_url(), SecretString::from(key));
    (
        server,
        std::sync::Arc::new(PassMondeConnector::new(config, mapping)),
        grants,
        cfas,
    )
}

#[tokio::test]
async fn only_apprentices_grants_are_taken_across_pages() {
    let (_server, connector, grants, _) = sim(simulator::API_KEY).await;
    let answer = connector.grants(PassMondeQuery::default()).await.unwrap();
    assert!(answer.rejected.is_empty());
    assert_eq!(answer.mobilities.len(), grants.len());
    assert!(answer.mobilities.len() > 200, "needs several pages");
    assert!(answer
        .mobilities
        .iter()
        .all(|g| g.program == MobilityProgram::PassMonde));
    assert!(answer
        .mobilities
        .iter()
        .all(|g| (28_000..=88_000).contains(&g.amount.unwrap().0)));
    assert!(answer.mobilities.iter().all(|g| g.duration_days >= 14));
}

#[tokio::test]
async fn filters_are_pushed_down() {
    let (_server, connector, grants, cfas) = sim(simulator::API_KEY).await;
    let uai = cfas[0].uai.clone();
    let answer = connector
        .grants(PassMondeQuery {
            uai: Some(uai.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let expected = grants.iter().filter(|g| cfas[g.cfa].uai == uai).count();
    assert_eq!(answer.mobilities.len(), expected);
    assert!(answer.mobilities.iter().all(|g| g.cfa.as_str() == uai));
}

#[tokio::test]
async fn a_wrong_api_key_is_an_auth_failure() {
    let (_server, connector, _, _) = sim("wrong").await;
    let e = connector
        .grants(PassMondeQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "PARTNER_AUTH_FAILED");
}
