//! What the gateway knows of each partner's health, from its own calls.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use std::sync::Arc;

use passerelle_connectors::http::Cached;
use passerelle_connectors::ConnectorError;
use passerelle_schema::Partner;

/// The last known state of one partner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartnerState {
    /// When a call or sync last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure: when, its code and its message.
    pub last_error: Option<PartnerFailure>,
    /// How many records the partner holds, as last seen.
    pub record_count: Option<u64>,
    /// How many records of the partner's latest answer (live partners) or
    /// sync (synced ones) were rejected, when some were: the partner is
    /// `DEGRADED` meanwhile.
    pub rejected: Option<u64>,
    /// Whether the partner's latest answer was its last good one, served
    /// because it failed (live partners): the partner is `DEGRADED`, not
    /// `DOWN`, meanwhile.
    pub serving_stale: bool,
}

/// A failure of a partner, as remembered.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerFailure {
    /// When.
    pub at: DateTime<Utc>,
    /// The error code clients saw.
    pub code: &'static str,
    /// What happened.
    pub message: String,
}

/// A partner's status, derived from its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum PartnerStatus {
    /// The last call succeeded.
    Up,
    /// The last call or sync failed, but earlier data is still served; or
    /// the partner's latest answer had records that were rejected.
    Degraded,
    /// The last call failed and nothing is served from it.
    Down,
    /// Not called yet.
    Unknown,
}

impl PartnerState {
    /// The status, given whether data of the partner is still being served.
    pub fn status(&self, serving_data: bool) -> PartnerStatus {
        match (&self.last_success, &self.last_error) {
            (None, None) => PartnerStatus::Unknown,
            (Some(_), None) if self.rejected.is_some() => PartnerStatus::Degraded,
            (Some(_), None) => PartnerStatus::Up,
            (Some(ok), Some(err)) if *ok >= err.at && self.rejected.is_some() => {
                PartnerStatus::Degraded
            }
            (Some(ok), Some(err)) if *ok >= err.at => PartnerStatus::Up,
            _ if serving_data || self.serving_stale => PartnerStatus::Degraded,
            _ => PartnerStatus::Down,
        }
    }
}

/// Every partner's state, updated by the connectors' callers.
#[derive(Debug, Default)]
pub struct Health {
    states: RwLock<HashMap<Partner, PartnerState>>,
}

impl Health {
    /// Notes a successful call; `count` when it told the partner's size.
    pub fn success(&self, partner: Partner, count: Option<u64>) {
        let mut states = self.states.write().expect("health lock");
        let s = states.entry(partner).or_default();
        s.last_success = Some(Utc::now());
        if count.is_some() {
            s.record_count = count;
        }
    }

    /// Notes the outcome of a call to `partner`: on success its value (and
    /// the partner's size, when `count` tells it), on failure `None`, the
    /// error kept in `errors` for the answer.
    pub fn observe<T>(
        &self,
        partner: Partner,
        result: Result<T, ConnectorError>,
        count: impl FnOnce(&T) -> Option<u64>,
        errors: &mut Vec<ConnectorError>,
    ) -> Option<T> {
        match result {
            Ok(v) => {
                self.success(partner, count(&v));
                Some(v)
            }
            Err(e) => {
                self.failure(&e);
                errors.push(e);
                None
            }
        }
    }

    /// Like [`Health::observe`] for a cached answer: a stale one (served
    /// because the partner failed) notes the failure and adds a
    /// `STALE_DATA` notice to `errors`; one with rejected records adds its
    /// `PARTIAL_DATA` notice, and the partner is `DEGRADED` until an answer
    /// without rejections.
    pub fn observe_cached<V>(
        &self,
        partner: Partner,
        result: Result<Cached<V>, ConnectorError>,
        count: impl FnOnce(&V) -> Option<u64>,
        errors: &mut Vec<ConnectorError>,
    ) -> Option<Arc<V>> {
        if let Err(e) = &result {
            if let Some(n) = e.rejected() {
                self.rejections(partner, Some(n));
            }
        }
        {
            let stale = matches!(&result, Ok(c) if c.stale_because.is_some());
            let mut states = self.states.write().expect("health lock");
            states.entry(partner).or_default().serving_stale = stale;
        }
        let cached = self.observe(
            partner,
            result,
            |c| match &c.stale_because {
                None => count(&c.value),
                Some(_) => None,
            },
            errors,
        )?;
        self.rejections(partner, cached.partial.as_ref().and_then(|e| e.rejected()));
        if let Some(e) = &cached.stale_because {
            self.failure(e);
            errors.push(ConnectorError::Stale {
                partner,
                reason: e.to_string(),
            });
        }
        if let Some(e) = cached.partial {
            errors.push(e);
        }
        Some(cached.value)
    }

    /// Notes how many records of the partner's latest answer were
    /// rejected (`None`: none were).
    pub fn rejections(&self, partner: Partner, rejected: Option<usize>) {
        let mut states = self.states.write().expect("health lock");
        states.entry(partner).or_default().rejected = rejected.map(|n| n as u64);
    }

    /// Notes a failed call.
    pub fn failure(&self, e: &ConnectorError) {
        self.failure_with(e.partner(), e.code(), e.to_string());
    }

    /// Notes a failure described by a code and a message.
    pub fn failure_with(&self, partner: Partner, code: &'static str, message: String) {
        let mut states = self.states.write().expect("health lock");
        states.entry(partner).or_default().last_error = Some(PartnerFailure {
            at: Utc::now(),
            code,
            message,
        });
    }

    /// A partner's state.
    pub fn state(&self, partner: Partner) -> PartnerState {
        self.states
            .read()
            .expect("health lock")
            .get(&partner)
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(stale: bool, rejected: bool) -> Result<Cached<u32>, ConnectorError> {
        Ok(Cached {
            value: Arc::new(1),
            stale_because: stale.then_some(ConnectorError::Timeout {
                partner: passerelle_connectors::cci::PARTNER,
            }),
            partial: rejected.then_some(ConnectorError::PartialData {
                partner: passerelle_connectors::cci::PARTNER,
                rejected: 3,
                kept: 7,
                reasons: "published_at: not a date".into(),
            }),
        })
    }

    fn status_after(results: Vec<Result<Cached<u32>, ConnectorError>>) -> PartnerStatus {
        let health = Health::default();
        for r in results {
            health.observe_cached(
                passerelle_connectors::cci::PARTNER,
                r,
                |_| None,
                &mut Vec::new(),
            );
        }
        health
            .state(passerelle_connectors::cci::PARTNER)
            .status(false)
    }

    #[test]
    fn a_live_partner_is_degraded_while_its_latest_answer_has_rejections_or_is_stale() {
        assert_eq!(status_after(vec![answer(false, false)]), PartnerStatus::Up);
        assert_eq!(
            status_after(vec![answer(false, true)]),
            PartnerStatus::Degraded
        );
        assert_eq!(
            status_after(vec![answer(false, true), answer(false, false)]),
            PartnerStatus::Up
        );
        assert_eq!(
            status_after(vec![answer(false, false), answer(true, false)]),
            PartnerStatus::Degraded
        );
        let failed = Err(ConnectorError::AllRejected {
            partner: passerelle_connectors::cci::PARTNER,
            rejected: 10,
            reasons: "published_at: not a date".into(),
        });
        assert_eq!(
            status_after(vec![answer(false, false), failed]),
            PartnerStatus::Down
        );
    }
}
