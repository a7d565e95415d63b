//! What an API's answer says beside its records (a count, a cursor, the
//! next page's link), and a value made fit for a URL's path.

/// A count in an answer: a number, or a number written as text.
pub(super) fn count(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// A cursor in an answer: text, or a number.
pub(super) fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The target of a `Link` header's `rel="next"` (RFC 8288).
pub(super) fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let value = value.to_str().ok()?;
        for link in value.split(',') {
            let (target, params) = link.split_once(';').unwrap_or((link, ""));
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let next = params.split(';').any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if next {
                return Some(target.to_owned());
            }
        }
    }
    None
}

/// A value within a URL's path: everything but unreserved characters
/// escaped.
pub(super) fn path_segment(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_read_among_others() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::LINK,
            r#"<https://api.example/o?page=1>; rel="prev", <https://api.example/o?page=3>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.example/o?page=3")
        );
        headers.insert(
            reqwest::header::LINK,
            r#"<https://api.example/o?page=1>; rel="prev""#.parse().unwrap(),
        );
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn a_path_value_is_escaped() {
        assert_eq!(path_segment("OFF 1/2"), "OFF%201%2F2");
    }
}
