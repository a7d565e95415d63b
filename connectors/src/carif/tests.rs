use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Formation, Partner};

use super::*;
use crate::sandbox::cfas::{cfas, programmes};
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::{FeedPull, FeedSource};

async fn sim(faults: Faults) -> (SimServer, CarifConnector) {
    let s = DatasetSettings::default();
    let cfas = cfas(&s);
    let programmes = programmes(&s, &cfas);
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&cfas, &programmes, faults),
    )
    .await
    .unwrap();
    let mapping = Catalog::embedded()
        .unwrap()
        .get(Partner::Carif, EntityKind::Formation)
        .unwrap();
    let config = CarifConfig::new(server.base_url().join(simulator::FEED_PATH).unwrap());
    (server, CarifConnector::new(config, mapping))
}

#[tokio::test]
async fn the_lheo_catalogue_maps_every_programme_with_its_sessions() {
    let (_server, connector) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, etag, .. } = connector.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected.first());
    let formations: Vec<Formation> = batch.records;
    assert_eq!(formations.len(), 500);
    let cfas: std::collections::HashSet<_> = formations
        .iter()
        .filter_map(|f| f.cfa.uai.clone())
        .collect();
    assert_eq!(cfas.len(), 71);
    assert!(formations
        .iter()
        .all(|f| !f.sessions.is_empty() && f.capacity >= f.vacancies));
    assert!(formations.iter().any(|f| f.vacancies > 0));
    assert!(matches!(
        connector.pull(etag.as_deref()).await.unwrap(),
        FeedPull::NotModified
    ));
}

#[tokio::test]
async fn broken_programmes_are_rejected_one_by_one() {
    let faults = Faults::default();
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.1),
            ..Default::default()
        })
        .unwrap();
    let (_server, connector) = sim(faults).await;
    let FeedPull::Fetched { batch, .. } = connector.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(!batch.rejected.is_empty());
    assert_eq!(batch.records.len() + batch.rejected.len(), 500);
    let mut fields: Vec<_> = batch.rejected.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["cfa.uai", "sessions.start", "sessions.vacancies"]);
}
