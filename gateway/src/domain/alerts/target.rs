//! Which addresses webhooks may reach. A target is checked when an alert
//! is created and at each delivery, after DNS resolution, and the delivery
//! client's resolver ([`GuardedResolver`]) checks again the addresses it
//! connects to, so that a name pointed at a forbidden address since is
//! refused too. Every special-purpose address that is not globally
//! reachable, and cloud metadata, is refused unless the operator allows its
//! network. A client is told only that a target is not allowed; the log is
//! told why.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// Which addresses webhooks may reach.
#[derive(Debug, Clone, Default)]
pub struct TargetGuard {
    allowed: Vec<IpNet>,
}

/// Why a target is refused. A client is told only that the target is not
/// allowed, whatever the reason: what an internal name resolves to, or
/// whether it resolves at all, is for the log ([`TargetError::detail`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute http(s) URL.
    #[error("{0}")]
    Url(String),
    /// It resolves to an address webhooks may not reach.
    #[error("{NOT_ALLOWED}")]
    Forbidden {
        /// The host.
        host: String,
        /// The address.
        address: IpAddr,
        /// What kind of address.
        kind: &'static str,
    },
    /// It does not resolve.
    #[error("{NOT_ALLOWED}")]
    Unresolved(String),
}

/// What a client is told of a refused target.
pub const NOT_ALLOWED: &str = "not an allowed target";

impl TargetError {
    /// Why, for the log: the host, and the address it resolves to and its
    /// kind, or that it does not resolve.
    pub fn detail(&self) -> String {
        match self {
            TargetError::Url(why) => why.clone(),
            TargetError::Forbidden {
                host,
                address,
                kind,
            } => format!("{host} resolves to {address}, a {kind} address"),
            TargetError::Unresolved(host) => format!("{host} does not resolve"),
        }
    }
}

/// Whether `ip` lies in `net`/`len`.
fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let (ip, net) = (u32::from(ip), u32::from(Ipv4Addr::from(net)));
    len == 0 || (ip ^ net) >> (32 - len) == 0
}

/// Whether `ip` lies in `net`/`len`.
fn in_v6(ip: Ipv6Addr, net: [u16; 8], len: u32) -> bool {
    let (ip, net) = (u128::from(ip), u128::from(Ipv6Addr::from(net)));
    len == 0 || (ip ^ net) >> (128 - len) == 0
}

/// The IPv4 addresses webhooks may not reach, most specific first: the
/// special-purpose ranges of the IANA registry that are not globally
/// reachable, and cloud metadata services.
const SPECIAL_V4: &[([u8; 4], u32, &str)] = &[
    ([169, 254, 169, 254], 32, "cloud metadata"),
    ([100, 100, 100, 200], 32, "cloud metadata"),
    ([168, 63, 129, 16], 32, "cloud metadata"),
    ([0, 0, 0, 0], 8, "unspecified (this network)"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared (carrier-grade NAT)"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "IETF protocol assignment"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved or broadcast"),
];

/// The IPv6 addresses webhooks may not reach, most specific first, besides
/// those outside global unicast (`2000::/3`).
const SPECIAL_V6: &[([u16; 8], u32, &str)] = &[
    ([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128, "cloud metadata"),
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified"),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback"),
    ([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible"),
    ([0, 0, 0, 0, 0xffff, 0, 0, 0], 96, "IPv4-translated"),
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "NAT64 local-use"),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only"),
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo"),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignment",
    ),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "private (unique local)"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
];

/// The kind of an address webhooks may not reach, `None` for a public one.
/// An IPv6 address carrying an IPv4 one to reach it (IPv4-mapped, NAT64
/// `64:ff9b::/96`) is judged by the IPv4 address; any other IPv6 address
/// outside global unicast (`2000::/3`) is refused.
fn special(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => SPECIAL_V4
            .iter()
            .find(|(net, len, _)| in_v4(v4, *net, *len))
            .map(|(_, _, kind)| *kind),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return special(IpAddr::V4(v4));
            }
            if in_v6(v6, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
                let [.., a, b, c, d] = v6.octets();
                return special(IpAddr::V4(Ipv4Addr::new(a, b, c, d)));
            }
            SPECIAL_V6
                .iter()
                .find(|(net, len, _)| in_v6(v6, *net, *len))
                .map(|(_, _, kind)| *kind)
                .or_else(|| (!in_v6(v6, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3)).then_some("reserved"))
        }
    }
}

impl TargetGuard {
    /// A guard allowing the special addresses of `allowed` networks (CIDR).
    pub fn new(allowed: &[String]) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{n:?} is not a network (CIDR, like 127.0.0.1/32)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// Checks one address of `host`.
    pub fn check_address(&self, host: &str, address: IpAddr) -> Result<(), TargetError> {
        match special(address) {
            Some(kind) if !self.allowed.iter().any(|n| n.contains(&address)) => {
                Err(TargetError::Forbidden {
                    host: host.to_owned(),
                    address,
                    kind,
                })
            }
            _ => Ok(()),
        }
    }

    /// Checks a webhook URL: its form, and every address its host
    /// resolves to.
    pub async fn check(&self, url: &str) -> Result<url::Url, TargetError> {
        let parsed =
            url::Url::parse(url).map_err(|e| TargetError::Url(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(TargetError::Url("the scheme must be http or https".into()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TargetError::Url(
                "credentials in the URL are refused: the signature authenticates".into(),
            ));
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => self.check_address(url, IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_address(url, IpAddr::V6(ip))?,
            Some(url::Host::Domain(d)) => {
                let addresses: Vec<SocketAddr> = tokio::net::lookup_host((d, port))
                    .await
                    .map_err(|_| TargetError::Unresolved(d.to_owned()))?
                    .collect();
                if addresses.is_empty() {
                    return Err(TargetError::Unresolved(d.to_owned()));
                }
                for a in addresses {
                    self.check_address(d, a.ip())?;
                }
            }
            None => return Err(TargetError::Url("the URL has no host".into())),
        }
        Ok(parsed)
    }
}

/// The HTTP client's resolver: names resolve to the addresses the guard
/// allows only, so that a name cannot be pointed at a forbidden address
/// between the check at creation and a delivery.
pub(crate) struct GuardedResolver(pub(crate) TargetGuard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| TargetError::Unresolved(host.clone()))?
                .collect();
            if addresses.is_empty() {
                return Err(TargetError::Unresolved(host).into());
            }
            for a in &addresses {
                guard.check_address(&host, a.ip())?;
            }
            let out: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_refused_unless_allowed() {
        let guard = TargetGuard::default();
        let refused = [
            // IPv4
            ("0.0.0.0", "unspecified (this network)"),
            ("0.1.2.3", "unspecified (this network)"),
            ("10.1.2.3", "private"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("100.127.255.254", "shared (carrier-grade NAT)"),
            ("100.100.100.200", "cloud metadata"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("168.63.129.16", "cloud metadata"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.2.10", "documentation"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved or broadcast"),
            ("255.255.255.255", "reserved or broadcast"),
            // IPv6
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::127.0.0.1", "IPv4-compatible"),
            ("::10.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::ffff:0:10.0.0.1", "IPv4-translated"),
            ("64:ff9b::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("64:ff9b::192.168.0.1", "private"),
            ("64:ff9b:1::1", "NAT64 local-use"),
            ("100::1", "discard-only"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("2001:2::1", "IETF protocol assignment"),
            ("2001:10::1", "IETF protocol assignment"),
            ("2001:db8::1", "documentation"),
            ("2002::1", "6to4"),
            ("2002:7f00:1::1", "6to4"),
            ("2002:a00:1::1", "6to4"),
            ("3fff::1", "documentation"),
            ("fc00::1", "private (unique local)"),
            ("fd00::1", "private (unique local)"),
            ("fd00:ec2::254", "cloud metadata"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("feff::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
            ("4000::1", "reserved"),
            ("5f00::1", "reserved"),
            ("1::1", "reserved"),
        ];
        for (ip, kind) in refused {
            let address: IpAddr = ip.parse().unwrap();
            let refusal = guard.check_address("h", address).unwrap_err();
            assert_eq!(
                refusal,
                TargetError::Forbidden {
                    host: "h".into(),
                    address,
                    kind
                },
                "{ip}"
            );
            // The client is told nothing of the address or its kind.
            assert_eq!(refusal.to_string(), NOT_ALLOWED, "{ip}");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.31.196.1",
            "192.88.98.255",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "2a00:1450:4007:80e::200e",
            "2001:200::1",
            "2003::1",
        ];
        for ip in allowed {
            assert!(
                guard.check_address("h", ip.parse().unwrap()).is_ok(),
                "{ip}"
            );
        }
        let loopback = TargetGuard::new(&["127.0.0.1/32".into()]).unwrap();
        assert!(loopback
            .check_address("h", "127.0.0.1".parse().unwrap())
            .is_ok());
        assert!(loopback
            .check_address("h", "127.0.0.2".parse().unwrap())
            .is_err());
        assert!(TargetGuard::new(&["nonsense".into()]).is_err());
    }

    #[tokio::test]
    async fn refusals_tell_clients_nothing_of_what_names_resolve_to() {
        let guard = TargetGuard::default();
        for url in [
            "http://localhost:9/hook",
            "http://does-not-exist.invalid/hook",
            "http://[::127.0.0.1]/hook",
            "http://[::10.0.0.1]/hook",
            "http://192.88.99.1/hook",
        ] {
            let e = guard.check(url).await.unwrap_err();
            assert_eq!(e.to_string(), NOT_ALLOWED, "{url}");
            assert_ne!(e.detail(), NOT_ALLOWED, "{url}");
        }
        let e = guard.check("http://localhost:9/hook").await.unwrap_err();
        assert!(e.detail().contains("loopback"), "{}", e.detail());
    }
}
