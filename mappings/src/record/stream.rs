//! XML records read from a stream as it comes, so that a feed of a hundred
//! thousand records is never held whole, as bytes or as text.
//!
//! The document is decoded a block at a time into a window of text. The
//! records whole in the window are read as [`super::xml_records`] reads
//! them, borrowing from it; what follows the last of them waits for the next
//! block. The elements open around the records (the feed's root) are
//! tracked across windows, so that their end tags are checked as in a whole
//! document.

use std::io::{ErrorKind, Read};

use quick_xml::errors::IllFormedError;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::xml::{attributes, local, not_in, read_element, syntax_at, xml_encoding, xml_error};
use super::{Json, PayloadError};

/// Bytes read from the input at a time.
const BLOCK: usize = 64 * 1024;

/// Bytes the character set is read from, as [`super::decode_xml`] does.
const HEAD: usize = 200;

/// The most text read past the last whole record before a syntax error in it
/// is taken as the document's, not as a record cut by the end of the window.
const MAX_PENDING: usize = 16 * 1024 * 1024;

/// Reads the records of the XML document `input` gives as it comes, handing
/// each to `f` as [`super::xml_each`] does: every element whose local name is
/// `record`, in the character set the declaration names (UTF-8 when it names
/// none). At most a block and one record of text are held at a time.
///
/// Returns the error that ended the reading, if any: a syntax error ends it
/// after the records before it; a document whose root is not closed is
/// truncated; bytes not in the character set end it where they are. Fails
/// only when `input` does.
pub fn xml_read_each<R: Read>(
    input: R,
    record: &str,
    f: impl FnMut(Json<'_>),
) -> std::io::Result<Option<PayloadError>> {
    read_each(input, record, f, BLOCK)
}

/// [`xml_read_each`], reading `block` bytes at a time.
fn read_each<R: Read>(
    input: R,
    record: &str,
    mut f: impl FnMut(Json<'_>),
    block: usize,
) -> std::io::Result<Option<PayloadError>> {
    let mut text = Decoded::new(input, block);
    if let Err(e) = text.fill(block)? {
        return Ok(Some(e));
    }
    // The names of the elements open around the reading point.
    let mut open: Vec<Vec<u8>> = Vec::new();
    loop {
        let offset = text.offset;
        let window = text.text.as_str();
        let mut reader = Reader::from_str(window);
        reader.config_mut().trim_text(false);
        // An end tag whose start was in an earlier window is checked
        // against `open` instead.
        reader.config_mut().allow_unmatched_ends = true;
        // Where the last whole event ends.
        let mut read = 0;
        let stop = loop {
            match reader.read_event() {
                Ok(Event::Start(e)) if local(e.name().as_ref()) == record.as_bytes() => {
                    match read_element(window, &mut reader, &e, offset) {
                        Ok(v) => f(v),
                        Err(err) => break Some(err),
                    }
                }
                Ok(Event::Empty(e)) if local(e.name().as_ref()) == record.as_bytes() => {
                    match attributes(window, &e) {
                        Ok(members) => f(Json::Object(members)),
                        Err(err) => break Some(err),
                    }
                }
                Ok(Event::Start(e)) => open.push(e.name().as_ref().to_vec()),
                Ok(Event::End(e)) => {
                    // Where quick-xml puts its own end-tag errors.
                    let at = offset + reader.buffer_position();
                    match open.last() {
                        Some(name) if name == e.name().as_ref() => {
                            open.pop();
                        }
                        expected => {
                            let found = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                            let ill = match expected {
                                Some(name) => IllFormedError::MismatchedEndTag {
                                    expected: String::from_utf8_lossy(name).into_owned(),
                                    found,
                                },
                                None => IllFormedError::UnmatchedEndTag(found),
                            };
                            break Some(syntax_at(at, ill.into()));
                        }
                    }
                }
                Ok(Event::Eof) => break None,
                Ok(_) => {}
                Err(e) => break Some(xml_error(&reader, offset, e)),
            }
            read = reader.buffer_position() as usize;
        };
        let pending = window.len() - read;
        if text.done {
            return Ok(stop.or_else(|| {
                open.last().map(|name| {
                    let name = String::from_utf8_lossy(name).into_owned();
                    syntax_at(
                        offset + read as u64,
                        IllFormedError::MissingEndTag(name).into(),
                    )
                })
            }));
        }
        if stop.is_some() && pending > MAX_PENDING {
            return Ok(stop);
        }
        // What stopped the reading may be the window's end: read on from
        // the last whole event, with at least as much text again.
        text.consume(read);
        if let Err(e) = text.fill(pending.max(block))? {
            return Ok(Some(e));
        }
    }
}

/// The text of a document being read: what is left of it after the last
/// whole event, decoded as it comes.
struct Decoded<R> {
    input: R,
    block: Vec<u8>,
    /// Bytes read before the character set is known.
    head: Vec<u8>,
    decoder: Option<encoding_rs::Decoder>,
    /// The text read and not consumed yet.
    text: String,
    /// Where `text` begins in the document's text.
    offset: u64,
    /// Whether the input is at its end, and decoded.
    done: bool,
}

impl<R: Read> Decoded<R> {
    fn new(input: R, block: usize) -> Self {
        Self {
            input,
            block: vec![0; block],
            head: Vec::new(),
            decoder: None,
            text: String::new(),
            offset: 0,
            done: false,
        }
    }

    /// Drops the first `n` bytes of the text.
    fn consume(&mut self, n: usize) {
        self.text.drain(..n);
        self.offset += n as u64;
    }

    /// Reads until `more` bytes of text were added, or to the end.
    fn fill(&mut self, more: usize) -> std::io::Result<Result<(), PayloadError>> {
        let target = self.text.len() + more;
        while !self.done && self.text.len() < target {
            let n = match self.input.read(&mut self.block) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let last = n == 0;
            let decoded = match &mut self.decoder {
                Some(decoder) => decode(decoder, &mut self.text, &self.block[..n], last),
                None => {
                    self.head.extend_from_slice(&self.block[..n]);
                    if self.head.len() < HEAD && !last {
                        continue;
                    }
                    let encoding = match xml_encoding(&self.head) {
                        Ok(e) => e,
                        Err(e) => return Ok(Err(e)),
                    };
                    // With a byte order mark read as `Encoding::decode` does.
                    let decoder = self.decoder.insert(encoding.new_decoder());
                    let head = std::mem::take(&mut self.head);
                    decode(decoder, &mut self.text, &head, last)
                }
            };
            if let Err(e) = decoded {
                return Ok(Err(e));
            }
            self.done = last;
        }
        Ok(Ok(()))
    }
}

/// Decodes `bytes` onto the end of `text`.
fn decode(
    decoder: &mut encoding_rs::Decoder,
    text: &mut String,
    mut bytes: &[u8],
    last: bool,
) -> Result<(), PayloadError> {
    loop {
        let room = decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len().saturating_mul(3));
        text.reserve(room);
        let (result, read) = decoder.decode_to_string_without_replacement(bytes, text, last);
        bytes = &bytes[read..];
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok(()),
            encoding_rs::DecoderResult::OutputFull => {}
            encoding_rs::DecoderResult::Malformed(..) => return Err(not_in(decoder.encoding())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{decode_xml, xml_records};
    use serde_json::Value;

    /// Gives its bytes `step` at a time, as a network stream does.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// The records of `bytes` read `step` bytes at a time, in blocks of
    /// `block`.
    fn streamed_in(bytes: &[u8], step: usize, block: usize) -> (Vec<Value>, Option<PayloadError>) {
        let mut records = Vec::new();
        let err = read_each(
            Trickle { bytes, step },
            "o",
            |r| records.push(Value::from(r)),
            block,
        )
        .unwrap();
        (records, err)
    }

    fn streamed(bytes: &[u8], step: usize) -> (Vec<Value>, Option<PayloadError>) {
        streamed_in(bytes, step, BLOCK)
    }

    fn whole(bytes: &[u8]) -> (Vec<Value>, Option<PayloadError>) {
        let text = decode_xml(bytes).unwrap();
        let (records, err) = xml_records(&text, "o");
        (records.into_iter().map(Value::from).collect(), err)
    }

    /// A feed of `n` records in ISO-8859-1, a few thousand bytes each.
    fn latin1_feed(n: usize) -> Vec<u8> {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<n:f xmlns:n=\"urn:x\">\n",
        );
        for i in 0..n {
            xml.push_str(&format!(
                "  <n:o id=\"{i}\"><n:t>Pâtissier &amp; crêpier n°{i}</n:t><n:d><![CDATA[{}]]></n:d><n:m rome=\"D1102\"/><n:m rome=\"D1104\">Boulangère</n:m></n:o>\n",
                "é".repeat(i % 3000)
            ));
        }
        xml.push_str("</n:f>\n");
        encoding_rs::WINDOWS_1252.encode(&xml).0.into_owned()
    }

    #[test]
    fn a_feed_read_a_few_bytes_at_a_time_gives_the_records_read_whole() {
        let feed = latin1_feed(200);
        let expected = whole(&feed);
        assert_eq!(expected.0.len(), 200);
        assert!(expected.1.is_none());
        for step in [1, 7, 4096, 70_000, usize::MAX] {
            assert_eq!(streamed(&feed, step), expected, "{step} bytes at a time");
        }
        for block in [1, 13, 500] {
            assert_eq!(streamed_in(&feed, 64, block), expected, "blocks of {block}");
        }
    }

    #[test]
    fn a_feed_cut_anywhere_keeps_the_records_before_the_cut_and_says_so() {
        let feed = latin1_feed(40);
        let (all, _) = whole(&feed);
        // Between two records, the root is left open: truncated all the same.
        let between = feed.len() - "</n:f>\n".len();
        for cut in [
            30,
            80,
            feed.len() / 3,
            feed.len() / 2,
            between,
            feed.len() - 3,
        ] {
            let (records, err) = streamed_in(&feed[..cut], 501, 97);
            assert!(err.is_some(), "cut at {cut}");
            assert_eq!(records, all[..records.len()], "cut at {cut}");
        }
        assert_eq!(streamed_in(&feed[..between], 501, 97).0.len(), all.len());
    }

    #[test]
    fn syntax_errors_end_the_reading_where_a_whole_document_does() {
        let docs = [
            "<f><o id=\"1\"/><o id=\"2\"><t>x</f>",
            "<f><o id=\"1\"><t>x</u></o><o id=\"2\"/></f>",
            "<f><o id=\"1\"/></g><o id=\"2\"/></f>",
            "<f><o id=\"1\">a &bogus; b</o><o id=\"2\"/></f>",
        ];
        for doc in docs {
            let (expected, expected_err) = whole(doc.as_bytes());
            assert!(expected_err.is_some(), "{doc}");
            for block in [2, 5, 11, 1000] {
                let (records, err) = streamed_in(doc.as_bytes(), 3, block);
                assert_eq!(records, expected, "{doc} in blocks of {block}");
                assert!(err.is_some(), "{doc} in blocks of {block}");
            }
        }
        // Positions are the document's, as when it is read whole.
        let doc = "<f><o id=\"1\"/><o id=\"2\"><t>x</u></o></f>";
        for block in [2, 5, 11, 1000] {
            assert_eq!(
                streamed_in(doc.as_bytes(), 2, block).1,
                whole(doc.as_bytes()).1
            );
        }
    }

    #[test]
    fn bytes_outside_the_character_set_end_the_reading() {
        let doc =
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><f><o id=\"1\"/>\xE9<o id=\"2\"/></f>";
        let (_, err) = streamed(doc, 5);
        assert!(matches!(err, Some(PayloadError::Encoding(_))), "{err:?}");
    }

    #[test]
    fn a_failing_input_fails_the_reading() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("connection reset"))
            }
        }
        assert!(xml_read_each(Broken, "o", |_| {}).is_err());
    }
}
