//! Which site the console is, and which requests come from it.
//!
//! The site is `[console] public_url` when set; else (the sandbox) the
//! address the gateway listens on, never a request's `Host`, which anyone
//! may write: the sign-in's discovery, redirect URI and the sandbox
//! provider's endpoints are built from it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::{header, HeaderMap};

/// The origin of the site (`https://passerelle.example`): `public_url`'s,
/// else `http://` and the listen address, a wildcard address read as
/// loopback (the sandbox is reached on the machine it runs on).
pub fn site_origin(public_url: Option<&url::Url>, listen: SocketAddr) -> String {
    if let Some(u) = public_url {
        return u.origin().ascii_serialization();
    }
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

/// Whether a request that changes something may be served: not when a
/// browser says it comes from another site. A browser that sends
/// `Sec-Fetch-Site` is believed (a page cannot set it): `same-origin` or
/// `none` (the person's own doing) may, `cross-site` and `same-site` may
/// not. Else `Origin` decides: `site` may, another origin or `null` may
/// not. A client that sends neither (not a browser) may. (The console's
/// pages send no referrer, so their own forms post with `Origin: null`
/// and `Sec-Fetch-Site: same-origin`.)
///
/// `host_is_site`: the site has no configured address (the sandbox), so
/// the origin the browser used, `http://` and its `Host`, is this site
/// too. A page of another site cannot send its own `Origin` with this
/// gateway's `Host`, and a page whose name merely resolves here (DNS
/// rebinding) holds none of this site's cookies.
pub fn same_site(headers: &HeaderMap, site: &str, host_is_site: bool) -> bool {
    if let Some(fetch_site) = headers.get("sec-fetch-site") {
        return matches!(
            fetch_site.as_bytes().to_ascii_lowercase().as_slice(),
            b"same-origin" | b"none"
        );
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if origin.eq_ignore_ascii_case(site) {
        return true;
    }
    host_is_site
        && headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("http://{host}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_site_is_the_public_address_else_the_listen_address() {
        let public = url::Url::parse("https://passerelle.example/console").unwrap();
        let listen: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        assert_eq!(
            site_origin(Some(&public), listen),
            "https://passerelle.example"
        );
        assert_eq!(site_origin(None, listen), "http://127.0.0.1:4000");
        assert_eq!(
            site_origin(None, "[::]:4000".parse().unwrap()),
            "http://[::1]:4000"
        );
        assert_eq!(
            site_origin(None, "127.0.0.1:5123".parse().unwrap()),
            "http://127.0.0.1:5123"
        );
    }

    #[test]
    fn requests_of_another_site_are_told_apart() {
        let site = "https://passerelle.example";
        // Not a browser, or a browser on this site.
        assert!(same_site(&headers(&[]), site, false));
        assert!(same_site(
            &headers(&[("origin", "https://passerelle.example")]),
            site,
            false
        ));
        assert!(same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            site,
            false
        ));
        assert!(same_site(
            &headers(&[("sec-fetch-site", "none")]),
            site,
            false
        ));
        // A form of this site's pages, which send no referrer.
        assert!(same_site(
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            site,
            false
        ));
        // Another site.
        for refused in [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "http://passerelle.example")]),
            headers(&[("origin", "https://passerelle.example:8443")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[
                ("origin", "https://passerelle.example"),
                ("sec-fetch-site", "same-site"),
            ]),
            headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "something-else")]),
        ] {
            assert!(!same_site(&refused, site, false), "{refused:?}");
        }
        // The sandbox: the Host the browser used is this site.
        let on_localhost = headers(&[
            ("origin", "http://localhost:4000"),
            ("host", "localhost:4000"),
        ]);
        assert!(same_site(&on_localhost, "http://127.0.0.1:4000", true));
        assert!(!same_site(&on_localhost, "http://127.0.0.1:4000", false));
        let elsewhere = headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:4000"),
        ]);
        assert!(!same_site(&elsewhere, "http://127.0.0.1:4000", true));
    }
}
