//! XML payloads read into records: the document decoded in the character
//! set it declares, and every element of a given local name read as a
//! [`Json`] object, its names and texts borrowed from the document where
//! they have no entities. The pieces the stream reader
//! (`record::stream`) shares with the whole-document one are here too.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::tree::{insert_child, Members};
use super::{Json, PayloadError};

/// Decodes an XML document to text in the character set its declaration
/// names (UTF-8 when it names none), as real feeds in ISO-8859-1 need.
pub fn decode_xml(bytes: &[u8]) -> Result<String, PayloadError> {
    let encoding = xml_encoding(bytes)?;
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(not_in(encoding));
    }
    Ok(text.into_owned())
}

/// [`decode_xml`], consuming the bytes: a UTF-8 document becomes its text
/// without a copy, another is freed once decoded, so that a large feed is
/// not held twice while its records are read.
pub fn decode_xml_owned(bytes: Vec<u8>) -> Result<String, PayloadError> {
    let encoding = xml_encoding(&bytes)?;
    // A byte order mark names the character set, as `decode` reads it.
    let bom = encoding_rs::Encoding::for_bom(&bytes);
    if encoding == encoding_rs::UTF_8 && bom.is_none_or(|(e, _)| e == encoding_rs::UTF_8) {
        let mut bytes = bytes;
        bytes.drain(..bom.map_or(0, |(_, len)| len));
        return String::from_utf8(bytes).map_err(|_| not_in(encoding));
    }
    decode_xml(&bytes)
}

/// The character set an XML document declares (UTF-8 when it declares
/// none).
pub(super) fn xml_encoding(bytes: &[u8]) -> Result<&'static encoding_rs::Encoding, PayloadError> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let label = head
        .find("encoding=")
        .and_then(|i| {
            let rest = &head[i + 9..];
            let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
            let rest = &rest[1..];
            rest.find(quote).map(|end| rest[..end].to_owned())
        })
        .unwrap_or_else(|| "utf-8".to_owned());
    encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| PayloadError::Encoding(format!("unknown character set {label:?}")))
}

pub(super) fn not_in(encoding: &'static encoding_rs::Encoding) -> PayloadError {
    PayloadError::Encoding(format!("bytes that are not {}", encoding.name()))
}

/// The records of an XML document: every element whose local name is
/// `record`, wherever it is, as a JSON value (see [`crate::record`]) whose
/// texts are borrowed from `text` where they have no entities.
///
/// A syntax error ends the reading: the records read before it are returned
/// with the error, so a sync can tell a truncated feed from a complete one.
pub fn xml_records<'a>(text: &'a str, record: &str) -> (Vec<Json<'a>>, Option<PayloadError>) {
    let mut records = Vec::new();
    let err = xml_each(text, record, |v| records.push(v));
    (records, err)
}

/// Like [`xml_records`], handing each record to `f` as it is read, so that
/// a large feed is never held whole as records; the error that stopped the
/// reading, if any.
pub fn xml_each<'a>(
    text: &'a str,
    record: &str,
    mut f: impl FnMut(Json<'a>),
) -> Option<PayloadError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if local(e.name().as_ref()) == record.as_bytes() => {
                match read_element(text, &mut reader, &e, 0) {
                    Ok(v) => f(v),
                    Err(err) => return Some(err),
                }
            }
            Ok(Event::Empty(e)) if local(e.name().as_ref()) == record.as_bytes() => {
                match attributes(text, &e) {
                    Ok(members) => f(Json::Object(members)),
                    Err(err) => return Some(err),
                }
            }
            Ok(Event::Eof) => return None,
            Ok(_) => {}
            Err(e) => return Some(xml_error(&reader, 0, e)),
        }
    }
}

/// A syntax error where `reader` stopped; `offset` is where the text it
/// reads begins in the document.
pub(super) fn xml_error(reader: &Reader<&[u8]>, offset: u64, e: quick_xml::Error) -> PayloadError {
    syntax_at(offset + reader.buffer_position(), e)
}

pub(super) fn syntax_at(position: u64, e: quick_xml::Error) -> PayloadError {
    PayloadError::Syntax {
        format: "XML",
        reason: format!("at byte {position}: {e}"),
    }
}

pub(super) fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// `part` as a slice of `doc` when it is one (the reader lends what it
/// reads from the document), so that it lives as long as the document.
fn within<'a>(doc: &'a str, part: &str) -> Cow<'a, str> {
    let start = (part.as_ptr() as usize).wrapping_sub(doc.as_ptr() as usize);
    match doc.get(start..start.saturating_add(part.len())) {
        Some(s) if std::ptr::eq(s.as_ptr(), part.as_ptr()) => Cow::Borrowed(s),
        _ => Cow::Owned(part.to_owned()),
    }
}

/// An element's local name.
fn local_name<'a>(doc: &'a str, e: &quick_xml::events::BytesStart<'_>) -> Cow<'a, str> {
    match String::from_utf8_lossy(local(e.name().as_ref())) {
        Cow::Borrowed(name) => within(doc, name),
        Cow::Owned(name) => Cow::Owned(name),
    }
}

pub(super) fn attributes<'a>(
    doc: &'a str,
    e: &quick_xml::events::BytesStart<'_>,
) -> Result<Members<'a>, PayloadError> {
    let syntax = |reason: String| PayloadError::Syntax {
        format: "XML",
        reason,
    };
    let mut members = Members::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| syntax(err.to_string()))?;
        let key = attr.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let value = attr
            .unescape_value()
            .map_err(|err| syntax(err.to_string()))?;
        let name = format!("@{}", String::from_utf8_lossy(local(key)));
        // The last of repeated attributes is read, as for keys.
        let value = match value {
            Cow::Borrowed(v) => within(doc, v),
            Cow::Owned(v) => Cow::Owned(v),
        };
        members.push((name.into(), Json::String(value)));
    }
    Ok(members)
}

/// Reads the element `start` opened, up to its end; `offset` is where
/// `doc` begins in the document, for the positions of errors.
pub(super) fn read_element<'a>(
    doc: &'a str,
    reader: &mut Reader<&'a [u8]>,
    start: &quick_xml::events::BytesStart<'a>,
    offset: u64,
) -> Result<Json<'a>, PayloadError> {
    let mut members = attributes(doc, start)?;
    let mut text: Option<Cow<'a, str>> = None;
    let mut add_text = |t: Cow<'a, str>| match &mut text {
        None => text = Some(t),
        Some(so_far) => so_far.to_mut().push_str(&t),
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let child = read_element(doc, reader, &e, offset)?;
                insert_child(&mut members, local_name(doc, &e), child);
            }
            Ok(Event::Empty(e)) => {
                let attrs = attributes(doc, &e)?;
                let child = if attrs.is_empty() {
                    Json::String(Cow::Borrowed(""))
                } else {
                    Json::Object(attrs)
                };
                insert_child(&mut members, local_name(doc, &e), child);
            }
            Ok(Event::Text(t)) => add_text(t.unescape().map_err(|err| PayloadError::Syntax {
                format: "XML",
                reason: err.to_string(),
            })?),
            Ok(Event::CData(t)) => add_text(match t.into_inner() {
                Cow::Borrowed(b) => String::from_utf8_lossy(b),
                Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
            }),
            Ok(Event::End(_)) => break,
            Ok(Event::Eof) => {
                return Err(PayloadError::Syntax {
                    format: "XML",
                    reason: "document ends inside a record".into(),
                })
            }
            Ok(_) => {}
            Err(e) => return Err(xml_error(reader, offset, e)),
        }
    }
    let text = text.unwrap_or_default();
    if members.is_empty() {
        return Ok(Json::String(text));
    }
    if !text.trim().is_empty() {
        members.push(("#text".into(), Json::String(text)));
    }
    Ok(Json::Object(members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{select, Tree};

    /// Found by the `cma_xml` and `cnfpt_soap` fuzz targets: a declaration
    /// whose `encoding=` is followed by a character longer than a byte
    /// (or by bytes that are not UTF-8) panicked on a char boundary.
    #[test]
    fn a_declaration_with_a_strange_encoding_is_an_error_not_a_panic() {
        let cases: [&[u8]; 4] = [
            b"<comp= =encoding=\xe0\xc2\xdd\x8a\x8d\x93\x92\x0018\"/><",
            "<?xml version=\"1.0\" encoding=\u{7b6}utf-8\u{7b6}?><a/>".as_bytes(),
            b"<?xml version=\"1.0\" encoding=\"\xde\xb6\xac\"?><a/>",
            b"<?xml version=\"1.0\" encoding=utf-8?><a/>",
        ];
        for bytes in cases {
            let _ = decode_xml(bytes);
        }
        assert!(decode_xml(b"<?xml version=\"1.0\" encoding=\"\xde\xb6\xac\"?><a/>").is_err());
    }

    #[test]
    fn xml_records_borrow_names_and_texts_from_the_document() {
        let doc = r#"<f><o id="1" k="a &amp; b"><t>plain</t><u>x &lt; y</u></o></f>"#;
        let (records, err) = xml_records(doc, "o");
        assert!(err.is_none());
        let Json::Object(members) = &records[0] else {
            panic!("an object")
        };
        let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
        assert!(members
            .iter()
            .filter(|(k, _)| !k.starts_with('@'))
            .all(|(k, _)| borrowed(k)));
        assert!(matches!(records[0].child("@id"), Some(Json::String(c)) if borrowed(c)));
        assert!(matches!(records[0].child("t"), Some(Json::String(c)) if borrowed(c)));
        assert_eq!(select(&records[0], "u"), ["x < y"]);
        assert_eq!(select(&records[0], "@k"), ["a & b"]);
        // A text that is not a slice of the document is copied.
        assert!(matches!(within(doc, "plain"), Cow::Owned(_)));
    }

    #[test]
    fn latin1_feeds_are_decoded() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><f><r>".to_vec();
        bytes.extend([0x43, 0x72, 0xE9, 0x70, 0x65]); // "Crêpe" has ê = 0xEA; é = 0xE9
        bytes.extend(b"</r></f>");
        let text = decode_xml(&bytes).unwrap();
        assert!(text.contains("Crépe"), "{text}");
    }

    #[test]
    fn owned_feeds_decode_as_borrowed_ones_do() {
        let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><f><r>".to_vec();
        latin1.extend([0x43, 0x72, 0xE9, 0x70, 0x65]);
        latin1.extend(b"</r></f>");
        let utf8 = "<?xml version=\"1.0\"?><f><r>Crépe</r></f>"
            .as_bytes()
            .to_vec();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(&utf8);
        let broken = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><f>\xE9</f>".to_vec();
        for doc in [latin1, utf8, bom, broken] {
            assert_eq!(decode_xml_owned(doc.clone()), decode_xml(&doc));
        }
    }

    #[test]
    fn xml_elements_become_records_with_attributes_and_repeats() {
        let doc = r#"<n:f xmlns:n="urn:x"><n:o id="1"><n:m rome="D1102">Boulanger</n:m><n:m rome="D1104"/><n:t>a &amp; b</n:t></n:o><n:o id="2"/></n:f>"#;
        let (records, err) = xml_records(doc, "o");
        assert!(err.is_none());
        assert_eq!(records.len(), 2);
        assert_eq!(select(&records[0], "m/@rome"), vec!["D1102", "D1104"]);
        assert_eq!(select(&records[0], "m"), vec!["Boulanger"]);
        assert_eq!(select(&records[0], "t"), vec!["a & b"]);
        assert_eq!(select(&records[1], "@id"), vec!["2"]);
    }

    #[test]
    fn truncated_xml_keeps_the_records_before_the_break() {
        let (records, err) = xml_records("<f><o id=\"1\"/><o id=\"2\"><t>x</f>", "o");
        assert_eq!(records.len(), 1);
        assert!(err.is_some());
    }
}
