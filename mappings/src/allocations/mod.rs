//! The files OPCOs upload to Passerelle: CSV (semicolon or comma, with a header row) and
//! XML. Both are read as a stream, a record at a time, so that an upload of
//! any size is never held in memory whole.
//!
//! CSV columns, in any order, named in English or French, case, `_` and
//! `-` aside: `reference`, `employer_siret` (`siret`), `employer_commune`
//! (`commune`, `code_insee`), `establishment_uai` (`uai`), `amount`
//! (`montant`), `allocated_at` (`date`).
//!
//! XML:
//!
//! ```xml
//! <allocations campaign="2026">
//!   <allocation>
//!     <reference>AKTO-2026-000001</reference>
//!     <employerSiret>73282932000074</employerSiret>
//!     <employerCommune>14118</employerCommune>
//!     <establishmentUai>0141687H</establishmentUai>
//!     <amount>1234.50</amount>
//!     <allocatedAt>2026-06-02T09:30:00+02:00</allocatedAt>
//!   </allocation>
//! </allocations>
//! ```

use std::io::BufRead;

use passerelle_schema::{AllocationInput, Rejection};
use quick_xml::events::Event;

/// Why a whole upload cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The content type is neither CSV nor XML.
    #[error("uploads are text/csv or application/xml, not {0}")]
    UnsupportedType(String),
    /// The CSV header lacks a column.
    #[error("the CSV header has no {0} column")]
    MissingColumn(&'static str),
    /// The CSV header names a column twice, in one language or two: which
    /// one holds the value would be a guess.
    #[error(
        "the CSV header has two {field} columns: {first:?} (column {first_at}) and {second:?} (column {second_at})"
    )]
    DuplicateColumn {
        /// The field both name.
        field: &'static str,
        /// The first as written.
        first: String,
        /// Its position, from 1.
        first_at: usize,
        /// The second as written.
        second: String,
        /// Its position, from 1.
        second_at: usize,
    },
    /// The XML is not well-formed, or not an `<allocations>` document.
    #[error("the XML document is malformed at byte {position}: {reason}")]
    Xml {
        /// Where.
        position: u64,
        /// Why.
        reason: String,
    },
    /// A CSV line cannot be read at all (too long): the upload is refused,
    /// naming the line.
    #[error("the CSV upload is malformed at line {line}: {reason}")]
    Csv {
        /// The line, from 1.
        line: u64,
        /// Why.
        reason: String,
    },
    /// The upload could not be read (cut short, too large).
    #[error("the upload could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// An item of an upload: a record, or a record that could not be read.
#[derive(Debug)]
pub struct Item {
    /// The record's position in its upload, from 0.
    pub index: u64,
    /// Its line in a CSV upload, from 1.
    pub line: Option<u64>,
    /// The record, or why it could not be read.
    pub record: Result<AllocationInput, Rejection>,
}

/// The formats of uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// The `<allocations>` XML document.
    Xml,
}

impl Format {
    /// The format of a media type (`text/csv; charset=utf-8`…).
    pub fn from_content_type(content_type: &str) -> Result<Self, FormatError> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Ok(Self::Csv),
            "application/xml" | "text/xml" => Ok(Self::Xml),
            _ => Err(FormatError::UnsupportedType(content_type.to_owned())),
        }
    }

    /// The format of a file, by its extension.
    pub fn from_path(path: &std::path::Path) -> Result<Self, FormatError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "csv" => Ok(Self::Csv),
            Some(e) if e == "xml" => Ok(Self::Xml),
            _ => Err(FormatError::UnsupportedType(path.display().to_string())),
        }
    }
}

/// Reads the records of an upload one at a time.
pub enum Records<R: BufRead> {
    /// A CSV upload (boxed: the CSV parser's tables are large).
    Csv(Box<CsvRecords<R>>),
    /// An XML upload.
    Xml(XmlRecords<R>),
}

impl<R: BufRead> Records<R> {
    /// Starts reading `input` in `format`: reads the CSV header, or the
    /// XML document up to its root element.
    pub fn new(format: Format, input: R) -> Result<Self, FormatError> {
        Ok(match format {
            Format::Csv => Self::Csv(Box::new(CsvRecords::new(input)?)),
            Format::Xml => Self::Xml(XmlRecords::new(input)?),
        })
    }

    /// The campaign the document declares (XML `campaign` attribute).
    pub fn campaign(&self) -> Option<&str> {
        match self {
            Self::Csv(_) => None,
            Self::Xml(x) => x.campaign.as_deref(),
        }
    }

    /// The next record, `None` at the end.
    pub fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        match self {
            Self::Csv(c) => c.next_item(),
            Self::Xml(x) => x.next_item(),
        }
    }

    /// The input, with whatever the records did not read.
    pub fn into_inner(self) -> R {
        match self {
            Self::Csv(c) => c.reader.into_inner(),
            Self::Xml(x) => x.reader.into_inner().into_inner(),
        }
    }
}

/// The fields of an allocation, in the order the CSV columns are mapped.
const FIELDS: [&str; 6] = [
    "reference",
    "employerSiret",
    "employerCommune",
    "establishmentUai",
    "amount",
    "allocatedAt",
];

fn field_of(header: &str) -> Option<usize> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match h.as_str() {
        "reference" | "ref" | "référence" => 0,
        "employersiret" | "siret" | "siretemployeur" => 1,
        "employercommune" | "commune" | "codeinsee" | "communeemployeur" => 2,
        "establishmentuai" | "uai" | "uaietablissement" => 3,
        "amount" | "montant" => 4,
        "allocatedat" | "date" | "dateallocation" => 5,
        _ => return None,
    })
}

fn input_from(values: [String; 6]) -> AllocationInput {
    let [reference, employer_siret, employer_commune, establishment_uai, amount, allocated_at] =
        values;
    AllocationInput {
        employer_siret,
        employer_commune,
        establishment_uai,
        amount,
        allocated_at,
        reference,
    }
}

/// The longest record an upload may hold, in bytes: a CSV line, or an XML
/// `<allocation>` element. An allocation takes a hundred bytes or so; a
/// longer record is refused whole, so that memory stays flat whatever an
/// upload holds.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// A reader that refuses to read more than [`MAX_RECORD_BYTES`] between two
/// marks: what holds the records of an upload to their bound, below the
/// parsers' own buffers.
pub struct Bounded<R> {
    inner: R,
    since_mark: usize,
}

impl<R> Bounded<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            since_mark: 0,
        }
    }

    /// A record begins here.
    fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// The reader wrapped.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// The message of the error [`Bounded`] gives.
const TOO_LONG: &str = "a record is longer than the bound of 64 KiB";

impl<R: BufRead> std::io::Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.since_mark > MAX_RECORD_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TOO_LONG,
            ));
        }
        let room = MAX_RECORD_BYTES + 1 - self.since_mark;
        let available = self.inner.fill_buf()?;
        Ok(&available[..available.len().min(room)])
    }

    fn consume(&mut self, amount: usize) {
        self.since_mark += amount;
        self.inner.consume(amount);
    }
}

/// The records of a CSV upload.
///
/// A record is one line: no allocation field may hold a line break, so a
/// quote left open at the end of a line rejects that line alone, and never
/// swallows the lines after it. Blank lines are skipped; every other line
/// after the header is a record, read or rejected.
pub struct CsvRecords<R: BufRead> {
    reader: Bounded<R>,
    parser: csv_core::Reader,
    columns: [usize; 6],
    line: Vec<u8>,
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// The number of the line last read, from 1.
    line_number: u64,
    index: u64,
}

impl<R: BufRead> CsvRecords<R> {
    fn new(input: R) -> Result<Self, FormatError> {
        let mut reader = Bounded::new(input);
        let mut line = Vec::new();
        let mut line_number = 0;
        // The header is the first line that is not blank.
        loop {
            if !next_line(&mut reader, &mut line, &mut line_number)? {
                return Err(FormatError::MissingColumn(FIELDS[0]));
            }
            if !is_blank(&line) {
                break;
            }
        }
        let header = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line);
        // The delimiter is whichever of `;` and `,` the header uses more.
        let count = |c: u8| header.iter().filter(|&&b| b == c).count();
        let delimiter = if count(b';') >= count(b',') {
            b';'
        } else {
            b','
        };
        let parser = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut records = Self {
            reader,
            parser,
            columns: [usize::MAX; 6],
            line: Vec::new(),
            fields: Vec::new(),
            ends: Vec::new(),
            line_number,
            index: 0,
        };
        let header = header.to_vec();
        if !records.split(&header) {
            return Err(FormatError::Csv {
                line: line_number,
                reason: "the header's quote does not close on its line".into(),
            });
        }
        let mut columns = [usize::MAX; 6];
        let name = |i: usize| {
            let name = String::from_utf8_lossy(records.field(i));
            name.trim()
                .trim_start_matches('\u{feff}')
                .chars()
                .take(64)
                .collect::<String>()
        };
        for i in 0..records.ends.len() {
            if let Some(f) = field_of(&String::from_utf8_lossy(records.field(i))) {
                if columns[f] != usize::MAX {
                    return Err(FormatError::DuplicateColumn {
                        field: FIELDS[f],
                        first: name(columns[f]),
                        first_at: columns[f] + 1,
                        second: name(i),
                        second_at: i + 1,
                    });
                }
                columns[f] = i;
            }
        }
        for (f, c) in columns.iter().enumerate() {
            if *c == usize::MAX {
                return Err(FormatError::MissingColumn(FIELDS[f]));
            }
        }
        records.columns = columns;
        Ok(records)
    }

    /// Splits `line` into fields; false when it is not one record: a quote
    /// opened in it does not close before its end, or a carriage return
    /// inside it ends a record before the line does.
    fn split(&mut self, line: &[u8]) -> bool {
        use csv_core::ReadRecordResult::{InputEmpty, Record};
        self.parser.reset();
        self.fields.clear();
        self.fields.resize(line.len() + 1, 0);
        self.ends.clear();
        self.ends.resize(line.len() + 2, 0);
        let (result, read, written, ends) =
            self.parser
                .read_record(line, &mut self.fields, &mut self.ends);
        if result != InputEmpty || read != line.len() {
            return false;
        }
        // Then its line break: a record that does not end there is inside
        // an open quote.
        let (result, _, _, more) =
            self.parser
                .read_record(b"\n", &mut self.fields[written..], &mut self.ends[ends..]);
        self.ends.truncate(ends + more);
        result == Record
    }

    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.fields[start..self.ends[i]]
    }

    fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        loop {
            self.reader.mark();
            let mut line = std::mem::take(&mut self.line);
            let more = next_line(&mut self.reader, &mut line, &mut self.line_number);
            let result = match more {
                Ok(false) => Ok(None),
                Ok(true) if is_blank(&line) => {
                    self.line = line;
                    continue;
                }
                Ok(true) => Ok(Some(self.record(&line))),
                Err(e) => Err(e),
            };
            self.line = line;
            return result;
        }
    }

    /// The record of a line that is not blank.
    fn record(&mut self, line: &[u8]) -> Item {
        let index = self.index;
        self.index += 1;
        let number = self.line_number;
        let reject = |field: &str, reason: String| {
            Err(Rejection::new(index, field, "UNREADABLE_RECORD", reason).at_line(number))
        };
        if !self.split(line) {
            let reason = format!(
                "line {number}: not one record: a quoted field does not close on its line, \
                 or a carriage return splits it (a record is one line)"
            );
            return self.item(index, reject("record", reason));
        }
        let mut values: [String; 6] = Default::default();
        for (f, &c) in self.columns.iter().enumerate() {
            if c >= self.ends.len() {
                let reason = format!(
                    "line {number}: the record has {} fields, too few",
                    self.ends.len()
                );
                return self.item(index, reject(FIELDS[f], reason));
            }
            match std::str::from_utf8(self.field(c)) {
                Ok(s) => values[f] = s.to_owned(),
                Err(_) => {
                    let reason = format!("line {number}: the field is not UTF-8 text");
                    return self.item(index, reject(FIELDS[f], reason));
                }
            }
        }
        self.item(index, Ok(input_from(values)))
    }

    fn item(&self, index: u64, record: Result<AllocationInput, Rejection>) -> Item {
        Item {
            index,
            line: Some(self.line_number),
            record,
        }
    }
}

/// Reads the next line of `reader` into `line`, without its line break;
/// false at the end of the input. A line longer than [`MAX_RECORD_BYTES`]
/// refuses the upload, naming it.
fn next_line<R: BufRead>(
    reader: &mut Bounded<R>,
    line: &mut Vec<u8>,
    number: &mut u64,
) -> Result<bool, FormatError> {
    line.clear();
    reader.mark();
    match reader.read_until(b'\n', line) {
        Ok(0) => Ok(false),
        Ok(_) => {
            *number += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData && e.to_string() == TOO_LONG => {
            Err(FormatError::Csv {
                line: *number + 1,
                reason: format!("the line is longer than {MAX_RECORD_BYTES} bytes"),
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The records of an XML upload.
pub struct XmlRecords<R: BufRead> {
    reader: quick_xml::Reader<Bounded<R>>,
    buf: Vec<u8>,
    campaign: Option<String>,
    index: u64,
    done: bool,
}

impl<R: BufRead> XmlRecords<R> {
    fn new(input: R) -> Result<Self, FormatError> {
        let mut reader = quick_xml::Reader::from_reader(Bounded::new(input));
        reader.config_mut().trim_text(true);
        let mut buf = Vec::new();
        loop {
            let position = reader.buffer_position();
            match reader
                .read_event_into(&mut buf)
                .map_err(|e| xml_error(position, e))?
            {
                Event::Start(e) if e.local_name().as_ref() == b"allocations" => {
                    let mut campaign = None;
                    for a in e.attributes() {
                        let a = a.map_err(|e| xml_error(position, e))?;
                        if a.key.local_name().as_ref() == b"campaign" {
                            campaign = Some(
                                a.unescape_value()
                                    .map_err(|e| xml_error(position, e))?
                                    .into_owned(),
                            );
                        }
                    }
                    return Ok(Self {
                        reader,
                        buf,
                        campaign,
                        index: 0,
                        done: false,
                    });
                }
                Event::Empty(e) if e.local_name().as_ref() == b"allocations" => {
                    return Ok(Self {
                        reader,
                        buf,
                        campaign: None,
                        index: 0,
                        done: true,
                    });
                }
                Event::Decl(_) | Event::Comment(_) | Event::DocType(_) | Event::PI(_) => {}
                Event::Text(t) if t.is_empty() => {}
                Event::Eof => {
                    return Err(FormatError::Xml {
                        position,
                        reason: "the document is empty".into(),
                    })
                }
                _ => {
                    return Err(FormatError::Xml {
                        position,
                        reason: "the root element must be <allocations>".into(),
                    })
                }
            }
            buf.clear();
        }
    }

    fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        if self.done {
            return Ok(None);
        }
        self.reader.get_mut().mark();
        let mut values: [String; 6] = Default::default();
        let mut field: Option<usize> = None;
        let mut in_record = false;
        loop {
            self.buf.clear();
            let position = self.reader.buffer_position();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| xml_error(position, e))?;
            match event {
                Event::Start(e) if !in_record => {
                    if e.local_name().as_ref() != b"allocation" {
                        return Err(FormatError::Xml {
                            position,
                            reason: "<allocations> holds <allocation> elements only".into(),
                        });
                    }
                    in_record = true;
                }
                Event::Empty(e) if !in_record && e.local_name().as_ref() == b"allocation" => {
                    return Ok(Some(self.next_item_of(values)));
                }
                Event::Start(e) => {
                    if field.is_some() {
                        return Err(FormatError::Xml {
                            position,
                            reason: "the fields of an <allocation> hold text only".into(),
                        });
                    }
                    field = field_of(&String::from_utf8_lossy(e.local_name().as_ref()))
                        .or(Some(usize::MAX));
                }
                Event::Text(t) => {
                    if let Some(f) = field.filter(|&f| f < 6) {
                        values[f].push_str(&t.unescape().map_err(|e| xml_error(position, e))?);
                    }
                }
                Event::CData(t) => {
                    if let Some(f) = field.filter(|&f| f < 6) {
                        values[f].push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Event::End(e) if field.is_some() => {
                    let _ = e;
                    field = None;
                }
                Event::End(e) if in_record => {
                    let _ = e;
                    return Ok(Some(self.next_item_of(values)));
                }
                Event::End(_) => {
                    self.done = true;
                    return Ok(None);
                }
                Event::Empty(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    return Err(FormatError::Xml {
                        position,
                        reason: "the document ends before </allocations>".into(),
                    })
                }
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(FormatError::Xml {
                        position,
                        reason: "unexpected declaration inside the document".into(),
                    })
                }
            }
        }
    }

    fn next_item_of(&mut self, values: [String; 6]) -> Item {
        self.index += 1;
        Item {
            index: self.index - 1,
            line: None,
            record: Ok(input_from(values)),
        }
    }
}

fn xml_error(position: u64, e: impl std::fmt::Display) -> FormatError {
    FormatError::Xml {
        position,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(format: Format, text: &str) -> Result<(Option<String>, Vec<Item>), FormatError> {
        let mut r = Records::new(format, text.as_bytes())?;
        let campaign = r.campaign().map(str::to_owned);
        let mut out = Vec::new();
        while let Some(item) = r.next_item()? {
            out.push(item);
        }
        Ok((campaign, out))
    }

    #[test]
    fn csv_with_either_delimiter_and_french_headers() {
        let semi = "\u{feff}Référence;SIRET;Code INSEE;UAI;Montant;Date\nA-1;73282932000074;14118;0141687H;1 234,50;2026-06-02\n";
        let comma = "reference,employer_siret,employer_commune,establishment_uai,amount,allocated_at\nA-1,73282932000074,14118,0141687H,\"1 234,50\",2026-06-02\n";
        for text in [semi, comma] {
            let (_, items) = all(Format::Csv, text).unwrap();
            assert_eq!(items.len(), 1);
            let a = items[0].record.as_ref().unwrap();
            assert_eq!(a.reference, "A-1");
            assert_eq!(a.amount, "1 234,50");
            assert_eq!(a.establishment_uai, "0141687H");
        }
    }

    #[test]
    fn a_short_csv_record_is_rejected_alone() {
        let text = "reference;siret;commune;uai;amount;date\nA-1;1\nA-2;73282932000074;14118;0141687H;10;2026-06-02\n";
        let (_, items) = all(Format::Csv, text).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].record.as_ref().unwrap_err().code,
            "UNREADABLE_RECORD"
        );
        assert_eq!(items[1].index, 1);
        assert!(items[1].record.is_ok());
    }

    #[test]
    fn a_csv_header_without_a_column_is_refused() {
        let e = all(Format::Csv, "reference;siret;commune;uai;amount\n").unwrap_err();
        assert!(
            matches!(e, FormatError::MissingColumn("allocatedAt")),
            "{e}"
        );
    }

    #[test]
    fn a_csv_header_naming_a_column_twice_is_refused_naming_it() {
        for (header, field, first, second) in [
            (
                "reference;siret;commune;uai;amount;date;amount",
                "amount",
                ("amount", 5),
                ("amount", 7),
            ),
            (
                "reference;siret;commune;uai;montant;date;Amount",
                "amount",
                ("montant", 5),
                ("Amount", 7),
            ),
            (
                "\u{feff}SIRET,reference,employer_siret,commune,uai,amount,date",
                "employerSiret",
                ("SIRET", 1),
                ("employer_siret", 3),
            ),
        ] {
            let text = format!("{header}\nA-1;73282932000074;14118;0141687H;10;2026-06-02;11\n");
            let e = all(Format::Csv, &text).unwrap_err();
            match &e {
                FormatError::DuplicateColumn {
                    field: f,
                    first: a,
                    first_at: i,
                    second: b,
                    second_at: j,
                } => assert_eq!(
                    (*f, (a.as_str(), *i), (b.as_str(), *j)),
                    (field, first, second),
                    "{header}"
                ),
                other => panic!("{header}: {other}"),
            }
            assert!(
                e.to_string().contains(&format!("two {field} columns")),
                "{e}"
            );
        }
        // A column Passerelle does not read may appear twice.
        let text = "reference;note;siret;commune;uai;amount;date;note\nA-1;x;73282932000074;14118;0141687H;10;2026-06-02;y\n";
        assert_eq!(all(Format::Csv, text).unwrap().1.len(), 1);
    }

    #[test]
    fn xml_records_and_campaign() {
        let text = r#"<?xml version="1.0"?>
<allocations campaign="2026">
  <allocation><reference>A-1</reference><employerSiret>73282932000074</employerSiret>
    <employerCommune>14118</employerCommune><establishmentUai>0141687H</establishmentUai>
    <amount>10.50</amount><allocatedAt>2026-06-02</allocatedAt><note>ignored</note></allocation>
  <allocation><reference>A-&amp;2</reference></allocation>
</allocations>"#;
        let (campaign, items) = all(Format::Xml, text).unwrap();
        assert_eq!(campaign.as_deref(), Some("2026"));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].record.as_ref().unwrap().amount, "10.50");
        assert_eq!(items[1].record.as_ref().unwrap().reference, "A-&2");
        assert_eq!(items[1].index, 1);
    }

    #[test]
    fn malformed_xml_is_refused_with_its_position() {
        for text in [
            "",
            "<offers/>",
            "<allocations><allocation><reference>A</allocation></allocations>",
            "<allocations><allocation>",
            "<allocations><x/><other></other></allocations>",
        ] {
            assert!(
                matches!(all(Format::Xml, text), Err(FormatError::Xml { .. })),
                "{text}"
            );
        }
    }

    const HEADER: &str = "reference;siret;commune;uai;amount;date\n";

    fn good(n: usize) -> String {
        format!("A-{n};73282932000074;14118;0141687H;10;2026-06-02\n")
    }

    #[test]
    fn a_stray_quote_rejects_its_line_alone() {
        for rows in [5, 49] {
            let mut text = HEADER.to_owned();
            for n in 0..rows {
                if n == 1 {
                    text.push_str("\"A-1;73282932000074;14118;0141687H;10;2026-06-02\n");
                } else {
                    text.push_str(&good(n));
                }
            }
            let (_, items) = all(Format::Csv, &text).unwrap();
            assert_eq!(items.len(), rows, "every data line is a record");
            let rejected: Vec<_> = items.iter().filter(|i| i.record.is_err()).collect();
            assert_eq!(rejected.len(), 1);
            let r = rejected[0].record.as_ref().unwrap_err();
            assert_eq!(r.line, Some(3));
            assert_eq!(r.index, 1);
            assert!(r.reason.contains("line 3"), "{}", r.reason);
            assert_eq!(items.last().unwrap().line, Some(rows as u64 + 1));
        }
    }

    #[test]
    fn a_carriage_return_inside_a_line_rejects_it_rather_than_losing_its_end() {
        let text = format!(
            "{HEADER}A-1;73282932000074;14118\r0141687H;10;2026-06-02\n{}",
            good(2)
        );
        let (_, items) = all(Format::Csv, &text).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].record.as_ref().unwrap_err().line, Some(2));
        assert!(items[1].record.is_ok());
    }

    #[test]
    fn quoted_fields_and_crlf_lines_read_as_records() {
        let text = "reference;siret;commune;uai;amount;date\r\n\"A;\"\"1\";73282932000074;14118;0141687H;\"10,5\";2026-06-02\r\n\r\n\nA-2;73282932000074;14118;0141687H;10;2026-06-02";
        let (_, items) = all(Format::Csv, text).unwrap();
        assert_eq!(items.len(), 2, "blank lines are not records");
        assert_eq!(items[0].record.as_ref().unwrap().reference, "A;\"1");
        assert_eq!(items[0].record.as_ref().unwrap().amount, "10,5");
        assert_eq!(items[1].record.as_ref().unwrap().allocated_at, "2026-06-02");
        assert_eq!(items[1].line, Some(5));
    }

    #[test]
    fn a_line_over_the_bound_refuses_the_upload_naming_it() {
        let mut text = HEADER.to_owned();
        text.push_str(&good(0));
        text.push_str(&"x".repeat(MAX_RECORD_BYTES + 10));
        text.push('\n');
        text.push_str(&good(2));
        let mut r = Records::new(Format::Csv, text.as_bytes()).unwrap();
        assert!(r.next_item().unwrap().unwrap().record.is_ok());
        match r.next_item() {
            Err(FormatError::Csv { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        // A line just under the bound is a record (rejected for its content).
        let mut text = HEADER.to_owned();
        text.push_str(&"y".repeat(MAX_RECORD_BYTES - 10));
        text.push('\n');
        let (_, items) = all(Format::Csv, &text).unwrap();
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn an_xml_record_over_the_bound_is_refused() {
        let text = format!(
            "<allocations><allocation><reference>{}</reference></allocation></allocations>",
            "z".repeat(MAX_RECORD_BYTES + 10)
        );
        assert!(matches!(
            all(Format::Xml, &text),
            Err(FormatError::Xml { .. })
        ));
        let mut many = String::from("<allocations>");
        for n in 0..2_000 {
            many.push_str(&format!(
                "<allocation><reference>R-{n}</reference></allocation>"
            ));
        }
        many.push_str("</allocations>");
        let (_, items) = all(Format::Xml, &many).unwrap();
        assert_eq!(
            items.len(),
            2_000,
            "the bound is per record, not per upload"
        );
    }
}
