//! The HTTP client partners are called with.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Transport settings of one partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// How long one call to the partner may take, from connection to the
    /// last byte.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long establishing a connection may take.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(3)
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: default_timeout(),
            connect_timeout: default_connect_timeout(),
        }
    }
}

/// Builds the client for one partner: its timeouts, gzip, no redirects (a
/// partner that redirects is misconfigured, and following redirects with
/// credentials leaks them), and Passerelle's user agent.
pub fn http_client(settings: &HttpSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("passerelle/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}
