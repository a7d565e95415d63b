//! Chaos: each partner in turn is taken down, slowed, made to fail half its
//! calls, to send malformed records, and to flap, under concurrent load.
//! The gateway never answers 5xx, answers every field the partner does not
//! feed exactly as without the fault, names the partner with the right code,
//! opens its breaker and closes it again, and keeps its memory bounded.

use serde_json::{json, Value};

use crate::helpers::{rss_kib, spawn_app_with, TestApp, SMALL};

/// Short breaker and retry times, and a one-second operation deadline, so
/// that the chaos runs quickly.
const CONFIG: &str = r#"
[limits]
operation_timeout = "1s"
[sandbox.resilience.breaker]
failure_threshold = 5
open_for = "300ms"
[sandbox.resilience.retry]
base_delay = "10ms"
max_delay = "50ms"
"#;

const ALL: &str = r#"query($d: String!, $l: Int!, $r: [String!], $y: Int!, $c: String!, $py: Int!) {
    offers(first: 3, filter: { departement: $d, level: $l, rome: $r }) { totalCount nodes { id } }
    formations(first: 3) { totalCount totals { capacity vacancies } }
    mobility(filter: { year: $y, country: $c }) { total { mobilities amount } }
    events(filter: { from: "2027-01-01T00:00:00Z", to: "2027-06-30T00:00:00Z" }, first: 3) { totalCount }
    orientationSites { nodes { id } }
    publicSector { apprentices(year: $py) { total } }
}"#;

/// The root fields each partner feeds.
fn fed_by(partner: &str) -> &'static [&'static str] {
    match partner {
        "cci" | "cma" => &["offers"],
        "cnfpt" => &["offers", "publicSector"],
        "carif" => &["formations"],
        "erasmus" | "passmonde" => &["mobility"],
        _ => &["events", "orientationSites"],
    }
}

const FIELDS: [&str; 6] = [
    "offers",
    "formations",
    "mobility",
    "events",
    "orientationSites",
    "publicSector",
];
const DEPARTEMENTS: [&str; 5] = ["14", "27", "50", "61", "76"];

/// The variables of request `n`: distinct for every request of a run, so
/// that live partners are called rather than answered from the cache.
fn vars(n: usize) -> Value {
    const ROMES: [&str; 8] = [
        "D1102", "D1106", "D1202", "F1703", "G1602", "H2913", "I1604", "M1607",
    ];
    const COUNTRIES: [&str; 6] = ["IE", "DE", "ES", "IT", "MT", "NL"];
    json!({
        "d": DEPARTEMENTS[n % 5],
        "l": 3 + (n / 5) % 5,
        "r": [ROMES[(n / 25) % 8]],
        "y": 2022 + (n % 6) as i64,
        "c": COUNTRIES[(n / 6) % 6],
        "py": 2016 + n % 11,
    })
}

async fn sync(app: &TestApp, partner: &str) -> Value {
    app.client
        .post(app.url(&format!("/_sandbox/{partner}/sync")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Fires `n` concurrent operations, numbered from `first`.
async fn burst(app: &TestApp, first: usize, n: usize) -> Vec<(usize, u16, Value)> {
    let calls = (first..first + n).map(|i| async move {
        let (status, body) = app.post(ALL, vars(i)).await;
        (i, status, body)
    });
    futures_join_all(calls).await
}

async fn futures_join_all<F: std::future::Future>(
    fs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = fs.into_iter().collect();
    let mut out = Vec::new();
    // Polled together: the operations overlap.
    let joined = handles.into_iter().map(Box::pin).collect::<Vec<_>>();
    for r in join(joined).await {
        out.push(r);
    }
    out
}

async fn join<F: std::future::Future + Unpin>(mut fs: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut done: Vec<Option<F::Output>> = (0..fs.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in fs.iter_mut().enumerate() {
            if done[i].is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    Poll::Ready(v) => done[i] = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter()
        .map(|d| d.expect("every future completed"))
        .collect()
}

async fn chaos_for(partner: &'static str) {
    let app = spawn_app_with(SMALL, CONFIG).await;
    let synced = matches!(partner, "cma" | "carif" | "erasmus" | "spro");
    let faults: [(&str, Value, &[&str]); 5] = [
        (
            "outage",
            json!({ "outage": true }),
            &["PARTNER_UNAVAILABLE", "CIRCUIT_OPEN", "STALE_DATA"],
        ),
        (
            "latency",
            json!({ "latency_ms": 2000 }),
            &["PARTNER_TIMEOUT", "CIRCUIT_OPEN", "STALE_DATA"],
        ),
        (
            "errors",
            json!({ "error_rate": 0.5 }),
            &["PARTNER_UNAVAILABLE", "CIRCUIT_OPEN", "STALE_DATA"],
        ),
        (
            "malformed",
            json!({ "malformed_rate": 0.3 }),
            &["STALE_DATA", "PARTIAL_DATA", "MAPPING_FAILED"],
        ),
        (
            "flapping",
            json!({ "outage": 0.2 }),
            &["PARTNER_UNAVAILABLE", "CIRCUIT_OPEN", "STALE_DATA"],
        ),
    ];
    let mut next = 0;
    for (name, fault, allowed) in faults {
        app.faults(partner, fault).await;
        if synced {
            sync(&app, partner).await;
        }
        let during = burst(&app, next, 4).await;
        app.faults(
            partner,
            json!({ "outage": false, "latency_ms": 0, "error_rate": 0.0, "malformed_rate": 0.0 }),
        )
        .await;
        // Let a breaker this fault opened pass its open time, so that the
        // next fault starts from a closed one; and loads that went on in
        // the background after the requests stopped waiting (2 s late
        // under the latency fault) finish.
        let settle = if name == "latency" { 2350 } else { 350 };
        tokio::time::sleep(std::time::Duration::from_millis(settle)).await;
        if synced {
            sync(&app, partner).await;
        }
        for (i, status, body) in during {
            assert_eq!(status, 200, "{partner} {name}: {body}");
            for e in body["errors"].as_array().into_iter().flatten() {
                assert_eq!(e["extensions"]["partner"], partner, "{partner} {name}: {e}");
                let code = e["extensions"]["code"].as_str().unwrap();
                assert!(
                    allowed.contains(&code),
                    "{partner} {name}: unexpected {code}"
                );
            }
            // Every field the partner does not feed is answered as without
            // the fault.
            let (_, calm) = app.post(ALL, vars(i)).await;
            for field in FIELDS {
                assert!(
                    !body["data"][field].is_null(),
                    "{partner} {name} blanked {field}"
                );
                if !fed_by(partner).contains(&field) {
                    assert_eq!(
                        body["data"][field], calm["data"][field],
                        "{partner} {name} changed {field}"
                    );
                }
            }
        }
        next += 4;
    }

    // Down for good: the breaker opens, and calls stop reaching the partner.
    app.faults(partner, json!({ "outage": true })).await;
    let mut last = Value::Null;
    for k in 0..7 {
        if synced {
            last = sync(&app, partner).await;
        } else {
            // Years no answer was cached for, so the CNFPT is called.
            let mut v = vars(next);
            v["py"] = json!(2040 + k);
            let (_, body) = app.post(ALL, v).await;
            next += 1;
            last = body;
        }
    }
    if synced {
        assert!(last.to_string().contains("suspended"), "{partner}: {last}");
    } else {
        let partners = app
            .data_bi("{ partners { id lastError { code } } }", json!({}))
            .await;
        let state = partners["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["id"]
                    .as_str()
                    .unwrap()
                    .replace('_', "")
                    .eq_ignore_ascii_case(partner)
            })
            .unwrap()
            .clone();
        assert_eq!(
            state["lastError"]["code"], "CIRCUIT_OPEN",
            "{partner}: {state}"
        );
    }
    // Back up: after the breaker's open time, a probe closes it.
    app.faults(partner, json!({ "outage": false })).await;
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    if synced {
        let runs = sync(&app, partner).await;
        assert!(
            runs.as_array()
                .unwrap()
                .iter()
                .all(|r| r["outcome"] != "failed"),
            "{partner}: {runs}"
        );
    } else {
        let (_, body) = app.post(ALL, vars(next)).await;
        assert!(
            body.get("errors").is_none(),
            "{partner} did not recover: {body}"
        );
    }
}

#[tokio::test]
async fn every_partner_under_every_fault_leaves_the_rest_answered() {
    let before = rss_kib();
    for partner in [
        "cci",
        "cma",
        "carif",
        "erasmus",
        "passmonde",
        "spro",
        "cnfpt",
    ] {
        chaos_for(partner).await;
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 400, "memory grew by {grown_mib} MiB");
}
