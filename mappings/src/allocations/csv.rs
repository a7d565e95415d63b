//! CSV uploads read a line at a time: the header's columns found by name,
//! in either language and with either delimiter, and each line after it a
//! record, or a rejection of that line alone.

use std::io::BufRead;

use passerelle_schema::{AllocationInput, Rejection};

use super::bounded::{Bounded, MAX_RECORD_BYTES, TOO_LONG};
use super::fields::{field_of, input_from, FIELDS};
use super::{FormatError, Item};

/// The records of a CSV upload.
///
/// A record is one line: no allocation field may hold a line break, so a
/// quote left open at the end of a line rejects that line alone, and never
/// swallows the lines after it. Blank lines are skipped; every other line
/// after the header is a record, read or rejected.
pub struct CsvRecords<R: BufRead> {
    pub(super) reader: Bounded<R>,
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
    pub(super) fn new(input: R) -> Result<Self, FormatError> {
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

    pub(super) fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
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
