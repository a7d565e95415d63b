//! The bound on the length of one record of an upload, and the reader that
//! holds every record to it, so that memory stays flat whatever an upload
//! holds.

use std::io::BufRead;

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
    pub(super) fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// The reader wrapped.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// The message of the error [`Bounded`] gives.
pub(super) const TOO_LONG: &str = "a record is longer than the bound of 64 KiB";

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
