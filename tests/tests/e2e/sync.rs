//! The CMA feed, synced into the store: the last good state is served when
//! a pull fails, and survives a restart.

use std::sync::Arc;

use passerelle::health::Health;
use passerelle::store::Store;
use passerelle::sync::SyncedFeed;
use passerelle_connectors::cma::{simulator, CmaConfig, CmaConnector};
use passerelle_connectors::sandbox::faults::Outage;
use passerelle_connectors::sandbox::generate::{dataset, DatasetSettings};
use passerelle_connectors::sandbox::{FaultUpdate, Faults, SimServer};
use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::Partner;

async fn feed(store: &Store, url: url::Url) -> SyncedFeed<passerelle_schema::Offer, CmaConnector> {
    let mapping = Catalog::embedded()
        .unwrap()
        .get(Partner::Cma, EntityKind::Offer)
        .unwrap();
    SyncedFeed::new(
        CmaConnector::new(CmaConfig::new(url), mapping),
        store.clone(),
        Arc::new(Health::default()),
    )
}

#[tokio::test]
async fn a_failed_pull_keeps_the_last_good_feed_and_a_restart_serves_it() {
    let data = dataset(&DatasetSettings {
        cma_offers: 300,
        cci_offers: 10,
        shared_offers: 5,
        ..Default::default()
    });
    let faults = Faults::default();
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cma, faults.clone()),
    )
    .await
    .unwrap();
    let url = server.base_url().join(simulator::FEED_PATH).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let store = Store::open(&store_url).await.unwrap();

    let first = feed(&store, url.clone()).await;
    let run = first.sync_once().await.unwrap();
    assert_eq!(
        (run.outcome.as_str(), run.records, run.rejected),
        ("updated", 297, 3)
    );
    assert_eq!(first.sync_once().await.unwrap().outcome, "not_modified");

    faults
        .update(&FaultUpdate {
            outage: Some(Outage::Flag(true)),
            ..Default::default()
        })
        .unwrap();
    let run = first.sync_once().await.unwrap();
    assert_eq!(run.outcome, "failed");
    assert!(run.error.unwrap().contains("unavailable"));
    assert_eq!(first.snapshot().records.len(), 297);

    // A restart while the partner is still down serves what was stored.
    let restarted = feed(&Store::open(&store_url).await.unwrap(), url.clone()).await;
    assert_eq!(restarted.load().await.unwrap(), 297);
    assert_eq!(restarted.sync_once().await.unwrap().outcome, "failed");
    assert_eq!(restarted.snapshot().records.len(), 297);

    // Records broken in a later pull keep their last good version.
    faults
        .update(&FaultUpdate {
            outage: Some(Outage::Flag(false)),
            malformed_rate: Some(0.2),
            ..Default::default()
        })
        .unwrap();
    let run = restarted.sync_once().await.unwrap();
    assert_eq!(run.outcome, "updated");
    assert!(run.rejected > 30, "{}", run.rejected);
    assert_eq!(restarted.snapshot().records.len(), 297);
}

/// Replicas share a store: a turn that comes soon after another replica's
/// sync follows it instead of pulling, unless that sync failed and there is
/// nothing to serve, in which case it tries again.
#[tokio::test]
async fn a_recent_sync_is_followed_unless_it_failed_and_nothing_is_served() {
    let data = dataset(&DatasetSettings {
        cma_offers: 50,
        cci_offers: 10,
        shared_offers: 5,
        ..Default::default()
    });
    let faults = Faults::default();
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cma, faults.clone()),
    )
    .await
    .unwrap();
    let url = server.base_url().join(simulator::FEED_PATH).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let store = Store::open(&store_url).await.unwrap();
    let hour = std::time::Duration::from_secs(3600);

    // The partner is down for the first replica's first sync.
    faults
        .update(&FaultUpdate {
            outage: Some(Outage::Flag(true)),
            ..Default::default()
        })
        .unwrap();
    let first = feed(&store, url.clone()).await;
    let run = first
        .sync_if_due(hour)
        .await
        .unwrap()
        .expect("nothing to follow");
    assert_eq!(run.outcome, "failed");
    faults
        .update(&FaultUpdate {
            outage: Some(Outage::Flag(false)),
            ..Default::default()
        })
        .unwrap();

    // A second replica with nothing to serve tries again at once.
    let second = feed(&store, url.clone()).await;
    let run = second.sync_if_due(hour).await.unwrap().expect("a retry");
    assert_eq!(run.outcome, "updated");
    let stored = second.snapshot().records.len();
    assert!(stored > 40 && stored as i64 == run.records, "{stored}");

    // The first follows that sync: it loads what was stored, no pull.
    assert!(first.sync_if_due(hour).await.unwrap().is_none());
    assert_eq!(first.snapshot().records.len(), stored);
    // A forced sync still pulls.
    assert_eq!(first.sync_once().await.unwrap().outcome, "not_modified");
}
