use passerelle_mappings::MappedBatch;

use super::*;
use crate::declared::shipped;
use crate::feed::FeedConnector;
use crate::sandbox::generate::{dataset, DatasetSettings};
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::FeedPull;

fn settings() -> DatasetSettings {
    DatasetSettings {
        cci_offers: 100,
        cma_offers: 600,
        shared_offers: 50,
        ..Default::default()
    }
}

/// A pull that fetched: its `ETag` and its records, read to the end.
async fn fetched(
    pull: FeedPull<passerelle_schema::Offer>,
) -> (Option<String>, MappedBatch<passerelle_schema::Offer>) {
    let FeedPull::Streamed { etag, records } = pull else {
        panic!("the feed is fetched: {pull:?}");
    };
    (etag, records.collect().await.unwrap().0)
}

async fn sim(faults: Faults) -> (SimServer, FeedConnector) {
    let data = dataset(&settings());
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&data.cma, &settings(), faults),
    )
    .await
    .unwrap();
    let url = server.base_url().join(simulator::FEED_PATH).unwrap();
    (server, shipped::CMA.connect(url).unwrap())
}

#[tokio::test]
async fn the_latin1_feed_is_decoded_and_its_three_broken_records_rejected() {
    let (_server, connector) = sim(Faults::default()).await;
    let (etag, batch) = fetched(
        connector
            .pull::<passerelle_schema::Offer>(None)
            .await
            .unwrap(),
    )
    .await;
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
    let (etag, _) = fetched(
        connector
            .pull::<passerelle_schema::Offer>(None)
            .await
            .unwrap(),
    )
    .await;
    assert!(matches!(
        connector
            .pull::<passerelle_schema::Offer>(etag.as_deref())
            .await
            .unwrap(),
        FeedPull::NotModified
    ));
}

#[tokio::test]
async fn a_changed_feed_gets_a_new_etag() {
    let faults = Faults::default();
    let (_server, connector) = sim(faults.clone()).await;
    let (first, _) = fetched(
        connector
            .pull::<passerelle_schema::Offer>(None)
            .await
            .unwrap(),
    )
    .await;
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.2),
            ..Default::default()
        })
        .unwrap();
    let (etag, batch) = fetched(
        connector
            .pull::<passerelle_schema::Offer>(first.as_deref())
            .await
            .unwrap(),
    )
    .await;
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
        connector
            .pull::<passerelle_schema::Offer>(None)
            .await
            .unwrap_err()
            .code(),
        "PARTNER_UNAVAILABLE"
    );
}

#[tokio::test]
async fn a_download_that_breaks_off_fails_the_reading_after_some_records() {
    let (server, _) = sim(Faults::default()).await;
    let url = server.base_url().join(simulator::FEED_PATH).unwrap();
    let feed = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    // A front that says the whole length but sends half of it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        simulator::FEED_PATH
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0; 4096];
        let _ = socket.read(&mut request).await.unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            feed.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&feed[..feed.len() / 2]).await.unwrap();
    });
    let connector = shipped::CMA.connect(front.parse().unwrap()).unwrap();
    let FeedPull::Streamed { mut records, .. } = connector
        .pull::<passerelle_schema::Offer>(None)
        .await
        .unwrap()
    else {
        panic!("the answer's headers came");
    };
    let mut read = 0;
    let error = loop {
        match records.next().await {
            Ok(crate::FeedPiece::Records(chunk)) => read += chunk.records.len(),
            Ok(crate::FeedPiece::End(end)) => panic!("the feed ended: {end:?}"),
            Err(e) => break e,
        }
    };
    assert!(read > 0 && read < 597, "{read} records before the break");
    assert_eq!(error.code(), "PARTNER_BAD_RESPONSE", "{error}");
}
