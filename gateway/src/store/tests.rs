//! The store on SQLite (and PostgreSQL when given): feeds, syncs, faults.

use std::time::Duration;

use sqlx::Row;

use super::pool::Tuning;
use super::*;

fn run(id: i64) -> SyncRun {
    SyncRun {
        id,
        partner: "cma".into(),
        entity: "offer".into(),
        started_at: "2026-11-28T10:00:00Z".into(),
        duration_ms: 12,
        outcome: "updated".into(),
        records: 2,
        rejected: 0,
        rejects: "[]".into(),
        notes: "[]".into(),
        error: None,
        error_code: None,
        etag: Some(format!("\"e{id}\"")),
        replica: Some("test".into()),
    }
}

fn rec(id: &str, v: &str) -> FeedRecord {
    FeedRecord {
        partner_id: id.into(),
        payload: v.into(),
    }
}

/// The store on SQLite and, when the suite has a server, PostgreSQL.
async fn stores() -> (tempfile::TempDir, Vec<(&'static str, Store)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    for (backend, url) in testing::backends(dir.path()).await {
        out.push((backend, Store::open(&url).await.unwrap()));
    }
    (dir, out)
}

#[tokio::test]
async fn a_complete_sync_replaces_the_feed_and_keeps_rejected_records() {
    let (_dir, stores) = stores().await;
    for (backend, s) in stores {
        complete_sync(backend, &s).await;
    }
}

async fn complete_sync(backend: &str, s: &Store) {
    s.save_sync(
        &run(1),
        vec![rec("a", "1"), rec("b", "1"), rec("c", "1")],
        &[],
        true,
    )
    .await
    .unwrap();
    // b is gone from the feed; c was rejected this time and keeps its old version.
    s.save_sync(&run(2), vec![rec("a", "2")], &["c".into()], true)
        .await
        .unwrap();
    assert_eq!(
        s.feed("cma", "offer").await.unwrap(),
        ["2", "1"],
        "{backend}"
    );
    assert_eq!(
        s.last_update("cma", "offer").await.unwrap(),
        Some((2, Some("\"e2\"".into()))),
        "{backend}"
    );
    assert_eq!(
        s.runs("cma", "offer", 10).await.unwrap().len(),
        2,
        "{backend}"
    );
}

#[tokio::test]
async fn a_sync_dropped_before_its_commit_stores_nothing() {
    let (_dir, stores) = stores().await;
    for (backend, s) in stores {
        s.save_sync(&run(1), vec![rec("a", "1"), rec("b", "1")], &[], true)
            .await
            .unwrap();
        let mut sync = s.begin_sync(&run(2)).await.unwrap();
        sync.write(vec![rec("a", "2"), rec("c", "2")])
            .await
            .unwrap();
        drop(sync);
        assert_eq!(
            s.feed("cma", "offer").await.unwrap(),
            ["1", "1"],
            "{backend}"
        );
        assert_eq!(
            s.last_update("cma", "offer")
                .await
                .unwrap()
                .map(|(id, _)| id),
            Some(1),
            "{backend}"
        );
    }
}

/// A full disk (SQLite's page limit) fails the write that met it and
/// nothing else: once space is back, writes commit, a rollback ends
/// its transaction, and another process can take the write lock.
#[tokio::test]
async fn a_full_disk_leaves_no_lock_behind() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("store.db").display()
    );
    let pages: u32 = {
        let s = Store::open(&url).await.unwrap();
        sqlx::query("PRAGMA page_count")
            .fetch_one(s.pool().unwrap())
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap() as u32
    };
    let bounded = Tuning {
        connections: 1,
        sqlite_max_pages: Some(pages + 24),
    };
    let s = Store::open_with(&url, bounded).await.unwrap();
    let payload = "x".repeat(3000);
    let filler = (0..12).map(|i| rec(&format!("f{i}"), &payload));
    s.save_sync(&run(1), filler, &[], true).await.unwrap();
    // The disk fills: the sync that meets it fails and keeps nothing.
    let big = (0..40).map(|i| rec(&format!("b{i}"), &payload));
    let full = s.save_sync(&run(2), big, &[], false).await.unwrap_err();
    assert!(full.to_string().contains("full"), "{full}");
    assert_eq!(s.feed("cma", "offer").await.unwrap().len(), 12);
    // Space comes back (the filler feed is replaced by a small one).
    s.save_sync(&run(3), vec![rec("a", "1")], &[], true)
        .await
        .unwrap();
    // A transaction the database ended on its own, as SQLite does on
    // some `SQLITE_FULL` and `SQLITE_IOERR`: the driver's rollback then
    // fails.
    let mut ended = s.begin_sync(&run(4)).await.unwrap();
    ended.write(vec![rec("a", "2")]).await.unwrap();
    sqlx::query("ROLLBACK")
        .execute(&mut *ended.tx)
        .await
        .unwrap();
    drop(ended);
    s.save_sync(&run(5), vec![rec("a", "3")], &[], true)
        .await
        .unwrap();
    // A transaction rolled back (an idempotent replay) ends.
    let mut replay = s.begin_sync(&run(6)).await.unwrap();
    replay.write(vec![rec("a", "4")]).await.unwrap();
    drop(replay);
    // Another process writes at once: no lock was left behind.
    let other = Store::open(&url).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), other.record_run(&run(7)))
        .await
        .expect("the write lock is free")
        .unwrap();
    assert_eq!(s.feed("cma", "offer").await.unwrap(), ["3"]);
}

#[tokio::test]
async fn a_truncated_sync_removes_nothing() {
    let (_dir, stores) = stores().await;
    for (backend, s) in stores {
        s.save_sync(&run(1), vec![rec("a", "1"), rec("b", "1")], &[], true)
            .await
            .unwrap();
        s.save_sync(&run(2), vec![rec("a", "2")], &[], false)
            .await
            .unwrap();
        assert_eq!(
            s.feed("cma", "offer").await.unwrap(),
            ["2", "1"],
            "{backend}"
        );
    }
}
