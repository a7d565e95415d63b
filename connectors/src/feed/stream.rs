//! A feed mapped as it is downloaded: its records come in chunks while the
//! body is still arriving, so that a large feed is never held whole.

use std::io::Read;
use std::sync::Arc;

use axum::body::Bytes;
use passerelle_mappings::record::PayloadError;
use passerelle_mappings::{Entity, MappedBatch, Mapping, ReadEnd, RecordError};
use passerelle_schema::Partner;
use tokio::sync::mpsc;

use super::log_rejected;
use crate::ConnectorError;

/// Records mapped and handed over at a time.
const CHUNK: usize = 200;

/// Chunks of records mapped ahead of the reader, at most.
const CHUNKS_AHEAD: usize = 4;

/// Pieces of the body read ahead of the mapping, at most.
const BODY_AHEAD: usize = 16;

/// Records of a feed mapped as it is read.
#[derive(Debug)]
pub struct FeedChunk<E> {
    /// The records that mapped, in the feed's order.
    pub records: Vec<E>,
    /// The records that did not, each with its reason.
    pub rejected: Vec<RecordError>,
}

impl<E> Default for FeedChunk<E> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

/// How a feed read to its end ended.
#[derive(Debug)]
pub struct FeedEnd {
    /// Set when the feed broke off (a syntax error) after the records read.
    pub truncated: Option<PayloadError>,
    /// What was done to records kept that is not a rejection (see
    /// [`MappedBatch::notices`]).
    pub notices: Vec<String>,
    /// Its size in bytes.
    pub bytes: usize,
}

/// What reading a feed gives next.
#[derive(Debug)]
pub enum FeedPiece<E> {
    /// More records.
    Records(FeedChunk<E>),
    /// The feed's end: every record was given.
    End(FeedEnd),
}

/// The records of a pulled feed, mapped as they are downloaded. Dropping it
/// stops the download.
#[derive(Debug)]
pub struct FeedRecords<E> {
    partner: Partner,
    pieces: mpsc::Receiver<Result<FeedPiece<E>, ConnectorError>>,
}

impl<E: Entity> FeedRecords<E> {
    /// The records of a feed mapped whole already.
    pub fn whole(partner: Partner, batch: MappedBatch<E>, bytes: usize) -> Self {
        let (tx, pieces) = mpsc::channel(2);
        let chunk = FeedChunk {
            records: batch.records,
            rejected: batch.rejected,
        };
        let end = FeedEnd {
            truncated: batch.truncated,
            notices: batch.notices,
            bytes,
        };
        for piece in [FeedPiece::Records(chunk), FeedPiece::End(end)] {
            tx.try_send(Ok(piece))
                .expect("room for a batch and its end");
        }
        Self { partner, pieces }
    }

    /// The next records, or the end. Fails when the download does (a
    /// broken connection, a timeout), when the feed cannot be decoded, or
    /// when it broke off before any record mapped: the feed is then not to
    /// be trusted at all, and what was given of it is to be dropped.
    pub async fn next(&mut self) -> Result<FeedPiece<E>, ConnectorError> {
        match self.pieces.recv().await {
            Some(piece) => piece,
            None => Err(ConnectorError::MappingFailed {
                partner: self.partner,
                reason: "mapping the feed failed".into(),
            }),
        }
    }

    /// Reads every record, into one batch, with the feed's size.
    pub async fn collect(mut self) -> Result<(MappedBatch<E>, usize), ConnectorError> {
        let mut batch = MappedBatch::default();
        loop {
            match self.next().await? {
                FeedPiece::Records(chunk) => {
                    batch.records.extend(chunk.records);
                    batch.rejected.extend(chunk.rejected);
                }
                FeedPiece::End(end) => {
                    batch.truncated = end.truncated;
                    batch.notices = end.notices;
                    return Ok((batch, end.bytes));
                }
            }
        }
    }
}

/// Maps the body of `response` as it arrives, off the request-serving
/// threads, and logs the rejected records.
pub(super) fn map_response<E: Entity>(
    partner: Partner,
    mapping: Arc<Mapping>,
    mut response: reqwest::Response,
) -> FeedRecords<E> {
    let (body_tx, body_rx) = mpsc::channel(BODY_AHEAD);
    let (tx, pieces) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(async move {
        loop {
            let piece = response.chunk().await;
            let last = !matches!(piece, Ok(Some(_)));
            if body_tx.send(piece).await.is_err() || last {
                break;
            }
        }
    });
    tokio::task::spawn_blocking(move || {
        let mut body = Body {
            partner,
            pieces: body_rx,
            piece: Bytes::new(),
            bytes: 0,
            failed: None,
            out: tx.clone(),
        };
        let mut chunk = FeedChunk::default();
        let mut mapped = 0;
        // Mapping thousands of records is CPU work: it runs on this
        // blocking thread, and hands over a chunk at a time.
        let read = mapping.map_read::<E>(&mut body, &[], |r| {
            match r {
                Ok(e) => {
                    mapped += 1;
                    chunk.records.push(e);
                }
                Err(e) => {
                    log_rejected(partner, &e);
                    chunk.rejected.push(e);
                }
            }
            if chunk.records.len() + chunk.rejected.len() >= CHUNK {
                // When the reader is gone, the next read of the body stops.
                let _ = tx.blocking_send(Ok(FeedPiece::Records(std::mem::take(&mut chunk))));
            }
        });
        let failed = |reason: String| ConnectorError::MappingFailed { partner, reason };
        let end = match read {
            Err(e) => Err(body.failed.take().unwrap_or_else(|| failed(e.to_string()))),
            // Not the character set it says: nothing of it is to be trusted.
            Ok(ReadEnd {
                truncated: Some(e @ PayloadError::Encoding(_)),
                ..
            }) => Err(failed(e.to_string())),
            Ok(ReadEnd {
                truncated: Some(e), ..
            }) if mapped == 0 => Err(failed(e.to_string())),
            Ok(ReadEnd { truncated, notices }) => Ok(FeedPiece::End(FeedEnd {
                truncated,
                notices,
                bytes: body.bytes,
            })),
        };
        if !chunk.records.is_empty() || !chunk.rejected.is_empty() {
            let _ = tx.blocking_send(Ok(FeedPiece::Records(chunk)));
        }
        let _ = tx.blocking_send(end);
    });
    FeedRecords { partner, pieces }
}

/// The body of a response, read on a blocking thread as it arrives.
struct Body<E> {
    partner: Partner,
    pieces: mpsc::Receiver<reqwest::Result<Option<Bytes>>>,
    /// What is left of the piece being read.
    piece: Bytes,
    /// Bytes received.
    bytes: usize,
    /// Why the body could not be read.
    failed: Option<ConnectorError>,
    /// Where the records go: the body is not read further once its reader
    /// is gone.
    out: mpsc::Sender<Result<FeedPiece<E>, ConnectorError>>,
}

impl<E> Read for Body<E> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.piece.is_empty() {
            if self.out.is_closed() {
                return Err(std::io::Error::other("the feed's reader is gone"));
            }
            match self.pieces.blocking_recv() {
                Some(Ok(Some(piece))) => {
                    self.bytes += piece.len();
                    self.piece = piece;
                }
                Some(Ok(None)) => return Ok(0),
                Some(Err(e)) => {
                    let error = ConnectorError::from_reqwest(self.partner, &e);
                    self.failed = Some(error);
                    return Err(std::io::Error::other(e));
                }
                None => return Err(std::io::Error::other("the download stopped")),
            }
        }
        let n = buf.len().min(self.piece.len());
        buf[..n].copy_from_slice(&self.piece[..n]);
        self.piece = self.piece.slice(n..);
        Ok(n)
    }
}
