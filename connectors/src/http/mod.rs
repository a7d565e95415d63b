//! HTTP plumbing every connector shares: the client, OAuth2 tokens, caches.

mod cache;
mod client;
mod oauth;
mod resilience;
pub mod secret;
mod trace;
pub(crate) mod unchanged;

pub use cache::{Cached, LiveAnswer, LiveCache, Loaded};
pub use client::{http_client, HttpSettings};
pub use oauth::{ClientCredentials, TokenSource};
pub use resilience::{
    current_deadline, within_deadline, BreakerSettings, BreakerState, CallPolicy,
    ResilienceSettings, RetrySettings,
};
pub use trace::{record_status, traced, REQUESTS};
pub use unchanged::{PageRead, PagesRead};

/// How long a stale answer may be served by default: an hour.
pub fn default_stale_for() -> std::time::Duration {
    std::time::Duration::from_secs(3600)
}
