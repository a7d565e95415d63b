use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::Partner;

use super::*;
use crate::sandbox::generate::{dataset, DatasetSettings};
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::FeedPull;

fn mapping() -> Arc<passerelle_mappings::Mapping> {
    Catalog::embedded()
        .unwrap()
        .get(Partner::Cma, EntityKind::Offer)
        .unwrap()
}

fn settings() -> DatasetSettings {
    DatasetSettings {
        cci_offers: 100,
        cma_offers: 600,
        shared_offers: 50,
        ..Default::default()
    }
}

async fn sim(faults: Faults) -> (SimServer, CmaConnector) {
    let data = dataset(&settings());
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cma, faults),
    )
    .await
    .unwrap();
    let config = CmaConfig::new(server.base_url().join(simulator::FEED_PATH).unwrap());
    (server, CmaConnector::new(config, mapping()))
}

#[tokio::test]
async fn the_latin1_feed_is_decoded_and_its_three_broken_records_rejected() {
    let (_server, connector) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, etag, .. } = connector.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(etag.is_some());
    assert!(batch.truncated.is_none());
    assert_eq!(batch.records.len(), 597);
    let mut fields: Vec<_> = batch.rejected.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["employer.siret", "location.commune", "start_date"]);
    assert!(batch.rejected.iter().all(|e| e
        .partner_id
        .as_deref()
        .is_some_and(|id| id.starts_with("CMA-"))));

    // Accented names survive the ISO-8859-1 round trip.
    let data = dataset(&settings());
    let accented = data
        .cma
        .iter()
        .find(|p| {
            p.commune.name.contains('é')
                && batch
                    .records
                    .iter()
                    .any(|o| o.sources[0].partner_id.ends_with(&format!("{:06}", p.seq)))
        })
        .expect("a commune with an accent");
    let offer = batch
        .records
        .iter()
        .find(|o| {
            o.sources[0]
                .partner_id
                .ends_with(&format!("-{:06}", accented.seq))
        })
        .unwrap();
    assert_eq!(offer.location.commune.as_str(), accented.commune.code);
    assert_eq!(offer.employer.name, accented.employer.name);
}

#[tokio::test]
async fn an_unchanged_feed_is_not_downloaded_again() {
    let (_server, connector) = sim(Faults::default()).await;
    let FeedPull::Fetched { etag, .. } = connector.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(matches!(
        connector.pull(etag.as_deref()).await.unwrap(),
        FeedPull::NotModified
    ));
}

#[tokio::test]
async fn a_changed_feed_gets_a_new_etag() {
    let faults = Faults::default();
    let (_server, connector) = sim(faults.clone()).await;
    let FeedPull::Fetched { etag: first, .. } = connector.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.2),
            ..Default::default()
        })
        .unwrap();
    let FeedPull::Fetched { etag, batch, .. } = connector.pull(first.as_deref()).await.unwrap()
    else {
        panic!("a changed feed is fetched");
    };
    assert_ne!(etag, first);
    assert!(batch.rejected.len() > 3);
    assert_eq!(batch.records.len() + batch.rejected.len(), 600);
}

#[tokio::test]
async fn an_outage_fails_the_pull() {
    let faults = Faults::default();
    let (_server, connector) = sim(faults.clone()).await;
    faults
        .update(&FaultUpdate {
            outage: Some(crate::sandbox::faults::Outage::Flag(true)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        connector.pull(None).await.unwrap_err().code(),
        "PARTNER_UNAVAILABLE"
    );
}
