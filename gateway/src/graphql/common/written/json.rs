//! An answer's values as JSON bytes, the same bytes `serde_json` writes
//! for them, except that a [`Value::Binary`] is JSON already written (a
//! page answered by the writer), copied as it is.

use async_graphql::Value;

/// Writes `v` as JSON. Writing strings, numbers and booleans into a vector
/// cannot fail.
pub fn put<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Writes a JSON string. Most strings of an answer (identifiers, titles,
/// names) need no escape: they are copied whole once a pass over them, in
/// blocks the compiler can check several bytes at a time, finds nothing
/// to escape; the others are escaped by `serde_json`.
pub fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        put(out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Whether a byte of `bytes` is one JSON escapes: a quote, a backslash, a
/// control character.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut blocks = bytes.chunks_exact(16);
    for block in blocks.by_ref() {
        // No early exit inside a block: the comparisons vectorize.
        if block.iter().fold(false, |any, &b| any | escaped(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| escaped(b))
}

/// About how many bytes `v` takes as JSON: exactly for written pages,
/// roughly for the rest (to size the answer's buffer once).
pub fn size_hint(v: &Value) -> usize {
    match v {
        Value::Binary(written) => written.len(),
        Value::String(s) => s.len() + 2,
        Value::List(items) => items.iter().map(size_hint).sum::<usize>() + items.len() + 2,
        Value::Object(map) => {
            map.iter()
                .map(|(k, v)| k.len() + 4 + size_hint(v))
                .sum::<usize>()
                + 2
        }
        _ => 8,
    }
}

/// Writes a value of an answer.
pub fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Number(n) => put(out, n),
        Value::String(s) => string(out, s),
        Value::Boolean(b) => put(out, b),
        Value::Binary(written) => out.extend_from_slice(written),
        Value::Enum(name) => string(out, name),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, k);
                out.push(b':');
                value(out, item);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_serde_json_writes_them() {
        let v = Value::from_json(serde_json::json!({
            "s": "a \"quoted\"\n\u{1}é", "n": [1, -2, 2.5, 1e300], "b": true, "z": null,
            "o": { "k": [] }
        }))
        .unwrap();
        let mut out = Vec::new();
        value(&mut out, &v);
        assert_eq!(out, serde_json::to_vec(&v).unwrap());
        let e = Value::Enum(async_graphql::Name::new("OPEN_DAY"));
        let mut out = Vec::new();
        value(&mut out, &e);
        assert_eq!(out, br#""OPEN_DAY""#);
    }

    #[test]
    fn strings_read_as_serde_json_writes_them_whatever_their_length() {
        for special in ["", "\"", "\\", "\n", "\u{1f}", "\u{7f}", "é", "€"] {
            for len in [0, 1, 15, 16, 17, 31, 40] {
                for at in [0, len / 2, len] {
                    let mut s = "a".repeat(len);
                    s.insert_str(at, special);
                    let mut out = Vec::new();
                    string(&mut out, &s);
                    assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn written_json_is_copied_as_it_is() {
        let mut out = Vec::new();
        value(
            &mut out,
            &Value::List(vec![Value::Binary(br#"{"a":1}"#.to_vec().into())]),
        );
        assert_eq!(out, br#"[{"a":1}]"#);
    }
}
