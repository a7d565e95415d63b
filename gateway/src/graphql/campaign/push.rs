//! `pushAllocations`: an OPCO's allocations, checked record by record, and
//! what the push did.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use passerelle_schema::AllocationInput;

use crate::auth::Caller;
use crate::domain::campaign::{self, BatchError, IngestReport};
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::inputs::invalid;
use crate::graphql::common::ApiState;

/// The most allocations one `pushAllocations` call takes; larger batches
/// go to `POST /ingest/allocations`.
pub const MAX_PUSH: usize = 10_000;

/// One allocation as an OPCO pushes it. Every field is text, checked here
/// record by record: a bad record is rejected alone, with its reason.
#[derive(InputObject)]
pub struct AllocationRecordInput {
    /// The employer's SIRET (14 digits, with its check key).
    employer_siret: String,
    /// The INSEE code of the employer's establishment's commune: it tells
    /// whether the money comes from Normandy.
    employer_commune: String,
    /// The UAI of the establishment receiving the money.
    establishment_uai: String,
    /// The amount in euros, positive, at most two decimals (`1234.50`).
    amount: String,
    /// When it was allocated: RFC 3339, or a date (Paris time).
    allocated_at: String,
    /// The OPCO's reference of the allocation: the same reference is never
    /// counted twice.
    reference: String,
}

/// A batch of allocations.
#[derive(InputObject)]
pub struct PushAllocationsInput {
    /// The campaign year.
    campaign: i32,
    /// The batch's key: a retry with the same key stores nothing more and
    /// returns the first answer.
    idempotency_key: String,
    /// The OPCO pushing; when given it must be the token's.
    opco: Option<String>,
    /// The allocations, at most 10,000.
    allocations: Vec<AllocationRecordInput>,
}

/// A refused record.
#[derive(SimpleObject)]
pub struct RejectedAllocation {
    /// Its position in the batch, from 0.
    index: u64,
    /// The field at fault.
    field: String,
    /// A stable code (`INVALID_CHECK_KEY`, `NOT_POSITIVE`…).
    code: String,
    /// Why, for people.
    reason: String,
}

/// What happened to a batch.
#[derive(SimpleObject)]
pub struct PushReport {
    /// The OPCO.
    opco: String,
    /// The campaign.
    campaign: i32,
    /// The batch's key.
    idempotency_key: String,
    /// Records received.
    received: u64,
    /// Records stored.
    accepted: u64,
    /// Records already stored under the same reference.
    duplicates: u64,
    /// Records refused.
    rejected_count: u64,
    /// The refused records, one by one.
    rejected: Vec<RejectedAllocation>,
    /// True when this answers a retry: nothing was stored this time.
    replayed: bool,
}

impl From<IngestReport> for PushReport {
    fn from(r: IngestReport) -> Self {
        Self {
            opco: r.opco,
            campaign: r.campaign,
            idempotency_key: r.idempotency_key,
            received: r.received,
            accepted: r.accepted,
            duplicates: r.duplicates,
            rejected_count: r.rejected_count,
            rejected: r
                .rejected
                .into_iter()
                .map(|x| RejectedAllocation {
                    index: x.index,
                    field: x.field,
                    code: x.code,
                    reason: x.reason,
                })
                .collect(),
            replayed: r.replayed,
        }
    }
}

fn batch_error(e: &BatchError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    if let BatchError::Ingest(campaign::IngestError::Store(se)) = e {
        tracing::error!(error = %se, "a push could not be stored");
    }
    let message = match e {
        BatchError::Ingest(campaign::IngestError::Store(_)) => {
            "the store is unavailable; nothing of this batch was kept, retry it with the same key"
                .to_owned()
        }
        other => other.to_string(),
    };
    async_graphql::Error::new(message).extend_with(|_, x| x.set("code", e.code()))
}

/// The root of mutations.
#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Pushes allocations of the taxe d'apprentissage for the caller's OPCO.
    ///
    /// Needs the scope `allocations:write` and an `opco` claim; the batch is
    /// stored for that OPCO only. Each record is checked alone; the answer
    /// comes once the batch is committed.
    #[graphql(requires_scopes = "allocations:write")]
    async fn push_allocations(
        &self,
        ctx: &Context<'_>,
        input: PushAllocationsInput,
    ) -> async_graphql::Result<PushReport> {
        let caller = ctx.data_opt::<Caller>().cloned().unwrap_or_default();
        let opco = campaign::pushing_opco(&caller, input.opco.as_deref())
            .map_err(|why| ErrorCode::Forbidden.error(why))?;
        let key = input.idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(invalid("idempotencyKey", "1 to 200 characters"));
        }
        if input.allocations.len() > MAX_PUSH {
            return Err(invalid(
                "allocations",
                format!("at most {MAX_PUSH} a call; upload larger batches to /ingest/allocations"),
            ));
        }
        let state = ctx.data::<ApiState>()?;
        let records = input
            .allocations
            .into_iter()
            .map(|a| AllocationInput {
                employer_siret: a.employer_siret,
                employer_commune: a.employer_commune,
                establishment_uai: a.establishment_uai,
                amount: a.amount,
                allocated_at: a.allocated_at,
                reference: a.reference,
            })
            .collect();
        let started = std::time::Instant::now();
        let result =
            campaign::push(&state.store, &opco, i64::from(input.campaign), key, records).await;
        let outcome = match &result {
            Ok(r) if r.replayed => "replayed",
            Ok(_) => "stored",
            Err(e) => e.code(),
        };
        metrics::counter!("passerelle_ingest_batches_total", "channel" => "graphql", "outcome" => outcome)
            .increment(1);
        metrics::histogram!("passerelle_ingest_batch_duration_seconds", "channel" => "graphql")
            .record(started.elapsed().as_secs_f64());
        result.map(PushReport::from).map_err(|e| batch_error(&e))
    }
}
