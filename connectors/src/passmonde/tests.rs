use std::sync::Arc;

use passerelle_schema::MobilityProgram;

use super::*;
use crate::declared::shipped;
use crate::sandbox::cfas::cfas;
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::mobility::pass_monde;
use crate::sandbox::{Faults, SimServer};
use crate::source::{LiveMobility, MobilityAnswer, MobilityQuery};

async fn sim(
    key: &str,
) -> (
    SimServer,
    Arc<dyn LiveMobility>,
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
    let mut settings = simulator::settings(&server.base_url());
    settings.insert("api_key".into(), key.into());
    let Some(crate::Source::LiveMobility(connector)) =
        shipped::PASS_MONDE.sources(settings).unwrap().pop()
    else {
        panic!("Pass Monde is a live source of mobilities");
    };
    (server, connector, grants, cfas)
}

async fn grants(
    connector: &Arc<dyn LiveMobility>,
    query: MobilityQuery,
) -> Result<Arc<MobilityAnswer>, crate::ConnectorError> {
    Ok(connector.clone().mobilities(query).await?.value)
}

#[tokio::test]
async fn only_apprentices_grants_are_taken_across_pages() {
    let (_server, connector, granted, _) = sim(simulator::API_KEY).await;
    assert_eq!(connector.program(), MobilityProgram::PassMonde);
    let answer = grants(&connector, MobilityQuery::default()).await.unwrap();
    assert!(answer.rejected.is_empty());
    assert_eq!(answer.mobilities.len(), granted.len());
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
    let (_server, connector, granted, cfas) = sim(simulator::API_KEY).await;
    let uai = cfas[0].uai.clone();
    let answer = grants(
        &connector,
        MobilityQuery {
            uai: Some(uai.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let expected = granted.iter().filter(|g| cfas[g.cfa].uai == uai).count();
    assert_eq!(answer.mobilities.len(), expected);
    assert!(answer.mobilities.iter().all(|g| g.cfa.as_str() == uai));
}

#[tokio::test]
async fn a_wrong_api_key_is_an_auth_failure() {
    let (_server, connector, _, _) = sim("wrong").await;
    let e = grants(&connector, MobilityQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "PARTNER_AUTH_FAILED");
}
