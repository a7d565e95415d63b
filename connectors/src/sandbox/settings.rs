//! How the sandbox runs: where it listens, how large its data, how long its
//! tokens live.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::Deserialize;

use super::generate::DatasetSettings;

/// How the sandbox runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    /// The generated data.
    #[serde(default)]
    pub data: DatasetSettings,
    /// The address simulators listen on.
    #[serde(default = "default_host")]
    pub host: IpAddr,
    /// The first port: each simulator takes the next, in partner order
    /// (CCI, CMA, Carif-Oref, …).
    /// 0 picks free ports.
    #[serde(default)]
    pub base_port: u16,
    /// How long the simulated CCI's access tokens live.
    #[serde(default = "default_token_ttl", with = "humantime_serde")]
    pub cci_token_ttl: Duration,
    /// The resilience settings of every sandbox partner (the defaults when
    /// not given): chaos tests shorten the breaker's open time.
    #[serde(default)]
    pub resilience: crate::http::ResilienceSettings,
}

fn default_host() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

fn default_token_ttl() -> Duration {
    Duration::from_secs(3600)
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            data: DatasetSettings::default(),
            host: default_host(),
            base_port: 0,
            cci_token_ttl: default_token_ttl(),
            resilience: crate::http::ResilienceSettings::default(),
        }
    }
}
