//! The saved alerts' store: counted and paged per client.

use super::*;
use crate::store::Store;

fn alert(id: &str, client: &str, created_us: i64) -> AlertRow {
    AlertRow {
        id: id.into(),
        client_id: client.into(),
        candidate_ref: "cand".into(),
        filter: "{}".into(),
        webhook_url: "https://example.org/hook".into(),
        secret: "whsec_x".into(),
        digest: "IMMEDIATE".into(),
        active: true,
        disabled_why: None,
        created_us,
    }
}

#[tokio::test]
async fn a_clients_alerts_are_counted_and_paged_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in crate::store::testing::backends(dir.path()).await {
        let store = Store::open(&url).await.unwrap();
        // Two created in the same microsecond: the identifier orders them.
        for (id, at) in [("a3", 30), ("a1", 10), ("a2b", 20), ("a2a", 20), ("a4", 40)] {
            store.create_alert(&alert(id, "front", at)).await.unwrap();
        }
        store.create_alert(&alert("b1", "other", 15)).await.unwrap();
        assert_eq!(store.count_alerts("front").await.unwrap(), 5, "{backend}");
        assert_eq!(store.count_alerts("other").await.unwrap(), 1, "{backend}");
        assert_eq!(store.count_alerts("nobody").await.unwrap(), 0, "{backend}");
        let mut seen = Vec::new();
        let mut after: Option<(i64, String)> = None;
        loop {
            let page = store
                .alerts_page("front", after.as_ref().map(|(t, i)| (*t, i.as_str())), 2)
                .await
                .unwrap();
            assert!(page.len() <= 2, "{backend}");
            let Some(last) = page.last() else { break };
            after = Some((last.created_us, last.id.clone()));
            seen.extend(page.into_iter().map(|a| a.id));
        }
        assert_eq!(seen, ["a1", "a2a", "a2b", "a3", "a4"], "{backend}");
    }
}
