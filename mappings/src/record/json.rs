//! JSON payloads read into records: a [`Json`] tree deserialized with its
//! texts borrowed from the payload, and the records found at a JSON
//! pointer.

use super::{Json, PayloadError};

impl<'de> serde::Deserialize<'de> for Json<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(v.to_owned().into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(v.into()))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        serde::Deserialize::deserialize(d)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        // Room for a few from the first: growing from one at a time would
        // allocate three or four times for a record's usual members.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            if items.is_empty() {
                items.reserve(4);
            }
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        // As for arrays.
        let mut members = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            if members.is_empty() {
                members.reserve(8);
            }
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

/// An object's key, borrowed when it has no escapes (serde's `Cow` always
/// copies).
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_str(JsonVisitor)? {
            Json::String(s) => Ok(Key(s)),
            _ => Err(serde::de::Error::custom("a key is a string")),
        }
    }
}

/// The records of a JSON payload: the array at `pointer` (or the payload
/// itself when it is an array and `pointer` is empty), their texts borrowed
/// from `bytes`.
pub fn json_records<'a>(bytes: &'a [u8], pointer: &str) -> Result<Vec<Json<'a>>, PayloadError> {
    json_records_and(bytes, pointer, &[]).map(|(records, _)| records)
}

/// [`json_records`], and the values at `others` (JSON pointers: a count,
/// the next page's cursor) read in the same parse, each `None` where the
/// payload has none.
#[allow(clippy::type_complexity)]
pub fn json_records_and<'a>(
    bytes: &'a [u8],
    pointer: &str,
    others: &[&str],
) -> Result<(Vec<Json<'a>>, Vec<Option<Json<'a>>>), PayloadError> {
    let doc: Json<'a> = serde_json::from_slice(bytes).map_err(|e| PayloadError::Syntax {
        format: "JSON",
        reason: e.to_string(),
    })?;
    let found = others.iter().map(|p| at(&doc, p).cloned()).collect();
    let mut at = Some(doc);
    // A JSON pointer (RFC 6901): `/`-separated keys or indexes, with `~1`
    // for `/` and `~0` for `~`.
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        at = match at {
            Some(Json::Object(members)) => members
                .into_iter()
                .rev()
                .find(|(k, _)| *k == token)
                .map(|(_, v)| v),
            Some(Json::Array(mut items)) => token
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .map(|i| items.swap_remove(i)),
            _ => None,
        };
    }
    match at {
        Some(Json::Array(items)) => Ok((items, found)),
        Some(obj @ Json::Object(_)) if pointer.is_empty() => Ok((vec![obj], found)),
        _ => Err(PayloadError::NoRecords(pointer.to_owned())),
    }
}

/// The value at `pointer` in `doc`.
fn at<'t, 'a>(doc: &'t Json<'a>, pointer: &str) -> Option<&'t Json<'a>> {
    let mut at = doc;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        at = match at {
            Json::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _)| *k == token)
                .map(|(_, v)| v)?,
            Json::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::Value;

    use super::*;
    use crate::record::{select, Tree};

    #[test]
    fn the_borrowed_tree_reads_json_as_serde_json_does() {
        let doc = r#"{"data": [{"a": "plain", "b": "esc\u00e9\"q", "n": 49.1829, "i": -3, "t": true,
            "z": null, "o": {"k": [1, "x", {"d": "deep"}]}, "a": "last"}, {"e": {}}], "p": {"x~/y": [7]}}"#;
        let records = json_records(doc.as_bytes(), "/data").unwrap();
        let serde: Value = serde_json::from_str(doc).unwrap();
        let as_values: Vec<Value> = records.iter().cloned().map(Value::from).collect();
        assert_eq!(Value::Array(as_values), serde["data"]);
        // Texts without escapes are the payload's own bytes.
        assert!(matches!(
            records[0].child("a"),
            Some(Json::String(Cow::Borrowed("last")))
        ));
        assert!(
            matches!(records[0].child("b"), Some(Json::String(Cow::Owned(s))) if s == "esc\u{e9}\"q")
        );
        for path in [
            "a", "b", "n", "i", "t", "z", "o/k", "o/k/d", "o/k/1", "missing",
        ] {
            assert_eq!(
                select(&records[0], path),
                select(&serde["data"][0], path),
                "{path}"
            );
        }
        // JSON pointers with escapes and indexes.
        assert_eq!(json_records(doc.as_bytes(), "/p/x~0~1y").unwrap().len(), 1);
        assert_eq!(
            json_records(doc.as_bytes(), "/missing"),
            Err(PayloadError::NoRecords("/missing".into()))
        );
        assert!(json_records(b"{\"data\": [1,", "/data").is_err());
    }
}
