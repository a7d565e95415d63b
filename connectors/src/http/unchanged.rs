//! Pages a live partner sends again unchanged. Each page of a live answer
//! keeps the digest of its bytes and what was read from it; a later load of
//! the same search compares the pages it gets with them, and a page whose
//! bytes are the same is not parsed or mapped again: its records are the
//! last answer's. When every page is the same, the load gives the last
//! answer itself ([`super::Loaded::Unchanged`]).
//!
//! The partner is called as often as before: this spares the reading, not
//! the call, and no answer is served that the partner did not just send.

use std::ops::Range;
use std::sync::Arc;

use passerelle_mappings::RecordError;
use sha2::{Digest, Sha256};

use super::Loaded;

/// What was read from each page of a live answer, in order.
#[derive(Debug, Clone, Default)]
pub struct PagesRead(pub Vec<PageRead>);

/// What was read from one page.
#[derive(Debug, Clone)]
pub struct PageRead {
    /// The SHA-256 of its bytes.
    digest: [u8; 32],
    /// Its records among the answer's.
    records: Range<usize>,
    /// Its rejected records among the answer's.
    rejected: Range<usize>,
    /// Its first record's position among all those the partner sent
    /// (mapped or rejected), and how many it held.
    first: usize,
    held: usize,
    /// The values read at the declaration's pointers in it (a count, the
    /// next page's cursor), in order.
    values: PointerValues,
}

/// The values read at a declaration's pointers in a page, in order.
pub type PointerValues = Vec<Option<serde_json::Value>>;

/// The digest of a page's bytes.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The last good answer of a search, as a load reads its pages against it.
pub struct Last<'a, E> {
    /// Its records.
    pub records: &'a [Arc<E>],
    /// Its rejected records.
    pub rejected: &'a [RecordError],
    /// Its pages.
    pub pages: &'a PagesRead,
}

/// A live answer read page by page: its parts, as a later load reads its
/// pages against them.
pub trait PagedAnswer {
    /// What its records are.
    type Record;
    /// Its records, rejected records and pages.
    fn last(&self) -> Last<'_, Self::Record>;
}

/// The records of a load, read page by page.
pub struct Reading<E> {
    /// Its records.
    pub records: Vec<Arc<E>>,
    /// Its rejected records, numbered among all those the partner sent.
    pub rejected: Vec<RecordError>,
    /// What was read from each page.
    pub pages: PagesRead,
    /// Pages found unchanged.
    unchanged: usize,
    /// Records the partner sent so far, mapped or rejected.
    held: usize,
}

impl<E> Default for Reading<E> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            rejected: Vec::new(),
            pages: PagesRead::default(),
            unchanged: 0,
            held: 0,
        }
    }
}

/// A page as mapped: its records, its rejected ones numbered within it, the
/// values at the pointers.
pub struct PageMapped<E> {
    /// The records that mapped.
    pub records: Vec<E>,
    /// Those that did not, numbered within the page.
    pub rejected: Vec<RecordError>,
    /// The values at the pointers.
    pub values: PointerValues,
}

impl<E> Reading<E> {
    /// Reads the next page, `bytes`: from `last`'s page at the same place
    /// when the bytes are that page's, else by `map`. Gives how many
    /// records the page held, the values at its pointers, and the page's
    /// rejected records when it was mapped here (those reused were reported
    /// when first read).
    pub fn page<X>(
        &mut self,
        bytes: &[u8],
        last: Option<&Last<'_, E>>,
        map: impl FnOnce() -> Result<PageMapped<E>, X>,
    ) -> Result<(usize, PointerValues, &[RecordError]), X> {
        let digest = digest(bytes);
        let n = self.pages.0.len();
        let first = self.held;
        let (records, rejected) = (self.records.len(), self.rejected.len());
        let same = last.and_then(|l| Some((l, l.pages.0.get(n)?)));
        let (values, mapped) =
            match same.filter(|(_, p)| p.digest == digest) {
                Some((last, page)) => {
                    self.unchanged += 1;
                    self.records
                        .extend(last.records[page.records.clone()].iter().cloned());
                    self.rejected
                        .extend(last.rejected[page.rejected.clone()].iter().cloned().map(
                            |mut e| {
                                e.index = e.index - page.first + first;
                                e
                            },
                        ));
                    self.held += page.held;
                    (page.values.clone(), false)
                }
                None => {
                    let page = map()?;
                    self.held += page.records.len() + page.rejected.len();
                    self.records.extend(page.records.into_iter().map(Arc::new));
                    self.rejected.extend(page.rejected.into_iter().map(|mut e| {
                        e.index += first;
                        e
                    }));
                    (page.values, true)
                }
            };
        self.pages.0.push(PageRead {
            digest,
            records: records..self.records.len(),
            rejected: rejected..self.rejected.len(),
            first,
            held: self.held - first,
            values: values.clone(),
        });
        let new = if mapped {
            rejected
        } else {
            self.rejected.len()
        };
        Ok((self.held - first, values, &self.rejected[new..]))
    }

    /// Records the partner sent so far, mapped or rejected.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Whether every page was `last`'s, and there were as many: the answer
    /// is the last one.
    pub fn unchanged(&self, last: Option<&Last<'_, E>>) -> bool {
        last.is_some_and(|l| {
            self.unchanged == self.pages.0.len() && l.pages.0.len() == self.pages.0.len()
        })
    }

    /// What the load gives: `previous` when every page was its, else the
    /// answer `build` makes of what was read.
    pub fn answer<A: PagedAnswer<Record = E>>(
        self,
        previous: Option<Arc<A>>,
        build: impl FnOnce(Self) -> A,
    ) -> Loaded<A> {
        match previous {
            Some(p) if self.unchanged(Some(&p.last())) => Loaded::Unchanged(p),
            _ => Loaded::New(build(self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(index: usize) -> RecordError {
        RecordError {
            index,
            partner_id: None,
            field: "record".into(),
            reason: "bad".into(),
        }
    }

    /// A page of `text`, mapped: a record per letter, a rejection per `!`,
    /// and its text as the value at its pointer.
    fn map(text: &str, calls: &mut usize) -> Result<PageMapped<char>, ()> {
        *calls += 1;
        let mut records = Vec::new();
        let mut rejected = Vec::new();
        for (i, c) in text.chars().enumerate() {
            if c == '!' {
                rejected.push(rejection(i));
            } else {
                records.push(c);
            }
        }
        Ok(PageMapped {
            records,
            rejected,
            values: vec![Some(text.into())],
        })
    }

    fn read(pages: &[&str], last: Option<&Last<'_, char>>, calls: &mut usize) -> Reading<char> {
        let mut reading = Reading::default();
        for p in pages {
            let (held, values, _) = reading.page(p.as_bytes(), last, || map(p, calls)).unwrap();
            assert_eq!(held, p.len());
            assert_eq!(values, vec![Some(serde_json::Value::from(*p))]);
        }
        reading
    }

    fn last(r: &Reading<char>) -> Last<'_, char> {
        Last {
            records: &r.records,
            rejected: &r.rejected,
            pages: &r.pages,
        }
    }

    fn shown(r: &Reading<char>) -> (String, Vec<usize>) {
        (
            r.records.iter().map(|c| **c).collect(),
            r.rejected.iter().map(|e| e.index).collect(),
        )
    }

    #[test]
    fn unchanged_pages_are_not_read_again_and_read_as_when_first_read() {
        let mut calls = 0;
        let first = read(&["ab!", "c!d", "e"], None, &mut calls);
        assert_eq!(calls, 3);
        assert_eq!(shown(&first), ("abcde".into(), vec![2, 4]));

        // The same pages: none mapped, the answer is the last one.
        let again = read(&["ab!", "c!d", "e"], Some(&last(&first)), &mut calls);
        assert_eq!(calls, 3);
        assert!(again.unchanged(Some(&last(&first))));
        assert_eq!(shown(&again), shown(&first));
        // The records are the last answer's own.
        assert!(Arc::ptr_eq(&again.records[3], &first.records[3]));

        // The first page changed and is longer: the others, unchanged, are
        // reused, their rejections numbered after it.
        let changed = read(&["xy!z!", "c!d", "e"], Some(&last(&first)), &mut calls);
        assert_eq!(calls, 4);
        assert!(!changed.unchanged(Some(&last(&first))));
        assert_eq!(shown(&changed), ("xyzcde".into(), vec![2, 4, 6]));
        // The same as reading every page anew.
        let mut fresh_calls = 0;
        let fresh = read(&["xy!z!", "c!d", "e"], None, &mut fresh_calls);
        assert_eq!(shown(&changed), shown(&fresh));

        // One page fewer: not the last answer, though each page is.
        let fewer = read(&["ab!", "c!d"], Some(&last(&first)), &mut calls);
        assert_eq!(calls, 4);
        assert!(!fewer.unchanged(Some(&last(&first))));
        assert_eq!(shown(&fewer), ("abcd".into(), vec![2, 4]));
        // One more: the new one is read.
        let more = read(&["ab!", "c!d", "e", "f"], Some(&last(&first)), &mut calls);
        assert_eq!(calls, 5);
        assert!(!more.unchanged(Some(&last(&first))));
    }

    #[test]
    fn the_rejections_a_page_gives_are_those_first_read_from_it() {
        let mut calls = 0;
        let mut reading = Reading::default();
        let (_, _, rejected) = reading.page(b"a!", None, || map("a!", &mut calls)).unwrap();
        assert_eq!(rejected.len(), 1);
        let first = reading;
        let mut again = Reading::default();
        let (_, _, rejected) = again
            .page(b"a!", Some(&last(&first)), || map("a!", &mut calls))
            .unwrap();
        assert!(rejected.is_empty(), "reported when first read");
        assert_eq!(again.rejected.len(), 1);
    }
}
