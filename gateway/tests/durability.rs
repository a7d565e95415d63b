//! Killing the server (SIGKILL) in the middle of a large upload loses no
//! acknowledged record and leaves no half-batch, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::Server;

use passerelle::auth::issuer::Issuer;
use passerelle::domain::campaign::{self, figures};
use passerelle::store::{testing, Store};
use passerelle_connectors::sandbox::campaign::{write_csv, Campaign, CampaignSettings};
use passerelle_schema::{AllocationInput, Opco};

/// Starts `passerelle serve` on `dir` and `store_url`; returns once it
/// listens.
fn start(dir: &std::path::Path, store_url: &str) -> Server {
    let config = dir.join("passerelle.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nstore_url = \"{store_url}\"\n[log]\nformat = \"json\"\n",
            dir.display()
        ),
    )
    .unwrap();
    common::serve(&config)
}

/// A data directory for `backend` under `dir`, and a token of the sandbox
/// issuer's for the OPCO AKTO to push with.
fn opco_data(dir: &std::path::Path, backend: &str) -> (std::path::PathBuf, String) {
    let data = dir.join(backend);
    std::fs::create_dir_all(&data).unwrap();
    let token = Issuer::load_or_create(&data, "passerelle-sandbox", "passerelle")
        .unwrap()
        .mint(
            "opco",
            "allocations:write",
            Some("AKTO"),
            None,
            Duration::from_secs(3600),
        );
    (data, token)
}

/// How long a server has to log what a test waits for.
const PROGRESS_WAIT: Duration = Duration::from_secs(300);

/// Starts the server again after its kill; the store, and the batches of
/// `opco` it holds with their sizes.
async fn restart(
    data: &std::path::Path,
    url: &str,
    opco: &Opco,
) -> (Server, Store, std::collections::HashMap<String, i64>) {
    let server = start(data, url);
    let store = Store::open(url).await.unwrap();
    let committed = campaign::ingest::committed_batches(&store, opco)
        .await
        .unwrap();
    (server, store, committed)
}

/// A client that gives up on a server that stops answering, so that a
/// test fails rather than waits forever.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(PROGRESS_WAIT)
        .build()
        .unwrap()
}

/// A simulated campaign's allocations, whatever their OPCO.
fn allocations(employers: usize, allocations: u64) -> Vec<AllocationInput> {
    Campaign::new(CampaignSettings {
        employers,
        allocations,
        ..CampaignSettings::default()
    })
    .map(|(_, a)| a)
    .collect()
}

fn batch(records: &[AllocationInput]) -> Vec<u8> {
    let mut out = Vec::new();
    write_csv(&mut out, records).unwrap();
    out
}

async fn upload(
    client: &reqwest::Client,
    server: &str,
    token: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<serde_json::Value, String> {
    let response = client
        .post(format!("http://{server}/ingest/allocations?campaign=2026"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{e:?}"))?;
    match status.is_success() {
        true => serde_json::from_str(&text).map_err(|e| format!("{e}: {text}")),
        false => Err(format!("{status}: {text}")),
    }
}

#[tokio::test]
async fn a_killed_upload_loses_no_acknowledged_record_and_leaves_no_half_batch() {
    let records = allocations(5_000, 180_000);
    let (small, large) = records.split_at(30_000);
    let opco = Opco::parse("AKTO").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in testing::backends(dir.path()).await {
        let (data, token) = opco_data(dir.path(), backend);
        let mut server = start(&data, &url);
        let client = client();

        // Acknowledged batches.
        let mut acknowledged = std::collections::HashMap::new();
        for (n, chunk) in small.chunks(10_000).enumerate() {
            let key = format!("acked-{n}");
            let report = upload(&client, &server.addr, &token, &key, batch(chunk))
                .await
                .unwrap();
            acknowledged.insert(key, report["accepted"].as_i64().unwrap());
        }

        // A large upload, killed once the server says it is under way.
        let mut in_flight = {
            let (client, addr, token) = (client.clone(), server.addr.clone(), token.clone());
            let body = batch(large);
            tokio::spawn(async move { upload(&client, &addr, &token, "in-flight", body).await })
        };
        let mut log = server.log.take();
        let mut progressed = tokio::task::spawn_blocking(move || {
            log.wait_for(PROGRESS_WAIT, |l| {
                l.contains("upload in progress") && l.contains("in-flight")
            })
        });
        tokio::select! {
            seen = &mut progressed => {
                if let Err(log) = seen.unwrap() {
                    panic!("{backend}: the upload did not say it progressed; the server logged:\n{log}");
                }
            }
            ended = &mut in_flight => {
                panic!("{backend}: the upload ended before it said it progressed: {ended:?}");
            }
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        assert!(
            in_flight.await.unwrap().is_err(),
            "{backend}: the killed upload was not acknowledged"
        );

        // Restarted: every acknowledged batch whole, the killed one absent.
        let (server, store, committed) = restart(&data, &url, &opco).await;
        assert_eq!(committed, acknowledged, "{backend}");
        let totals = figures::totals(&store, 2026).await.unwrap();
        let (rows, sum) = campaign::ingest::stored_totals(&store, 2026).await.unwrap();
        assert_eq!(
            (totals.all.allocations, totals.all.amount_cents),
            (rows, sum)
        );

        // The client retries the killed upload with its key: stored whole, once.
        let report = upload(&client, &server.addr, &token, "in-flight", batch(large))
            .await
            .unwrap();
        assert_eq!(
            report["accepted"].as_u64().unwrap(),
            large.len() as u64,
            "{backend}"
        );
        let (rows, _) = campaign::ingest::stored_totals(&store, 2026).await.unwrap();
        assert_eq!(rows as usize, records.len(), "{backend}");
    }
}

/// Pushes `records` with the GraphQL mutation; the report, or an error
/// when the server did not answer one.
async fn push(
    client: &reqwest::Client,
    server: &str,
    token: &str,
    key: &str,
    records: &[AllocationInput],
) -> Result<serde_json::Value, String> {
    let body: serde_json::Value = client
        .post(format!("http://{server}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "query": "mutation($input: PushAllocationsInput!) { pushAllocations(input: $input) { accepted } }",
            "variables": { "input": { "campaign": 2026, "idempotencyKey": key, "allocations": records } },
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    match body["data"]["pushAllocations"].as_object() {
        Some(report) => Ok(serde_json::Value::Object(report.clone())),
        None => Err(body.to_string()),
    }
}

/// Pushes under way from four clients at once when the server is killed:
/// every acknowledged push is stored whole after the restart, any other is
/// whole or absent, and a retry with its key completes it once.
#[tokio::test]
async fn killed_pushes_lose_no_acknowledged_batch_and_leave_no_half_batch() {
    const BATCH: usize = 500;
    let records = allocations(2_000, 60_000);
    let batches: Vec<(String, &[AllocationInput])> = records
        .chunks(BATCH)
        .enumerate()
        .map(|(n, c)| (format!("push-{n}"), c))
        .collect();
    let opco = Opco::parse("AKTO").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in testing::backends(dir.path()).await {
        let (data, token) = opco_data(dir.path(), backend);
        let mut server = start(&data, &url);
        let client = client();
        let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let pushers: Vec<_> = (0..4)
            .map(|lane| {
                let mine: Vec<(String, Vec<AllocationInput>)> = batches
                    .iter()
                    .skip(lane)
                    .step_by(4)
                    .map(|(k, c)| (k.clone(), c.to_vec()))
                    .collect();
                let (client, addr, token, acked) = (
                    client.clone(),
                    server.addr.clone(),
                    token.clone(),
                    acked_tx.clone(),
                );
                tokio::spawn(async move {
                    for (key, records) in mine {
                        match push(&client, &addr, &token, &key, &records).await {
                            Ok(report) => {
                                assert_eq!(report["accepted"], records.len() as u64);
                                let _ = acked.send(key);
                            }
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        drop(acked_tx);
        // Killed once a dozen pushes were acknowledged, others under way.
        let mut acknowledged = std::collections::HashSet::new();
        while acknowledged.len() < 12 {
            acknowledged.insert(acked_rx.recv().await.expect("pushes acknowledged"));
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for p in pushers {
            p.await.unwrap();
        }
        while let Ok(key) = acked_rx.try_recv() {
            acknowledged.insert(key);
        }
        assert!(
            acknowledged.len() < batches.len(),
            "{backend}: the kill came while pushes were under way"
        );

        let (server, store, committed) = restart(&data, &url, &opco).await;
        for key in &acknowledged {
            assert_eq!(
                committed.get(key).copied(),
                Some(BATCH as i64),
                "{backend}: acknowledged {key}"
            );
        }
        for (key, n) in &committed {
            assert_eq!(*n, BATCH as i64, "{backend}: {key} is whole");
        }
        // Every client retries what it was not told: each stored once.
        for (key, records) in &batches {
            push(&client, &server.addr, &token, key, records)
                .await
                .unwrap();
        }
        let (rows, _) = campaign::ingest::stored_totals(&store, 2026).await.unwrap();
        assert_eq!(rows as usize, records.len(), "{backend}");
    }
}
