//! HTTP plumbing every connector shares: the client, OAuth2 tokens, caches.

mod cache;
mod client;
mod oauth;
mod resilience;

pub use cache::LiveCache;
pub use client::{http_client, HttpSettings};
pub use oauth::{ClientCredentials, TokenSource};
pub use resilience::{BreakerSettings, BreakerState, Guard, ResilienceSettings, RetrySettings};
