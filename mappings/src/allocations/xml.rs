//! XML uploads read an `<allocation>` element at a time, the campaign
//! taken from the `<allocations>` root.

use std::io::BufRead;

use quick_xml::events::Event;

use super::bounded::Bounded;
use super::fields::{field_of, input_from};
use super::{FormatError, Item};

/// The records of an XML upload.
pub struct XmlRecords<R: BufRead> {
    pub(super) reader: quick_xml::Reader<Bounded<R>>,
    buf: Vec<u8>,
    pub(super) campaign: Option<String>,
    index: u64,
    done: bool,
}

impl<R: BufRead> XmlRecords<R> {
    pub(super) fn new(input: R) -> Result<Self, FormatError> {
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

    pub(super) fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
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
