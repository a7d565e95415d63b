//! The partners in the API: every partner system, its health and the
//! history of its syncs (`partners`).

use async_graphql::{Context, Object, SimpleObject};
use passerelle_schema::Partner;

use crate::graphql::common::errors::{store_failure, RequireScope};
use crate::graphql::common::partner_id::PartnerId;
use crate::graphql::common::scalars::DateTime;
use crate::graphql::common::ApiState;
use crate::graphql::offers::PartnerMode;
use crate::partners::health::PartnerStatus;
use crate::partners::sources::FeedSize;

/// The partners' part of the root of queries.
#[derive(Default)]
pub struct PartnerQuery;

/// A partner as `partners` answers it.
pub struct PartnerInfo {
    partner: Partner,
    state: crate::partners::health::PartnerState,
    serving: Option<u64>,
    /// The entity whose syncs are its history, for a synced partner.
    synced: Option<&'static str>,
}

/// A partner system and what Passerelle knows of its health.
#[Object(name = "Partner")]
impl PartnerInfo {
    /// The partner's identifier.
    async fn id(&self) -> PartnerId {
        self.partner.into()
    }

    /// The partner's name.
    async fn name(&self) -> &str {
        self.partner.name()
    }

    /// How Passerelle reaches its data.
    async fn mode(&self) -> PartnerMode {
        self.partner.mode().into()
    }

    /// Its health, from Passerelle's last calls or syncs.
    async fn status(&self) -> PartnerStatus {
        self.state.status(self.serving.is_some_and(|n| n > 0))
    }

    /// When a call or sync last succeeded.
    async fn last_success(&self) -> Option<DateTime> {
        self.state.last_success.map(DateTime)
    }

    /// The last failure. Needs the scope `region:bi`.
    #[graphql(guard = "RequireScope(\"region:bi\")")]
    async fn last_error(&self) -> Option<PartnerError> {
        self.state.last_error.as_ref().map(|f| PartnerError {
            at: DateTime(f.at),
            code: f.code.to_owned(),
            message: f.message.clone(),
        })
    }

    /// How many records it holds: for a synced partner, those served; for
    /// a live one, as it last said.
    async fn record_count(&self) -> Option<u64> {
        self.serving.or(self.state.record_count)
    }

    /// The last sync, for a synced partner. Needs the scope `region:bi`.
    #[graphql(guard = "RequireScope(\"region:bi\")")]
    async fn last_sync(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SyncOutcome>> {
        let Some(entity) = self.synced else {
            return Ok(None);
        };
        let state = ctx.data::<ApiState>()?;
        Ok(runs(state, self.partner, entity, 1)
            .await?
            .first()
            .map(SyncOutcome::from))
    }

    /// Its last syncs, newest first; none for a live partner. Needs the
    /// scope `region:bi`.
    #[graphql(guard = "RequireScope(\"region:bi\")")]
    async fn syncs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, desc = "How many, 1 to 100.")] last: Option<i32>,
    ) -> async_graphql::Result<Vec<SyncOutcome>> {
        let last = last.unwrap_or(10);
        if !(1..=100).contains(&last) {
            return Err(crate::graphql::common::inputs::invalid(
                "last",
                "from 1 to 100",
            ));
        }
        let Some(entity) = self.synced else {
            return Ok(Vec::new());
        };
        let state = ctx.data::<ApiState>()?;
        Ok(runs(state, self.partner, entity, last as i64)
            .await?
            .iter()
            .map(SyncOutcome::from)
            .collect())
    }
}

/// A partner's failure.
#[derive(SimpleObject)]
pub struct PartnerError {
    /// When.
    at: DateTime,
    /// The error code clients saw.
    code: String,
    /// What happened.
    message: String,
}

/// The outcome of one sync of a feed.
#[derive(SimpleObject)]
pub struct SyncOutcome {
    /// When it started.
    started_at: String,
    /// How long it took.
    duration_ms: i64,
    /// `updated`, `not_modified` or `failed`.
    outcome: String,
    /// Records served after it.
    records: i64,
    /// Records the partner sent that were rejected.
    rejected: i64,
    /// Why some records were rejected (the first hundred).
    rejections: Vec<Rejection>,
    /// What was done to records kept that is not a rejection: an
    /// identifier derived for records without one, a site's calendar
    /// served as last read because it could not be read this time.
    notices: Vec<String>,
    /// Why the sync failed.
    error: Option<String>,
}

/// A partner record that was rejected, and why.
#[derive(SimpleObject, serde::Deserialize)]
pub struct Rejection {
    /// Its position in the partner's payload.
    index: usize,
    /// Its identifier at the partner, when readable.
    partner_id: Option<String>,
    /// The unified field that failed.
    field: String,
    /// Why.
    reason: String,
}

impl From<&crate::store::SyncRun> for SyncOutcome {
    fn from(r: &crate::store::SyncRun) -> Self {
        Self {
            started_at: r.started_at.clone(),
            duration_ms: r.duration_ms,
            outcome: r.outcome.clone(),
            records: r.records,
            rejected: r.rejected,
            rejections: serde_json::from_str(&r.rejects).unwrap_or_default(),
            notices: serde_json::from_str(&r.notes).unwrap_or_default(),
            error: r.error.clone(),
        }
    }
}

/// Offers and partners: part of the root of queries.
#[Object]
impl PartnerQuery {
    /// Every partner system and its health.
    async fn partners(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PartnerInfo>> {
        let state = ctx.data::<ApiState>()?;
        let sizes = state.sources.sizes();
        let mut out = Vec::new();
        for &partner in &state.sources.partners {
            let feeds: Vec<FeedSize> = sizes
                .iter()
                .filter(|f| f.partner == partner)
                .copied()
                .collect();
            let (serving, synced) = match feeds.first() {
                Some(first) => (
                    Some(feeds.iter().map(|f| f.records as u64).sum()),
                    Some(first.entity.name()),
                ),
                None if state.sources.is_live(partner) => (None, None),
                None => continue,
            };
            out.push(PartnerInfo {
                partner,
                state: state.health.state(partner),
                serving,
                synced,
            });
        }
        Ok(out)
    }
}

/// The last syncs of a partner's feed, newest first.
async fn runs(
    state: &ApiState,
    partner: Partner,
    entity: &str,
    last: i64,
) -> async_graphql::Result<Vec<crate::store::SyncRun>> {
    state
        .store
        .runs(partner.id(), entity, last)
        .await
        .map_err(store_failure(&state.store, "the sync history"))
}
