//! Where a person goes back after signing in: a path of this site, never
//! another site's address however it is spelled.

/// The longest way back kept.
const MAX_BACK: usize = 1024;

/// `path` when it is a path of this site (`/campagne?annee=2026`), else
/// `/`. A path of this site starts with one `/` (not `//` nor `/\`), has
/// no scheme or authority, holds visible ASCII only (what a `Location`
/// header carries: non-ASCII is percent-encoded) and, once
/// percent-decoded, no whitespace, control character or backslash, and
/// no `//` at its start. Browsers drop tabs and newlines from an address
/// and read `\` as `/`, so `/\t/evil.example` would lead to
/// `//evil.example`.
pub fn local_path(path: Option<&str>) -> String {
    match path {
        Some(p) if is_local(p) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local(p: &str) -> bool {
    if p.len() > MAX_BACK || !p.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let decoded = percent_decode(p);
    let decoded = String::from_utf8_lossy(&decoded);
    if decoded
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\' || c == '\u{fffd}')
    {
        return false;
    }
    for text in [p, &*decoded] {
        let mut chars = text.chars();
        if chars.next() != Some('/') || matches!(chars.next(), Some('/' | '\\')) {
            return false;
        }
    }
    // Read as a browser reads it, it stays on this site.
    let here = url::Url::parse("http://this.site.invalid/").expect("a URL");
    here.join(p)
        .is_ok_and(|u| u.origin() == here.origin() && u.username().is_empty())
}

/// The bytes `%XX` sequences stand for; a `%` not followed by two hex
/// digits is kept as it is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn going_back_stays_on_this_site() {
        for here in [
            "/",
            "/campagne?annee=2026",
            "/offres?niveau=communes#carte",
            "/secteur-public",
            "/offres?q=caf%C3%A9",
            "/a/b//c",
        ] {
            assert_eq!(local_path(Some(here)), here);
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn another_site_however_spelled_goes_back_home() {
        let too_long = format!("/{}", "a".repeat(MAX_BACK));
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "campagne",
            "",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r/x",
            "/\0/x",
            "/\u{7f}/x",
            " /x",
            "/x y",
            "/%09/evil.example/",
            "/%0A/x",
            "/%0d/x",
            "/%00/x",
            "/%7F/x",
            "/%2F/evil.example",
            "/%2f/evil.example",
            "/%5C/evil.example",
            "/%5cevil.example",
            "/campagne%20x",
            "/caf\u{e9}",
            "/x%FF",
            "/x\u{2028}",
            "javascript:alert(1)",
            too_long.as_str(),
        ] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere:?}");
        }
    }

    #[test]
    fn percent_sequences_are_decoded_once() {
        assert_eq!(percent_decode("/a%2Fb%zz%4"), b"/a/b%zz%4");
        assert_eq!(percent_decode("%252F"), b"%2F");
    }
}
