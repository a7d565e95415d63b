//! A batch of allocations pushed by an OPCO (`pushAllocations`): checked,
//! stored in one transaction, idempotent; who may push for which OPCO.

use passerelle_schema::allocation::check_campaign;
use passerelle_schema::{AllocationInput, Opco};
use sha2::{Digest, Sha256};

use super::formats::FormatError;
use super::ingest::{begin, Begun, IngestError, IngestReport};

use crate::store::Store;

/// Why a batch was refused whole.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The campaign year is missing, malformed or out of range.
    #[error("{0}")]
    Campaign(String),
    /// The upload could not be read.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// It could not be stored, or its key was used for other content.
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl BatchError {
    /// The code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Campaign(_) => "INVALID_CAMPAIGN",
            BatchError::Format(FormatError::UnsupportedType(_)) => "UNSUPPORTED_MEDIA_TYPE",
            BatchError::Format(FormatError::Io(_)) => "UPLOAD_FAILED",
            BatchError::Format(_) => "MALFORMED_UPLOAD",
            BatchError::Ingest(IngestError::KeyReused(_)) => "IDEMPOTENCY_KEY_REUSED",
            BatchError::Ingest(IngestError::Store(_)) => "STORE_UNAVAILABLE",
        }
    }
}

/// Checks a campaign year against today.
pub fn campaign_year(year: i64) -> Result<i32, BatchError> {
    check_campaign(year, chrono::Utc::now().date_naive()).map_err(BatchError::Campaign)
}

/// Stores a batch pushed through the API: the records given, under `key`.
pub async fn push(
    store: &Store,
    opco: &Opco,
    campaign: i64,
    key: &str,
    allocations: Vec<AllocationInput>,
) -> Result<IngestReport, BatchError> {
    let campaign = campaign_year(campaign)?;
    let fingerprint = {
        let mut h = Sha256::new();
        h.update(format!("api:{campaign}:").as_bytes());
        h.update(serde_json::to_vec(&allocations).expect("inputs serialise"));
        hex::encode(h.finalize())
    };
    match begin(store, opco, campaign, key).await? {
        Begun::New(mut batch) => {
            batch
                .push(
                    allocations
                        .into_iter()
                        .enumerate()
                        .map(|(i, a)| (i as u64, None, a)),
                )
                .await?;
            Ok(batch.commit(&fingerprint).await?)
        }
        Begun::Replay {
            fingerprint: stored,
            report,
        } => Ok(Begun::replay(stored, report, &fingerprint)?),
    }
}

/// The scope that lets a caller push allocations.
pub const WRITE_SCOPE: &str = "allocations:write";

/// The OPCO a caller pushes for: its token's `opco` claim, with the
/// `allocations:write` scope. A batch that names another OPCO is refused
/// whole: an OPCO never touches another's data.
pub fn pushing_opco(caller: &crate::auth::Caller, named: Option<&str>) -> Result<Opco, String> {
    if !caller.has(WRITE_SCOPE) {
        return Err(format!("pushing allocations needs the scope {WRITE_SCOPE}"));
    }
    let Some(opco) = caller.opco.as_deref().and_then(|o| Opco::parse(o).ok()) else {
        return Err("the token names no known OPCO (claim opco)".into());
    };
    if let Some(named) = named {
        if Opco::parse(named).ok().as_ref() != Some(&opco) {
            return Err(format!("this token pushes for {opco} only, not {named}"));
        }
    }
    Ok(opco)
}
