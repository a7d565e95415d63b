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
    /// The XML is not well-formed, or not an `<allocations>` document.
    #[error("the XML document is malformed at byte {position}: {reason}")]
    Xml {
        /// Where.
        position: u64,
        /// Why.
        reason: String,
    },
    /// The upload could not be read (cut short, too large).
    #[error("the upload could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// An item of an upload: a record, or a record that could not be read.
pub type Item = (u64, Result<AllocationInput, Rejection>);

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
    /// A CSV upload.
    Csv(CsvRecords<R>),
    /// An XML upload.
    Xml(XmlRecords<R>),
}

impl<R: BufRead> Records<R> {
    /// Starts reading `input` in `format`: reads the CSV header, or the
    /// XML document up to its root element.
    pub fn new(format: Format, input: R) -> Result<Self, FormatError> {
        Ok(match format {
            Format::Csv => Self::Csv(CsvRecords::new(input)?),
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
            Self::Xml(x) => x.reader.into_inner(),
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

/// The records of a CSV upload.
pub struct CsvRecords<R: BufRead> {
    reader: csv::Reader<R>,
    columns: [usize; 6],
    record: csv::ByteRecord,
    index: u64,
}

impl<R: BufRead> CsvRecords<R> {
    fn new(mut input: R) -> Result<Self, FormatError> {
        // The delimiter is whichever of `;` and `,` the header uses more.
        let head = input.fill_buf()?;
        let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
        let count = |c: u8| line.iter().filter(|&&b| b == c).count();
        let delimiter = if count(b';') >= count(b',') {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(input);
        let headers = reader
            .byte_headers()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
            .clone();
        let mut columns = [usize::MAX; 6];
        for (i, h) in headers.iter().enumerate() {
            if let Some(f) = field_of(&String::from_utf8_lossy(h)) {
                if columns[f] == usize::MAX {
                    columns[f] = i;
                }
            }
        }
        for (f, c) in columns.iter().enumerate() {
            if *c == usize::MAX {
                return Err(FormatError::MissingColumn(FIELDS[f]));
            }
        }
        Ok(Self {
            reader,
            columns,
            record: csv::ByteRecord::new(),
            index: 0,
        })
    }

    fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        let index = self.index;
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    let csv::ErrorKind::Io(io) = e.into_kind() else {
                        unreachable!()
                    };
                    return Err(io.into());
                }
                self.index += 1;
                return Ok(Some((
                    index,
                    Err(Rejection::new(
                        index,
                        "record",
                        "UNREADABLE_RECORD",
                        e.to_string(),
                    )),
                )));
            }
        }
        self.index += 1;
        let mut values: [String; 6] = Default::default();
        for (f, &c) in self.columns.iter().enumerate() {
            let Some(raw) = self.record.get(c) else {
                return Ok(Some((
                    index,
                    Err(Rejection::new(
                        index,
                        FIELDS[f],
                        "UNREADABLE_RECORD",
                        format!("the record has {} fields, too few", self.record.len()),
                    )),
                )));
            };
            match std::str::from_utf8(raw) {
                Ok(s) => values[f] = s.to_owned(),
                Err(_) => {
                    return Ok(Some((
                        index,
                        Err(Rejection::new(
                            index,
                            FIELDS[f],
                            "UNREADABLE_RECORD",
                            "the field is not UTF-8 text",
                        )),
                    )))
                }
            }
        }
        Ok(Some((index, Ok(input_from(values)))))
    }
}

/// The records of an XML upload.
pub struct XmlRecords<R: BufRead> {
    reader: quick_xml::Reader<R>,
    buf: Vec<u8>,
    campaign: Option<String>,
    index: u64,
    done: bool,
}

impl<R: BufRead> XmlRecords<R> {
    fn new(input: R) -> Result<Self, FormatError> {
        let mut reader = quick_xml::Reader::from_reader(input);
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
                    let index = self.next_index();
                    return Ok(Some((index, Ok(input_from(values)))));
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
                    let index = self.next_index();
                    return Ok(Some((index, Ok(input_from(values)))));
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

    fn next_index(&mut self) -> u64 {
        self.index += 1;
        self.index - 1
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
            let a = items[0].1.as_ref().unwrap();
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
        assert_eq!(items[0].1.as_ref().unwrap_err().code, "UNREADABLE_RECORD");
        assert_eq!(items[1].0, 1);
        assert!(items[1].1.is_ok());
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
        assert_eq!(items[0].1.as_ref().unwrap().amount, "10.50");
        assert_eq!(items[1].1.as_ref().unwrap().reference, "A-&2");
        assert_eq!(items[1].0, 1);
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
}
