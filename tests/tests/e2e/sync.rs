//! The CMA feed, synced into the store: the last good state is served when
//! a pull fails, and survives a restart.

use std::sync::Arc;

use passerelle::partners::health::Health;
use passerelle::partners::sync::SyncedFeed;
use passerelle::store::Store;
use passerelle_connectors::cma::simulator;
use passerelle_connectors::sandbox::faults::Outage;
use passerelle_connectors::sandbox::generate::{dataset, DatasetSettings};
use passerelle_connectors::sandbox::{FaultUpdate, Faults, SimServer};

async fn feed(store: &Store, url: url::Url) -> SyncedFeed<passerelle_schema::Offer> {
    feed_with(store, url, Arc::new(Health::default())).await
}

async fn feed_with(
    store: &Store,
    url: url::Url,
    health: Arc<Health>,
) -> SyncedFeed<passerelle_schema::Offer> {
    SyncedFeed::new(
        passerelle_connectors::declared::shipped::CMA
            .connect(url)
            .unwrap(),
        store.clone(),
        health,
    )
}

#[tokio::test]
async fn a_failed_pull_keeps_the_last_good_feed_and_a_restart_serves_it() {
    let faults = Faults::default();
    let (_server, url) = cma_feed(300, faults.clone()).await;
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
    let faults = Faults::default();
    let (_server, url) = cma_feed(50, faults.clone()).await;
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

/// Serves the feed over plain HTTP/1.1, a version a connection: its `ETag`,
/// its bytes, and how many of them are sent before the connection is
/// closed (fewer than its `Content-Length` says, when the download is to
/// break off).
async fn feed_front(versions: Vec<(&'static str, Vec<u8>, usize)>) -> url::Url {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/flux/offres.xml", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for (etag, body, sent) in versions {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0];
                if socket.read(&mut byte).await.unwrap() == 0 {
                    break;
                }
                request.push(byte[0]);
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/xml; charset=ISO-8859-1\r\netag: {etag}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(&body[..sent]).await.unwrap();
        }
    });
    url.parse().unwrap()
}

/// A new version of the feed whose download breaks off half-way: nothing
/// of it is stored or served, not one offer removed nor rewritten, and the
/// next pull is not conditional on it.
#[tokio::test]
async fn a_download_that_breaks_off_stores_nothing_of_the_new_version() {
    let (_server, url) = cma_feed(300, Faults::default()).await;
    let first: Vec<u8> = reqwest::get(url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .into();
    // The new version retitles every offer, so that a record of it stored
    // would show.
    let mut second = first.clone();
    let (old, new) = (b"Apprenti(e)", b"Apprenti-e-");
    let mut at = 0;
    while let Some(i) = second[at..].windows(old.len()).position(|w| w == old) {
        second[at + i..at + i + old.len()].copy_from_slice(new);
        at += i + old.len();
    }
    assert_ne!(first, second);
    let half = second.len() / 2;
    let front = feed_front(vec![
        ("\"v1\"", first.clone(), first.len()),
        ("\"v2\"", second.clone(), half),
        ("\"v2\"", second.clone(), second.len()),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let store = Store::open(&store_url).await.unwrap();
    let synced = feed(&store, front).await;
    assert_eq!(synced.sync_once().await.unwrap().outcome, "updated");
    let stored = store.feed("cma", "offer").await.unwrap();
    assert_eq!(stored.len(), 297);
    let last = store.last_update("cma", "offer").await.unwrap();

    let run = synced.sync_once().await.unwrap();
    assert_eq!(run.outcome, "failed", "{run:?}");
    assert_eq!(store.feed("cma", "offer").await.unwrap(), stored);
    assert_eq!(store.last_update("cma", "offer").await.unwrap(), last);
    assert_eq!(synced.snapshot().records.len(), 297);
    let title = |o: &passerelle::partners::packed::PackedOffer| o.unpack().title.to_string();
    assert!(synced
        .snapshot()
        .records
        .iter()
        .all(|o| title(o).starts_with("Apprenti(e)")));

    // Whole, the new version replaces the old one.
    let run = synced.sync_once().await.unwrap();
    assert_eq!((run.outcome.as_str(), run.records), ("updated", 297));
    assert!(synced
        .snapshot()
        .records
        .iter()
        .all(|o| title(o).starts_with("Apprenti-e-")));
}

/// The CMA's simulated feed of `cma_offers` offers (3 of 300 malformed),
/// with `faults`.
async fn cma_feed(cma_offers: usize, faults: Faults) -> (SimServer, url::Url) {
    let data = dataset(&DatasetSettings {
        cma_offers,
        cci_offers: 10,
        shared_offers: 5,
        ..Default::default()
    });
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cma, &DatasetSettings::default(), faults),
    )
    .await
    .unwrap();
    let url = server.base_url().join(simulator::FEED_PATH).unwrap();
    (server, url)
}

/// A synced partner whose sync rejected records is `DEGRADED`, as a live
/// partner answering so is; a sync without rejections makes it `UP`.
#[tokio::test]
async fn a_sync_with_rejected_records_leaves_its_partner_degraded() {
    use passerelle::partners::health::PartnerStatus;
    let (_server, url) = cma_feed(300, Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let store = Store::open(&store_url).await.unwrap();
    let health = Arc::new(Health::default());
    let synced = feed_with(&store, url, health.clone()).await;
    let run = synced.sync_once().await.unwrap();
    assert_eq!(run.rejected, 3);
    let state = health.state(passerelle_connectors::cma::PARTNER);
    assert_eq!(state.rejected, Some(3));
    assert_eq!(state.status(true), PartnerStatus::Degraded);
}

/// PostgreSQL restarts (every connection ended): the next sync succeeds at
/// once, its lease taken on a new connection.
#[tokio::test]
async fn the_first_sync_after_a_postgres_restart_succeeds() {
    let Some(server) = passerelle::store::testing::postgres_url() else {
        return;
    };
    let store_url = passerelle::store::testing::scratch_postgres(&server).await;
    let (_sim, url) = cma_feed(300, Faults::default()).await;
    let store = Store::open(&store_url).await.unwrap();
    let synced = feed(&store, url).await;
    assert_eq!(synced.sync_once().await.unwrap().outcome, "updated");
    passerelle::store::testing::end_connections(&store_url).await;
    assert_eq!(synced.sync_once().await.unwrap().outcome, "not_modified");
}

/// A sync the store failed (PostgreSQL refusing connections) is tried again
/// within seconds, not at its next turn an hour later.
#[tokio::test]
async fn a_sync_the_store_failed_is_tried_again_before_its_next_turn() {
    use passerelle::store::testing;
    let Some(server) = testing::postgres_url() else {
        return;
    };
    let store_url = testing::scratch_postgres(&server).await;
    let (_sim, url) = cma_feed(300, Faults::default()).await;
    let store = Store::open(&store_url).await.unwrap();
    let synced = Arc::new(feed(&store, url).await);
    testing::accept_connections(&server, &store_url, false).await;
    let turns = synced
        .clone()
        .spawn(std::time::Duration::from_secs(3600), false);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    testing::accept_connections(&server, &store_url, true).await;
    for _ in 0..600 {
        if !synced.snapshot().records.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    turns.abort();
    assert_eq!(synced.snapshot().records.len(), 297);
    assert!(store.last_update("cma", "offer").await.unwrap().is_some());
}
