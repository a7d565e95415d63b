//! An iCalendar document's lines unfolded (RFC 5545, 3.1) as octets, then
//! read as UTF-8 once joined, with the line each began on as written.

use crate::record::PayloadError;

/// An iCalendar document unfolded, and where each of its lines began in
/// the document as written.
#[derive(Debug, Clone)]
pub struct IcalText {
    /// The text, its lines unfolded.
    pub text: String,
    /// For each unfolded line, the number (from 1) of the written line it
    /// began on.
    pub lines: Vec<u32>,
}

/// Unfolds an iCalendar document's lines as octets, then reads it as
/// UTF-8: a fold may fall inside a character (RFC 5545, 3.1), whose
/// octets are valid only once joined.
pub fn ical_decode(bytes: &[u8]) -> Result<IcalText, PayloadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len());
    let mut lines = vec![1];
    let mut written = 1;
    let mut i = 0;
    while i < bytes.len() {
        let fold = match &bytes[i..] {
            [b'\r', b'\n', b' ' | b'\t', ..] => 3,
            [b'\n', b' ' | b'\t', ..] => 2,
            _ => 0,
        };
        if fold == 0 {
            out.push(bytes[i]);
            if bytes[i] == b'\n' {
                written += 1;
                lines.push(written);
            }
            i += 1;
        } else {
            written += 1;
            i += fold;
        }
    }
    let text =
        String::from_utf8(out).map_err(|e| PayloadError::Encoding(format!("not UTF-8: {e}")))?;
    Ok(IcalText { text, lines })
}
