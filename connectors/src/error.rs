//! What can go wrong when Passerelle calls a partner.

use passerelle_schema::Partner;

/// A failed call to a partner. The messages are safe to show to clients:
/// they name the partner and the kind of failure, never a credential, a
/// URL with secrets, or a partner's raw answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// The partner did not answer within its timeout.
    #[error("{partner} did not answer in time")]
    Timeout {
        /// The partner.
        partner: Partner,
    },
    /// The partner could not be reached, or answered with a server error.
    #[error("{partner} is unavailable: {reason}")]
    Unavailable {
        /// The partner.
        partner: Partner,
        /// The kind of failure (`HTTP 503`, `connection refused`).
        reason: String,
        /// How long the partner asked to be left alone (`Retry-After`).
        retry_after: Option<std::time::Duration>,
    },
    /// The partner failed; its last good answer is served instead.
    #[error("{partner} failed ({reason}); its last good answer is served")]
    Stale {
        /// The partner.
        partner: Partner,
        /// The failure.
        reason: String,
    },
    /// The partner's payload could not be read into records at all (not
    /// its JSON, XML that breaks off before any record).
    #[error("{partner}'s answer could not be mapped: {reason}")]
    MappingFailed {
        /// The partner.
        partner: Partner,
        /// What was wrong with it.
        reason: String,
    },
    /// Every record of the partner's answer was rejected: nothing of it can
    /// be answered, and it is not cached.
    #[error("{partner}'s answer could not be mapped: its {rejected} records were all rejected ({reasons})")]
    AllRejected {
        /// The partner.
        partner: Partner,
        /// How many records were rejected.
        rejected: usize,
        /// The first reasons (`field: reason`).
        reasons: String,
    },
    /// Some records of the partner's answer were rejected: the others are
    /// answered.
    #[error("{partner} sent {rejected} records that were rejected ({reasons}); the other {kept} are answered")]
    PartialData {
        /// The partner.
        partner: Partner,
        /// How many records were rejected.
        rejected: usize,
        /// How many were kept.
        kept: usize,
        /// The first reasons (`field: reason`).
        reasons: String,
    },
    /// Calls to the partner fail at once: it failed too often lately.
    #[error("{partner} is failing; calls are suspended for a while")]
    CircuitOpen {
        /// The partner.
        partner: Partner,
    },
    /// The partner refused Passerelle's credentials.
    #[error("{partner} refused Passerelle's credentials: {reason}")]
    Auth {
        /// The partner.
        partner: Partner,
        /// The partner's stated reason, or the HTTP status.
        reason: String,
    },
    /// The partner answered something that is not its protocol.
    #[error("{partner} sent an unreadable answer: {reason}")]
    BadResponse {
        /// The partner.
        partner: Partner,
        /// What was wrong with it.
        reason: String,
    },
}

impl ConnectorError {
    /// The partner involved.
    pub fn partner(&self) -> Partner {
        match self {
            ConnectorError::Timeout { partner }
            | ConnectorError::Unavailable { partner, .. }
            | ConnectorError::Auth { partner, .. }
            | ConnectorError::BadResponse { partner, .. }
            | ConnectorError::CircuitOpen { partner }
            | ConnectorError::Stale { partner, .. }
            | ConnectorError::MappingFailed { partner, .. }
            | ConnectorError::AllRejected { partner, .. }
            | ConnectorError::PartialData { partner, .. } => *partner,
        }
    }

    /// Every code [`ConnectorError::code`] gives.
    pub const CODES: [&'static str; 8] = [
        "PARTNER_TIMEOUT",
        "PARTNER_UNAVAILABLE",
        "PARTNER_AUTH_FAILED",
        "PARTNER_BAD_RESPONSE",
        "CIRCUIT_OPEN",
        "STALE_DATA",
        "MAPPING_FAILED",
        "PARTIAL_DATA",
    ];

    /// The stable code clients see in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectorError::Timeout { .. } => "PARTNER_TIMEOUT",
            ConnectorError::Unavailable { .. } => "PARTNER_UNAVAILABLE",
            ConnectorError::Auth { .. } => "PARTNER_AUTH_FAILED",
            ConnectorError::BadResponse { .. } => "PARTNER_BAD_RESPONSE",
            ConnectorError::CircuitOpen { .. } => "CIRCUIT_OPEN",
            ConnectorError::Stale { .. } => "STALE_DATA",
            ConnectorError::MappingFailed { .. } | ConnectorError::AllRejected { .. } => {
                "MAPPING_FAILED"
            }
            ConnectorError::PartialData { .. } => "PARTIAL_DATA",
        }
    }

    /// How many of the partner's records were rejected, when that is the
    /// error.
    pub fn rejected(&self) -> Option<usize> {
        match self {
            ConnectorError::AllRejected { rejected, .. }
            | ConnectorError::PartialData { rejected, .. } => Some(*rejected),
            _ => None,
        }
    }

    /// The error an answer with `rejected` records rejected and `kept`
    /// kept gives: none when nothing was rejected, [`AllRejected`] when
    /// nothing was kept, [`PartialData`] otherwise. The reasons of the
    /// first three distinct fields are named.
    ///
    /// [`AllRejected`]: ConnectorError::AllRejected
    /// [`PartialData`]: ConnectorError::PartialData
    pub fn of_rejections(
        partner: Partner,
        kept: usize,
        rejected: &[passerelle_mappings::RecordError],
    ) -> Option<Self> {
        if rejected.is_empty() {
            return None;
        }
        let mut fields: Vec<&str> = Vec::new();
        let mut reasons = Vec::new();
        for e in rejected {
            if fields.len() == 3 {
                break;
            }
            if !fields.contains(&e.field.as_str()) {
                fields.push(&e.field);
                let reason: String = e.reason.chars().take(120).collect();
                reasons.push(format!("{}: {reason}", e.field));
            }
        }
        let reasons = reasons.join("; ");
        let rejected = rejected.len();
        Some(if kept == 0 {
            ConnectorError::AllRejected {
                partner,
                rejected,
                reasons,
            }
        } else {
            ConnectorError::PartialData {
                partner,
                rejected,
                kept,
                reasons,
            }
        })
    }

    /// Whether trying again may succeed: timeouts, unavailability.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ConnectorError::Timeout { .. } | ConnectorError::Unavailable { .. }
        )
    }

    /// How long the partner asked to wait before the next call.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ConnectorError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A partner's unavailability, with no hint of when to come back.
    pub fn unavailable(partner: Partner, reason: impl Into<String>) -> Self {
        ConnectorError::Unavailable {
            partner,
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// Classifies a partner's non-success answer, reading `Retry-After`
    /// (in seconds) when it gives one.
    pub fn from_response(partner: Partner, response: &reqwest::Response) -> Self {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_secs);
        match Self::from_status(partner, response.status()) {
            ConnectorError::Unavailable {
                partner, reason, ..
            } => ConnectorError::Unavailable {
                partner,
                reason,
                retry_after,
            },
            other => other,
        }
    }

    /// Classifies a transport error of a call to `partner`.
    pub fn from_reqwest(partner: Partner, e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            ConnectorError::Timeout { partner }
        } else if let Some(status) = e.status() {
            Self::from_status(partner, status)
        } else if e.is_decode() || e.is_body() {
            ConnectorError::BadResponse {
                partner,
                reason: "the body could not be read".into(),
            }
        } else {
            ConnectorError::unavailable(
                partner,
                if e.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                },
            )
        }
    }

    /// Classifies an HTTP status a partner answered with.
    pub fn from_status(partner: Partner, status: reqwest::StatusCode) -> Self {
        match status.as_u16() {
            401 | 403 => ConnectorError::Auth {
                partner,
                reason: format!("HTTP {}", status.as_u16()),
            },
            408 | 504 => ConnectorError::Timeout { partner },
            _ => ConnectorError::unavailable(partner, format!("HTTP {}", status.as_u16())),
        }
    }
}
