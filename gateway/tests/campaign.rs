//! The campaign's store and ingestion, on SQLite and on PostgreSQL: totals
//! to the cent, idempotent retries, per-record rejections, uploads equal to
//! pushes, concurrent retries stored once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use passerelle::domain::campaign::{self, figures, BatchError, Format, IngestError, IngestReport};
use passerelle::store::{testing, Store};
use passerelle_connectors::sandbox::campaign::{write_csv, Campaign, CampaignSettings};
use passerelle_schema::{Allocation, AllocationInput, Opco};

/// A generated campaign split by OPCO, in order.
fn by_opco(settings: CampaignSettings) -> BTreeMap<&'static str, Vec<AllocationInput>> {
    let mut out: BTreeMap<&'static str, Vec<AllocationInput>> = BTreeMap::new();
    for (opco, input) in Campaign::new(settings) {
        out.entry(opco).or_default().push(input);
    }
    out
}

/// What the store must hold for these batches, computed here from the
/// records alone: amount, allocations, employers, establishments, and the
/// amount by OPCO and by flow.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    amount: i64,
    allocations: i64,
    employers: BTreeSet<String>,
    establishments: BTreeMap<String, (i64, BTreeSet<String>)>,
    by_opco: BTreeMap<String, i64>,
    leaked: i64,
    from_normandy: i64,
    rejected: u64,
}

fn expected(batches: &BTreeMap<&'static str, Vec<AllocationInput>>) -> Expected {
    let now = chrono::Utc::now();
    let mut e = Expected::default();
    for (opco, records) in batches {
        let opco = Opco::parse(opco).unwrap();
        for (i, r) in records.iter().enumerate() {
            let Ok(a) = Allocation::check(r, &opco, 2026, i as u64, now) else {
                e.rejected += 1;
                continue;
            };
            e.amount += a.amount.0;
            e.allocations += 1;
            e.employers.insert(a.employer_siret.to_string());
            let est = e
                .establishments
                .entry(a.establishment_uai.to_string())
                .or_default();
            est.0 += a.amount.0;
            est.1.insert(a.employer_siret.to_string());
            *e.by_opco.entry(opco.to_string()).or_default() += a.amount.0;
            if a.from_normandy() {
                e.from_normandy += a.amount.0;
                if !a.to_normandy() {
                    e.leaked += a.amount.0;
                }
            }
        }
    }
    e
}

async fn check_figures(store: &Store, e: &Expected, backend: &str) {
    let t = figures::totals(store, 2026).await.unwrap();
    assert_eq!(t.all.amount_cents, e.amount, "{backend}: total to the cent");
    assert_eq!(t.all.allocations, e.allocations, "{backend}");
    assert_eq!(t.all.employers, e.employers.len() as i64, "{backend}");
    assert_eq!(t.establishments, e.establishments.len() as i64, "{backend}");
    assert_eq!(t.leaked(), e.leaked, "{backend}");
    assert_eq!(t.from_normandy(), e.from_normandy, "{backend}");
    assert_eq!(
        t.to_normandy() + t.outside_normandy(),
        e.amount,
        "{backend}"
    );
    let opcos: BTreeMap<String, i64> = figures::breakdown(store, 2026, "opco")
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.key, l.amount_cents))
        .collect();
    assert_eq!(opcos, e.by_opco, "{backend}");
    let (page, count) = figures::establishments(
        store,
        2026,
        figures::Order::AmountDesc,
        &Default::default(),
        1_000,
        0,
    )
    .await
    .unwrap();
    assert_eq!(count, e.establishments.len() as i64);
    assert!(page
        .windows(2)
        .all(|w| w[0].amount_cents >= w[1].amount_cents));
    for line in page {
        let (amount, employers) = &e.establishments[&line.key];
        assert_eq!(line.amount_cents, *amount, "{backend}: {}", line.key);
        assert_eq!(
            line.employers,
            employers.len() as i64,
            "{backend}: {}",
            line.key
        );
    }
    let (stored, sum) = campaign::ingest::stored_totals(store, 2026).await.unwrap();
    assert_eq!(
        (stored, sum),
        (e.allocations, e.amount),
        "{backend}: aggregates = rows"
    );
}

async fn push_all(
    store: &Store,
    batches: &BTreeMap<&'static str, Vec<AllocationInput>>,
    key: &str,
) -> Vec<IngestReport> {
    let mut reports = Vec::new();
    for (opco, records) in batches {
        let opco = Opco::parse(opco).unwrap();
        for (n, chunk) in records.chunks(1_000).enumerate() {
            reports.push(
                campaign::push(store, &opco, 2026, &format!("{key}-{n}"), chunk.to_vec())
                    .await
                    .unwrap(),
            );
        }
    }
    reports
}

#[tokio::test]
async fn pushed_campaign_adds_up_to_the_cent_and_retries_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let batches = by_opco(CampaignSettings {
        employers: 400,
        allocations: 6_000,
        invalid_every: Some(100),
        ..CampaignSettings::default()
    });
    let e = expected(&batches);
    assert_eq!(e.rejected, 60);
    for (backend, url) in testing::backends(dir.path()).await {
        let store = Store::open(&url).await.unwrap();
        let reports = push_all(&store, &batches, "first").await;
        let accepted: u64 = reports.iter().map(|r| r.accepted).sum();
        let rejected: Vec<_> = reports.iter().flat_map(|r| r.rejected.iter()).collect();
        assert_eq!(accepted, e.allocations as u64, "{backend}");
        assert_eq!(
            rejected.len() as u64,
            e.rejected,
            "{backend}: 1 % rejected one by one"
        );
        for r in &rejected {
            assert!(!r.field.is_empty() && !r.code.is_empty() && !r.reason.is_empty());
        }
        check_figures(&store, &e, backend).await;

        // The same batches again: replayed, the same reports, nothing stored.
        let again = push_all(&store, &batches, "first").await;
        assert!(again.iter().all(|r| r.replayed), "{backend}");
        let strip = |r: &IngestReport| IngestReport {
            replayed: false,
            ..r.clone()
        };
        assert_eq!(
            again.iter().map(strip).collect::<Vec<_>>(),
            reports,
            "{backend}: a retry returns the original report"
        );
        // The same records under new keys: every one a duplicate.
        let renamed = push_all(&store, &batches, "second").await;
        assert_eq!(
            renamed.iter().map(|r| r.accepted).sum::<u64>(),
            0,
            "{backend}"
        );
        assert_eq!(
            renamed.iter().map(|r| r.duplicates).sum::<u64>(),
            e.allocations as u64,
            "{backend}"
        );
        check_figures(&store, &e, backend).await;
    }
}

#[tokio::test]
async fn an_upload_stores_what_a_push_does_and_a_reused_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let batches = by_opco(CampaignSettings {
        employers: 200,
        allocations: 3_000,
        invalid_every: Some(50),
        ..CampaignSettings::default()
    });
    let e = expected(&batches);
    for (backend, url) in testing::backends(dir.path()).await {
        let store = Store::open(&url).await.unwrap();
        let mut accepted = 0;
        for (opco, records) in &batches {
            let opco = Opco::parse(opco).unwrap();
            let mut csv = Vec::new();
            write_csv(&mut csv, records).unwrap();
            let upload = |bytes: Vec<u8>| {
                let store = store.clone();
                let opco = opco.clone();
                async move {
                    campaign::ingest_upload(
                        &store,
                        &opco,
                        "file-1",
                        Some("2026"),
                        Format::Csv,
                        std::io::Cursor::new(bytes),
                        |_| {},
                    )
                    .await
                }
            };
            let report = upload(csv.clone()).await.unwrap();
            assert!(!report.replayed);
            accepted += report.accepted;
            let again = upload(csv.clone()).await.unwrap();
            assert!(again.replayed, "{backend}");
            assert_eq!(again.accepted, report.accepted);
            // Other content under the same key is refused, and stores nothing.
            csv.extend_from_slice(b"X-1;73282932000074;14118;0141687H;10;2026-06-02\n");
            let reused = upload(csv).await.unwrap_err();
            assert!(
                matches!(reused, BatchError::Ingest(IngestError::KeyReused(_))),
                "{backend}: {reused}"
            );
        }
        assert_eq!(accepted, e.allocations as u64);
        check_figures(&store, &e, backend).await;
    }
}

#[tokio::test]
async fn concurrent_retries_of_one_batch_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let batches = by_opco(CampaignSettings {
        employers: 100,
        allocations: 2_000,
        ..CampaignSettings::default()
    });
    let (opco, records) = batches.iter().next().unwrap();
    let opco = Opco::parse(opco).unwrap();
    for (backend, url) in testing::backends(dir.path()).await {
        let store = Store::open(&url).await.unwrap();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (store, opco, records) = (store.clone(), opco.clone(), records.clone());
                tokio::spawn(
                    async move { campaign::push(&store, &opco, 2026, "same", records).await },
                )
            })
            .collect();
        let mut reports = Vec::new();
        for t in tasks {
            reports.push(t.await.unwrap().unwrap());
        }
        assert_eq!(
            reports.iter().filter(|r| !r.replayed).count(),
            1,
            "{backend}"
        );
        assert!(reports.iter().all(|r| r.accepted == records.len() as u64));
        let (stored, _) = campaign::ingest::stored_totals(&store, 2026).await.unwrap();
        assert_eq!(stored, records.len() as i64, "{backend}: stored once");
        let committed = campaign::ingest::committed_batches(&store, &opco)
            .await
            .unwrap();
        assert_eq!(committed, HashMap::from([("same".to_owned(), stored)]));
    }
}

#[tokio::test]
async fn a_campaign_year_out_of_range_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let store = Store::open(&url).await.unwrap();
    let opco = Opco::parse("AKTO").unwrap();
    for year in [1999, 2100] {
        let e = campaign::push(&store, &opco, year, "k", vec![])
            .await
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_CAMPAIGN");
    }
}
