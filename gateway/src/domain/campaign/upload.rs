//! A campaign's file uploaded (`POST /ingest/allocations`): read as it
//! streams, hashed, checked record by record and stored in chunks.

use std::io::{BufReader, Read};
use std::time::Instant;

use passerelle_schema::Opco;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::formats::{Format, FormatError};
use super::ingest::{begin, Begun, IngestReport};

use super::push::{campaign_year, BatchError};
use crate::store::Store;

/// Records handed from the reading thread to the writer at a time.
const CHUNK: usize = 2_000;

/// Progress is logged every this many records.
const PROGRESS_EVERY: u64 = 100_000;

/// A reader that hashes what goes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

enum Message {
    /// The document is open; the campaign it declares.
    Start(Option<String>),
    /// Records read.
    Records(Vec<super::formats::Item>),
}

/// Stores an upload read from `input` (a blocking reader: a file, or a
/// request body bridged from async), a chunk of records at a time, in one
/// transaction. `campaign` is the one the request names; an XML document
/// may name it instead. `progress` hears of every record read.
pub async fn ingest_upload<R: Read + Send + 'static>(
    store: &Store,
    opco: &Opco,
    key: &str,
    campaign: Option<&str>,
    format: Format,
    input: R,
    progress: impl Fn(u64),
) -> Result<IngestReport, BatchError> {
    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let salt = format!("upload:{format:?}:{}:", campaign.unwrap_or(""));
    let reader = tokio::task::spawn_blocking(move || -> Result<String, FormatError> {
        let mut hash = Sha256::new();
        hash.update(salt.as_bytes());
        let hashing = Hashing { inner: input, hash };
        let mut records =
            super::formats::Records::new(format, BufReader::with_capacity(1 << 16, hashing))?;
        if tx
            .blocking_send(Message::Start(records.campaign().map(str::to_owned)))
            .is_err()
        {
            return Ok(String::new());
        }
        let mut chunk = Vec::with_capacity(CHUNK);
        while let Some(item) = records.next_item()? {
            chunk.push(item);
            if chunk.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                if tx.blocking_send(Message::Records(full)).is_err() {
                    return Ok(String::new());
                }
            }
        }
        if !chunk.is_empty() && tx.blocking_send(Message::Records(chunk)).is_err() {
            return Ok(String::new());
        }
        // Whatever follows the records counts in the fingerprint too.
        let mut rest: Hashing<R> = records.into_inner().into_inner();
        std::io::copy(&mut rest, &mut std::io::sink())?;
        Ok(hex::encode(rest.hash.finalize()))
    });
    let finish = |reader: tokio::task::JoinHandle<Result<String, FormatError>>| async move {
        match reader.await {
            Ok(r) => r.map_err(BatchError::from),
            Err(e) => Err(BatchError::Format(FormatError::Io(std::io::Error::other(
                e.to_string(),
            )))),
        }
    };

    let Some(Message::Start(declared)) = rx.recv().await else {
        return Err(finish(reader).await.err().unwrap_or_else(|| {
            BatchError::Format(FormatError::Io(std::io::Error::other("the upload ended")))
        }));
    };
    let year = match (campaign, declared.as_deref()) {
        (Some(a), Some(b)) if a.trim() != b.trim() => {
            return Err(BatchError::Campaign(format!(
                "the request names campaign {a} and the document {b}"
            )))
        }
        (Some(y), _) | (None, Some(y)) => y.trim().parse::<i64>().map_err(|_| {
            BatchError::Campaign(format!("a campaign is a year like 2026, got {y:?}"))
        })?,
        (None, None) => {
            return Err(BatchError::Campaign(
                "the campaign is missing: name it (?campaign=YEAR in a request, --campaign YEAR on the command line)".into(),
            ))
        }
    };
    let year = campaign_year(year)?;
    let started = Instant::now();
    match begin(store, opco, year, key).await? {
        Begun::New(mut batch) => {
            let mut read = 0u64;
            while let Some(message) = rx.recv().await {
                let Message::Records(items) = message else {
                    continue;
                };
                let mut good = Vec::with_capacity(items.len());
                for item in items {
                    match item.record {
                        Ok(input) => good.push((item.index, item.line, input)),
                        Err(rejection) => batch.reject(rejection),
                    }
                }
                let before = read;
                read += good.len() as u64;
                batch.push(good).await?;
                read = batch.report().received.max(read);
                progress(read);
                if before / PROGRESS_EVERY != read / PROGRESS_EVERY {
                    tracing::info!(
                        opco = %opco,
                        key,
                        records = read,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "upload in progress"
                    );
                }
            }
            let fingerprint = finish(reader).await?;
            let report = batch.commit(&fingerprint).await?;
            tracing::info!(
                opco = %opco,
                key,
                accepted = report.accepted,
                duplicates = report.duplicates,
                rejected = report.rejected_count,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "upload stored"
            );
            Ok(report)
        }
        Begun::Replay {
            fingerprint: stored,
            report,
        } => {
            while rx.recv().await.is_some() {}
            let fingerprint = finish(reader).await?;
            Ok(Begun::replay(stored, report, &fingerprint)?)
        }
    }
}
