//! The client's address: the connection's peer, or, when the peer is one of
//! the trusted proxies in front of the gateway (the ingress controller),
//! the address those proxies recorded in their forwarding header.
//!
//! The header is walked from the right, the end the proxies append to:
//! addresses of trusted proxies are skipped and the first other one is the
//! client. What stands left of it was written by the client and is never
//! read, so prepending addresses spoofs nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ipnet::IpNet;

use crate::config::ClientAddressHeader;

/// The proxies whose forwarding header is believed, and which header that
/// is.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Arc<[IpNet]>,
    header: ClientAddressHeader,
}

impl TrustedProxies {
    /// Believes `header` from connections out of `networks`.
    pub fn new(networks: Vec<IpNet>, header: ClientAddressHeader) -> Self {
        Self {
            networks: networks.into(),
            header,
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(&ip))
    }
}

/// The address of the client a request came from; handlers take it
/// instead of `ConnectInfo<SocketAddr>`. Set on every request by the
/// server's entry, before any route; a router served without it gets the
/// connection's peer, from `ConnectInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<ClientAddress>() {
            return Ok(*client);
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientAddress(peer.ip().to_canonical()))
            .ok_or((
                StatusCode::INTERNAL_SERVER_ERROR,
                "the client's address is unknown",
            ))
    }
}

/// The client's address: `peer` itself unless it is a trusted proxy; then
/// the rightmost address of the forwarding header that is not a trusted
/// proxy. When the walk reaches a hop that names no address (`unknown`,
/// an obfuscated node, a `Forwarded` element without `for`) or the left
/// end of the header, the client is the last address reached. A malformed
/// hop on the way gives `peer`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let name = match trusted.header {
        ClientAddressHeader::XForwardedFor => "x-forwarded-for",
        ClientAddressHeader::Forwarded => "forwarded",
    };
    let mut reached = peer;
    // Later header lines were added later: walk them last first.
    for value in headers.get_all(name).iter().rev() {
        let Ok(value) = value.to_str() else {
            return peer;
        };
        let hops = match trusted.header {
            ClientAddressHeader::XForwardedFor => Some(value.split(',').collect()),
            ClientAddressHeader::Forwarded => split_outside_quotes(value, ','),
        };
        let Some(hops) = hops else {
            return peer;
        };
        for hop in hops
            .iter()
            .rev()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            let hop = match trusted.header {
                ClientAddressHeader::XForwardedFor => node(hop),
                ClientAddressHeader::Forwarded => forwarded_for(hop),
            };
            match hop {
                Some(Hop::Address(ip)) => {
                    reached = ip.to_canonical();
                    if !trusted.contains(reached) {
                        return reached;
                    }
                }
                Some(Hop::Unnamed) => return reached,
                None => return peer,
            }
        }
    }
    reached
}

/// One hop of a forwarding header.
#[derive(Debug, PartialEq)]
enum Hop {
    /// The address the proxy got the request from.
    Address(IpAddr),
    /// A hop whose address the proxy did not say.
    Unnamed,
}

/// `value` cut at each `delimiter` outside double quotes; `None` when a
/// quote is left open.
fn split_outside_quotes(value: &str, delimiter: char) -> Option<Vec<&str>> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => {
                pieces.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&value[start..]);
    (!quoted).then_some(pieces)
}

/// The `for` of one `Forwarded` element (`for=192.0.2.60;proto=http`):
/// `Unnamed` without one, `None` when the element is malformed.
fn forwarded_for(element: &str) -> Option<Hop> {
    let mut found = None;
    for pair in split_outside_quotes(element, ';')? {
        let (name, value) = pair.split_once('=')?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token) {
            return None;
        }
        let value = unquote(value.trim())?;
        if name.eq_ignore_ascii_case("for") {
            if found.is_some() {
                return None;
            }
            found = Some(node(&value)?);
        }
    }
    Some(found.unwrap_or(Hop::Unnamed))
}

/// A parameter's value: a token, or a quoted string with its escapes
/// undone.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.is_empty() && value.bytes().all(is_token)).then(|| value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Whether `b` may appear in an HTTP token.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A node: an IPv4 address, an IPv6 address (bare or in brackets), either
/// with a port; `unknown` or an obfuscated identifier (`_hidden`) name no
/// address.
fn node(node: &str) -> Option<Hop> {
    if node.eq_ignore_ascii_case("unknown") || obfuscated(node) {
        return Some(Hop::Unnamed);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(Hop::Address(ip));
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let ip = ip.parse::<Ipv6Addr>().ok()?;
        return (after.is_empty() || after.strip_prefix(':').is_some_and(port))
            .then_some(Hop::Address(ip.into()));
    }
    let (ip, p) = node.split_once(':')?;
    let ip = ip.parse::<Ipv4Addr>().ok()?;
    port(p).then_some(Hop::Address(ip.into()))
}

/// A port: digits, or an obfuscated one.
fn port(p: &str) -> bool {
    (p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()) || obfuscated(p)
}

/// An obfuscated identifier (RFC 7239 §6.3): `_` then letters, digits,
/// `.`, `_` or `-`.
fn obfuscated(s: &str) -> bool {
    s.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted(header: ClientAddressHeader) -> TrustedProxies {
        TrustedProxies::new(
            ["10.42.0.0/16", "fd00::/8", "192.0.2.10/32"]
                .iter()
                .map(|n| n.parse().unwrap())
                .collect(),
            header,
        )
    }

    fn resolved(peer: &str, header: ClientAddressHeader, lines: &[&[u8]]) -> IpAddr {
        let name = match header {
            ClientAddressHeader::XForwardedFor => "x-forwarded-for",
            ClientAddressHeader::Forwarded => "forwarded",
        };
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(name, HeaderValue::from_bytes(line).unwrap());
        }
        client_address(peer.parse().unwrap(), &headers, &trusted(header))
    }

    #[test]
    fn the_client_is_the_rightmost_address_no_trusted_proxy_vouches_for() {
        use ClientAddressHeader::XForwardedFor as Xff;
        let table: &[(&str, &[&[u8]], &str, &str)] = &[
            // An untrusted peer's headers are ignored, spoofed or not.
            (
                "203.0.113.9",
                &[b"198.51.100.1"],
                "203.0.113.9",
                "untrusted peer, spoofed header",
            ),
            (
                "203.0.113.9",
                &[b"10.42.0.7"],
                "203.0.113.9",
                "untrusted peer claiming a proxy",
            ),
            (
                "10.43.0.1",
                &[b"198.51.100.1"],
                "10.43.0.1",
                "a private but untrusted peer",
            ),
            // A trusted peer: the rightmost untrusted address.
            ("10.42.0.7", &[b"198.51.100.1"], "198.51.100.1", "one proxy"),
            (
                "10.42.0.7",
                &[],
                "10.42.0.7",
                "a trusted peer without the header",
            ),
            (
                "10.42.0.7",
                &[b"6.6.6.6, 198.51.100.1"],
                "198.51.100.1",
                "a prepended address is not read",
            ),
            (
                "10.42.0.7",
                &[b"6.6.6.6, 198.51.100.1, 10.42.3.4"],
                "198.51.100.1",
                "a chain of trusted proxies",
            ),
            (
                "10.42.0.7",
                &[b"198.51.100.1, 192.0.2.10 , 10.42.3.4"],
                "198.51.100.1",
                "a chain through a single trusted host",
            ),
            (
                "10.42.0.7",
                &[b"6.6.6.6", b"198.51.100.1, 10.42.3.4"],
                "198.51.100.1",
                "over several header lines",
            ),
            (
                "10.42.0.7",
                &[b"10.42.9.9, 10.42.3.4"],
                "10.42.9.9",
                "only proxies: the leftmost",
            ),
            (
                "10.42.0.7",
                &[b"6.6.6.6, unknown, 10.42.3.4"],
                "10.42.3.4",
                "unknown stops at the proxy that wrote it",
            ),
            (
                "10.42.0.7",
                &[b"198.51.100.1:4711"],
                "198.51.100.1",
                "with a port",
            ),
            (
                "10.42.0.7",
                &[b"198.51.100.1,,"],
                "198.51.100.1",
                "empty entries",
            ),
            // IPv6.
            (
                "fd00::1",
                &[b"2001:db8::1"],
                "2001:db8::1",
                "IPv6 proxy and client",
            ),
            (
                "fd00::1",
                &[b"[2001:db8::1]:4711, fd00::2"],
                "2001:db8::1",
                "bracketed with a port",
            ),
            (
                "::ffff:10.42.0.7",
                &[b"::ffff:198.51.100.1"],
                "198.51.100.1",
                "IPv4-mapped addresses",
            ),
            (
                "::ffff:203.0.113.9",
                &[b"198.51.100.1"],
                "203.0.113.9",
                "an IPv4-mapped untrusted peer",
            ),
            // Garbage on the way falls back to the peer; left of the
            // client it is never read.
            ("10.42.0.7", &[b"not-an-address"], "10.42.0.7", "garbage"),
            (
                "10.42.0.7",
                &[b"198.51.100.1, 10.42.3.4:99999"],
                "10.42.0.7",
                "a bad port",
            ),
            (
                "10.42.0.7",
                &[b"198.51.100.1, [2001:db8::1"],
                "10.42.0.7",
                "an open bracket",
            ),
            ("10.42.0.7", &[b"fe80::1%eth0"], "10.42.0.7", "a zone"),
            (
                "10.42.0.7",
                &[b"\xff\xfe, 198.51.100.1"],
                "10.42.0.7",
                "not text",
            ),
            (
                "10.42.0.7",
                &[b"garbage, 198.51.100.1"],
                "198.51.100.1",
                "garbage left of the client",
            ),
        ];
        for (peer, lines, expected, case) in table {
            assert_eq!(
                resolved(peer, Xff, lines),
                expected.parse::<IpAddr>().unwrap(),
                "{case}"
            );
        }
    }

    #[test]
    fn forwarded_is_read_per_rfc_7239() {
        use ClientAddressHeader::Forwarded as Fwd;
        let table: &[(&str, &[&[u8]], &str, &str)] = &[
            (
                "203.0.113.9",
                &[b"for=198.51.100.1"],
                "203.0.113.9",
                "untrusted peer",
            ),
            (
                "10.42.0.7",
                &[b"for=198.51.100.1;proto=https;by=10.42.0.7"],
                "198.51.100.1",
                "one element",
            ),
            (
                "10.42.0.7",
                &[b"For=\"198.51.100.1\""],
                "198.51.100.1",
                "quoted, any case",
            ),
            (
                "10.42.0.7",
                &[b"for=\"[2001:db8::1]:4711\""],
                "2001:db8::1",
                "quoted IPv6 with a port",
            ),
            (
                "10.42.0.7",
                &[b"for=\"[2001:db8::1]\", for=10.42.3.4"],
                "2001:db8::1",
                "IPv6 through a proxy",
            ),
            (
                "10.42.0.7",
                &[b"for=6.6.6.6, for=198.51.100.1;proto=http, for=10.42.3.4"],
                "198.51.100.1",
                "a chain",
            ),
            (
                "10.42.0.7",
                &[b"for=6.6.6.6", b"for=198.51.100.1"],
                "198.51.100.1",
                "several lines",
            ),
            (
                "10.42.0.7",
                &[b"for=\"198.51.100.1:_port\""],
                "198.51.100.1",
                "an obfuscated port",
            ),
            (
                "10.42.0.7",
                &[b"for=6.6.6.6, for=_hidden, for=10.42.3.4"],
                "10.42.3.4",
                "an obfuscated node",
            ),
            (
                "10.42.0.7",
                &[b"for=6.6.6.6, for=unknown"],
                "10.42.0.7",
                "unknown",
            ),
            (
                "10.42.0.7",
                &[b"for=6.6.6.6, proto=https"],
                "10.42.0.7",
                "an element without for",
            ),
            (
                "10.42.0.7",
                &[b"for=6.6.6.6;x=\"a,b;c\", for=198.51.100.1"],
                "198.51.100.1",
                "separators inside quotes",
            ),
            (
                "10.42.0.7",
                &[b"for=\"198.51.100.1"],
                "10.42.0.7",
                "a quote left open",
            ),
            (
                "10.42.0.7",
                &[b"for=[2001:db8::1]"],
                "10.42.0.7",
                "brackets unquoted",
            ),
            (
                "10.42.0.7",
                &[b"for=198.51.100.1;for=6.6.6.6"],
                "10.42.0.7",
                "for twice",
            ),
            ("10.42.0.7", &[b"198.51.100.1"], "10.42.0.7", "not a pair"),
            ("10.42.0.7", &[b"for=bogus"], "10.42.0.7", "garbage"),
        ];
        for (peer, lines, expected, case) in table {
            assert_eq!(
                resolved(peer, Fwd, lines),
                expected.parse::<IpAddr>().unwrap(),
                "{case}"
            );
        }
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let mut headers = HeaderMap::new();
        headers.insert("forwarded", HeaderValue::from_static("for=6.6.6.6"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.1"));
        let peer: IpAddr = "10.42.0.7".parse().unwrap();
        let xff = trusted(ClientAddressHeader::XForwardedFor);
        assert_eq!(
            client_address(peer, &headers, &xff),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        let fwd = trusted(ClientAddressHeader::Forwarded);
        assert_eq!(
            client_address(peer, &headers, &fwd),
            "6.6.6.6".parse::<IpAddr>().unwrap()
        );
        let none = TrustedProxies::default();
        assert_eq!(client_address(peer, &headers, &none), peer);
    }
}
