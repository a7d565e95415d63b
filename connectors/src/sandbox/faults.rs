//! Fault knobs of a simulator: latency, errors, outages, malformed records.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A change to a simulator's faults, as `POST /_sandbox/{partner}/faults`
/// takes it. A knob left out keeps its current setting.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultUpdate {
    /// Added latency of every answer, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Share of requests answered with HTTP 503, 0 to 1.
    pub error_rate: Option<f64>,
    /// `true` to take the partner down until told otherwise, `false` to
    /// bring it back, or a number of seconds of outage from now.
    pub outage: Option<Outage>,
    /// Share of records sent malformed, 0 to 1.
    pub malformed_rate: Option<f64>,
    /// New positions for a feed of offers to publish from now on (the CMA
    /// feed): so many records added, published now.
    pub publish_new: Option<u32>,
}

/// An outage setting.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Outage {
    /// Down (`true`) or up (`false`) until told otherwise.
    Flag(bool),
    /// Down for this many seconds.
    Seconds(f64),
}

/// The faults in force, as reported back.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaultReport {
    /// Added latency in milliseconds.
    pub latency_ms: u64,
    /// Share of requests failing.
    pub error_rate: f64,
    /// Whether the partner is down now.
    pub outage: bool,
    /// Seconds of outage left, when it has an end.
    pub outage_remaining_s: Option<f64>,
    /// Share of malformed records.
    pub malformed_rate: f64,
    /// New positions published through the sandbox so far.
    pub published_new: usize,
    /// Requests received so far, failed ones included.
    pub requests: u64,
    /// The W3C `traceparent` of the last request that carried one.
    pub last_traceparent: Option<String>,
}

#[derive(Debug, Default)]
struct State_ {
    latency: Duration,
    error_rate: f64,
    /// `Some(None)`: down until told otherwise; `Some(Some(t))`: down until t.
    outage: Option<Option<Instant>>,
    malformed_rate: f64,
    /// When each new position was published.
    published: Vec<chrono::DateTime<chrono::Utc>>,
}

/// A simulator's fault knobs, shared between its handlers and whoever
/// turns them, and the count of requests it received.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<RwLock<State_>>,
    requests: Arc<AtomicU64>,
    last_traceparent: Arc<RwLock<Option<String>>>,
}

impl Faults {
    /// Applies an update; rates must be within 0 and 1.
    pub fn update(&self, u: &FaultUpdate) -> Result<FaultReport, String> {
        for (name, rate) in [
            ("error_rate", u.error_rate),
            ("malformed_rate", u.malformed_rate),
        ] {
            if rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        if let Some(Outage::Seconds(s)) = u.outage {
            if !(0.0..=86_400.0).contains(&s) {
                return Err("outage seconds must be between 0 and 86400".into());
            }
        }
        {
            let mut s = self.state.write().expect("fault lock");
            if let Some(ms) = u.latency_ms {
                s.latency = Duration::from_millis(ms.min(600_000));
            }
            if let Some(r) = u.error_rate {
                s.error_rate = r;
            }
            if let Some(r) = u.malformed_rate {
                s.malformed_rate = r;
            }
            if let Some(n) = u.publish_new {
                let now = chrono::Utc::now();
                s.published
                    .extend(std::iter::repeat_n(now, n.min(100_000) as usize));
            }
            match u.outage {
                Some(Outage::Flag(true)) => s.outage = Some(None),
                Some(Outage::Flag(false)) => s.outage = None,
                Some(Outage::Seconds(secs)) => {
                    s.outage = Some(Some(Instant::now() + Duration::from_secs_f64(secs)))
                }
                None => {}
            }
        }
        Ok(self.report())
    }

    /// The faults in force.
    pub fn report(&self) -> FaultReport {
        let s = self.state.read().expect("fault lock");
        let now = Instant::now();
        let (outage, remaining) = match s.outage {
            Some(None) => (true, None),
            Some(Some(until)) if until > now => (true, Some((until - now).as_secs_f64())),
            _ => (false, None),
        };
        FaultReport {
            latency_ms: s.latency.as_millis() as u64,
            error_rate: s.error_rate,
            outage,
            outage_remaining_s: remaining,
            malformed_rate: s.malformed_rate,
            published_new: s.published.len(),
            requests: self.requests.load(Ordering::Relaxed),
            last_traceparent: self.last_traceparent.read().expect("trace lock").clone(),
        }
    }

    /// When each new position published through the sandbox was.
    pub fn published_new(&self) -> Vec<chrono::DateTime<chrono::Utc>> {
        self.state.read().expect("fault lock").published.clone()
    }

    /// The share of records to send malformed.
    pub fn malformed_rate(&self) -> f64 {
        self.state.read().expect("fault lock").malformed_rate
    }

    /// Whether the request should fail, after the added latency.
    async fn before_request(&self) -> Option<StatusCode> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let report = self.report();
        if report.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(report.latency_ms)).await;
        }
        if report.outage {
            return Some(StatusCode::SERVICE_UNAVAILABLE);
        }
        if report.error_rate > 0.0 && rand::thread_rng().gen_bool(report.error_rate) {
            return Some(StatusCode::SERVICE_UNAVAILABLE);
        }
        None
    }
}

/// Middleware that applies the faults to every request of a simulator.
pub async fn apply_faults(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    if let Some(tp) = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
    {
        *faults.last_traceparent.write().expect("trace lock") = Some(tp.to_owned());
    }
    match faults.before_request().await {
        Some(status) => (status, "simulated partner failure\n").into_response(),
        None => next.run(req).await,
    }
}

/// A simulator's routes with its faults applied to every request, and the
/// `/_faults` routes beside them.
pub fn faulty(router: axum::Router, faults: Faults) -> axum::Router {
    router
        .layer(axum::middleware::from_fn_with_state(
            faults.clone(),
            apply_faults,
        ))
        .merge(routes(faults))
}

/// Routes every simulator serves beside its protocol, for standalone use:
/// `GET /_faults` reports the faults, `POST /_faults` changes them.
pub fn routes(faults: Faults) -> axum::Router {
    use axum::routing::get;
    use axum::Json;
    axum::Router::new()
        .route(
            "/_faults",
            get(|State(f): State<Faults>| async move { Json(f.report()) }).post(
                |State(f): State<Faults>, Json(u): Json<FaultUpdate>| async move {
                    match f.update(&u) {
                        Ok(r) => Json(r).into_response(),
                        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e).into_response(),
                    }
                },
            ),
        )
        .with_state(faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_left_out_keep_their_setting() {
        let f = Faults::default();
        f.update(&FaultUpdate {
            latency_ms: Some(20),
            ..Default::default()
        })
        .unwrap();
        let r = f
            .update(&FaultUpdate {
                outage: Some(Outage::Seconds(2.0)),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.latency_ms, 20);
        assert!(r.outage);
        assert!(f
            .update(&FaultUpdate {
                error_rate: Some(1.5),
                ..Default::default()
            })
            .is_err());
        let r = f
            .update(&FaultUpdate {
                outage: Some(Outage::Flag(false)),
                ..Default::default()
            })
            .unwrap();
        assert!(!r.outage);
    }
}
