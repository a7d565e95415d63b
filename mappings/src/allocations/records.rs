//! The records of an upload in either format, read one at a time.

use std::io::BufRead;

use super::{CsvRecords, Format, FormatError, Item, XmlRecords};

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
