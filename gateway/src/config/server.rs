//! `[server]`: whose word is taken for a client's address, and how long
//! a connection may take to send and read.

use super::alerts::SubscriptionLimits;
use super::limits::Limits;
use super::load::ConfigError;

use serde::Deserialize;

/// The HTTP server: whose word is taken for a client's address, and how
/// long a connection may keep the gateway waiting: `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The networks of the proxies in front of the gateway (the ingress
    /// controller's pods), in CIDR notation (`10.42.0.0/16`, `fd00::/8`; a
    /// bare address is one host). A connection from one of them has its
    /// `client_address_header` read: the client is the rightmost address
    /// there that is not itself a trusted proxy. Empty: every client is the
    /// connection's peer, and forwarding headers are ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header the trusted proxies append the client's address to:
    /// `x-forwarded-for` (ingress-nginx, Traefik, HAProxy, cloud load
    /// balancers) or `forwarded` (RFC 7239). Only that one is read: a
    /// header the proxies pass through untouched is the client's to write.
    #[serde(default)]
    pub client_address_header: ClientAddressHeader,
    /// How long a client has to send a request's line and headers,
    /// counted from when its connection opened or its previous answer was
    /// sent: a connection that sends nothing or half a header is closed
    /// then, and so is a kept-alive one whose next request does not come.
    #[serde(default = "default_header_read_timeout", with = "humantime_serde")]
    pub header_read_timeout: std::time::Duration,
    /// The longest a request's body may stall between two chunks; a
    /// request whose body stalls longer is answered 408 and its connection
    /// closed. Uploads of any length are fine as long as bytes keep coming.
    #[serde(default = "default_body_read_timeout", with = "humantime_serde")]
    pub body_read_timeout: std::time::Duration,
    /// How long a connection may move no byte either way before it is
    /// closed: a stalled response, a WebSocket or event stream whose
    /// client is gone. Keep-alives count as traffic, so it must exceed
    /// `subscriptions.keep_alive`, and `limits.operation_timeout` so that
    /// an operation still running is not cut.
    #[serde(default = "default_idle_timeout", with = "humantime_serde")]
    pub idle_timeout: std::time::Duration,
    /// How long a write may wait for a client that reads nothing before
    /// the connection is closed: an event stream, a large answer or a
    /// WebSocket whose client stopped reading lets go of what it buffered
    /// then, rather than at the idle timeout.
    #[serde(default = "default_write_timeout", with = "humantime_serde")]
    pub write_timeout: std::time::Duration,
}

/// The header trusted proxies write the client's address in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ClientAddressHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    #[serde(rename = "forwarded")]
    Forwarded,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            client_address_header: ClientAddressHeader::default(),
            header_read_timeout: default_header_read_timeout(),
            body_read_timeout: default_body_read_timeout(),
            idle_timeout: default_idle_timeout(),
            write_timeout: default_write_timeout(),
        }
    }
}

fn default_header_read_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_body_read_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}
fn default_idle_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(75)
}
fn default_write_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}

impl ServerConfig {
    /// The trusted proxies' networks, each entry read as a network in CIDR
    /// notation or a single address.
    pub fn trusted_networks(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let n = n.trim();
                n.parse::<ipnet::IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ConfigError::Entry {
                        path: format!("server.trusted_proxies[{i}]"),
                        reason: format!(
                            "{n:?} is not a network in CIDR notation (10.42.0.0/16, fd00::/8) nor an address"
                        ),
                    })
            })
            .collect()
    }

    pub(super) fn validate(
        &self,
        limits: &Limits,
        subscriptions: &SubscriptionLimits,
    ) -> Result<(), ConfigError> {
        self.trusted_networks()?;
        for (path, d) in [
            ("server.header_read_timeout", self.header_read_timeout),
            ("server.body_read_timeout", self.body_read_timeout),
            ("server.idle_timeout", self.idle_timeout),
            ("server.write_timeout", self.write_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::Inconsistent {
                    path,
                    reason: "must be longer than 0s".into(),
                });
            }
        }
        let longer_than = |other: &str, d: std::time::Duration, why: &str| {
            if self.idle_timeout > d {
                return Ok(());
            }
            Err(ConfigError::Inconsistent {
                path: "server.idle_timeout",
                reason: format!(
                    "{} must be longer than {other} ({}), {why}",
                    humantime::format_duration(self.idle_timeout),
                    humantime::format_duration(d)
                ),
            })
        };
        longer_than(
            "subscriptions.keep_alive",
            subscriptions.keep_alive,
            "or live subscriptions are cut between two keep-alives",
        )?;
        longer_than(
            "limits.operation_timeout",
            limits.operation_timeout,
            "or operations still running are cut",
        )
    }
}

#[cfg(test)]
mod tests;
