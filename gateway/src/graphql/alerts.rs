//! Offers pushed to candidates in the API: the `offerPublished`
//! subscription, and the saved alerts a partner frontend registers for its
//! candidates (scope `alerts:write`, each client seeing its own alone).

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, Subscription, ID};
use futures::{Stream, StreamExt};
use passerelle_schema::{Near, Offer};
use tokio_util::sync::CancellationToken;

use super::errors::{ErrorCode, RequireScope};
use super::ids::GlobalId;
use super::inputs::invalid;
use super::query::OfferFilterInput;
use super::scalars::DateTime;
use super::types::OfferNode;
use super::ApiState;
use crate::domain::alerts::saved::Digest;
use crate::domain::alerts::webhook::{new_secret, TargetGuard};
use crate::domain::offers::OfferFilter;
use crate::store::alerts::{AlertRow, DeliveryRow};

/// The scope saved alerts need.
const SCOPE: &str = "alerts:write";

/// The most alerts one client keeps.
const MAX_ALERTS_PER_CLIENT: usize = 100_000;

/// What the API needs to push offers: the live subscribers and the guard
/// of webhook targets.
pub struct Alerting {
    /// The live subscribers of this process.
    pub live: Arc<crate::domain::alerts::live::LiveSubscribers>,
    /// Which webhook targets are allowed.
    pub guard: TargetGuard,
}

/// The connection a subscription is served on: cancelled to close it
/// (a subscriber too slow to read is cut off).
#[derive(Clone, Default)]
pub struct ConnectionCloser(pub CancellationToken);

/// A new offer, as a subscription tells of it.
pub struct OfferPublished {
    offer: Arc<Offer>,
    near: Option<Near>,
}

/// A new offer matching a subscription's filter.
#[Object]
impl OfferPublished {
    /// The offer.
    async fn offer(&self) -> OfferNode {
        OfferNode(self.offer.clone())
    }

    /// The distance from the centre of `filter.near` to the workplace's
    /// commune, in kilometres; null without `near`.
    async fn distance_km(&self) -> Option<f64> {
        self.near
            .and_then(|n| n.distance_to(&self.offer.location.commune))
            .map(|d| (d * 1000.0).round() / 1000.0)
    }
}

/// The root of subscriptions.
#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The new offers matching `filter`, as the gateway detects them: an
    /// offer is told once, when first published on any exchange (an offer
    /// on two exchanges is one offer). Served over graphql-ws on
    /// `/graphql` and over Server-Sent Events (graphql-sse) on
    /// `/graphql/stream`.
    async fn offer_published(
        &self,
        ctx: &Context<'_>,
        filter: Option<OfferFilterInput>,
    ) -> async_graphql::Result<impl Stream<Item = OfferPublished>> {
        let state = ctx.data::<ApiState>()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let near = filter.near;
        let closer = ctx
            .data_opt::<ConnectionCloser>()
            .cloned()
            .unwrap_or_default();
        let subscription = state.alerting.live.subscribe(filter, closer.0);
        Ok(subscription.map(move |offer| OfferPublished { offer, near }))
    }
}

/// How an alert's offers are delivered.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AlertDigest {
    /// A delivery as soon as new offers match.
    Immediate,
    /// One delivery a day, of the previous day's offers.
    Daily,
}

impl From<AlertDigest> for Digest {
    fn from(d: AlertDigest) -> Self {
        match d {
            AlertDigest::Immediate => Digest::Immediate,
            AlertDigest::Daily => Digest::Daily,
        }
    }
}

/// A candidate's alert to save.
#[derive(InputObject)]
pub struct CreateOfferAlertInput {
    /// Your reference of the candidate (not a name or an e-mail address:
    /// Passerelle needs none), sent back in each delivery.
    candidate_ref: String,
    /// The offers to tell of, as `offers` takes it.
    filter: OfferFilterInput,
    /// Where deliveries are POSTed (http or https; not a private address).
    webhook_url: String,
    /// How often.
    #[graphql(default_with = "AlertDigest::Immediate")]
    digest: AlertDigest,
}

/// A saved alert.
pub struct OfferAlert {
    row: AlertRow,
    secret: Option<String>,
}

/// A candidate's saved alert.
#[Object]
impl OfferAlert {
    /// Its identifier.
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }

    /// Your reference of the candidate.
    async fn candidate_ref(&self) -> &str {
        &self.row.candidate_ref
    }

    /// Where deliveries go.
    async fn webhook_url(&self) -> &str {
        &self.row.webhook_url
    }

    /// How often.
    async fn digest(&self) -> AlertDigest {
        match Digest::parse(&self.row.digest) {
            Some(Digest::Daily) => AlertDigest::Daily,
            _ => AlertDigest::Immediate,
        }
    }

    /// The filter, as JSON of the `offers` filter.
    async fn filter(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(serde_json::from_str(&self.row.filter).unwrap_or_default())
    }

    /// Whether deliveries are made; an alert whose receiver answered 410
    /// is disabled.
    async fn active(&self) -> bool {
        self.row.active
    }

    /// Why it was disabled.
    async fn disabled_reason(&self) -> Option<&str> {
        self.row.disabled_why.as_deref()
    }

    /// When it was created.
    async fn created_at(&self) -> Option<DateTime> {
        chrono::DateTime::from_timestamp_micros(self.row.created_us).map(DateTime)
    }

    /// The secret deliveries are signed with (Standard Webhooks,
    /// `whsec_…`): given once, in `createOfferAlert`'s answer; null after.
    async fn signing_secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    /// Its deliveries, newest first: pending, delivered, and those
    /// dead-lettered after a day of failures.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: i32,
    ) -> async_graphql::Result<Vec<Delivery>> {
        let state = ctx.data::<ApiState>()?;
        let rows = state
            .store
            .deliveries_of(&self.row.id, i64::from(first.clamp(1, 100)))
            .await
            .map_err(store_error)?;
        Ok(rows.into_iter().map(Delivery::from).collect())
    }
}

/// One delivery of an alert's webhook.
#[derive(SimpleObject)]
pub struct Delivery {
    /// Its `webhook-id`, the same at every attempt.
    id: String,
    /// `PENDING`, `DELIVERED`, `DEAD` (dead-lettered) or `CANCELLED`.
    state: String,
    /// How many offers it carries.
    offers: i64,
    /// Attempts made.
    attempts: i64,
    /// When it was written.
    created_at: Option<DateTime>,
    /// When it is tried next, while pending.
    next_attempt_at: Option<DateTime>,
    /// The receiver's last HTTP status.
    last_status: Option<i64>,
    /// The last failure.
    last_error: Option<String>,
    /// When it was delivered.
    delivered_at: Option<DateTime>,
}

impl From<DeliveryRow> for Delivery {
    fn from(d: DeliveryRow) -> Self {
        let at = |us: i64| chrono::DateTime::from_timestamp_micros(us).map(DateTime);
        Self {
            state: d.state.to_ascii_uppercase(),
            next_attempt_at: (d.state == "pending").then(|| at(d.due_us)).flatten(),
            created_at: at(d.created_us),
            delivered_at: d.delivered_us.and_then(at),
            id: d.id,
            offers: d.offers,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
        }
    }
}

fn store_error(e: crate::store::StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "alerts unreadable");
    ErrorCode::Internal.error("the alerts are unavailable")
}

/// The client a caller acts as: its token's subject.
fn owner(ctx: &Context<'_>) -> async_graphql::Result<String> {
    ctx.data_opt::<crate::auth::Caller>()
        .and_then(|c| c.subject.clone())
        .ok_or_else(|| ErrorCode::Forbidden.error("saved alerts need a client's token"))
}

/// Saved alerts: part of the root of queries.
#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// Your saved alerts, oldest first. Needs the scope `alerts:write`.
    #[graphql(guard = "RequireScope(SCOPE)", requires_scopes = "alerts:write")]
    async fn offer_alerts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OfferAlert>> {
        let state = ctx.data::<ApiState>()?;
        let rows = state
            .store
            .alerts_of(&owner(ctx)?)
            .await
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|row| OfferAlert { row, secret: None })
            .collect())
    }

    /// One of your saved alerts. Needs the scope `alerts:write`.
    #[graphql(guard = "RequireScope(SCOPE)", requires_scopes = "alerts:write")]
    async fn offer_alert(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<OfferAlert>> {
        let state = ctx.data::<ApiState>()?;
        let owner = owner(ctx)?;
        let row = state.store.alert(&id).await.map_err(store_error)?;
        Ok(row
            .filter(|r| r.client_id == owner)
            .map(|row| OfferAlert { row, secret: None }))
    }
}

/// Saved alerts: part of the root of mutations.
#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Saves a candidate's alert: the new offers `filter` matches are
    /// POSTed to `webhookUrl`, signed with the secret answered here once.
    /// Needs the scope `alerts:write`.
    #[graphql(guard = "RequireScope(SCOPE)", requires_scopes = "alerts:write")]
    async fn create_offer_alert(
        &self,
        ctx: &Context<'_>,
        input: CreateOfferAlertInput,
    ) -> async_graphql::Result<OfferAlert> {
        let state = ctx.data::<ApiState>()?;
        let owner = owner(ctx)?;
        let candidate_ref = input.candidate_ref.trim().to_owned();
        if candidate_ref.is_empty() || candidate_ref.len() > 200 {
            return Err(invalid("input.candidateRef", "give 1 to 200 characters"));
        }
        let filter: OfferFilter = input.filter.parse(ctx)?;
        if input.webhook_url.len() > 2000 {
            return Err(invalid("input.webhookUrl", "longer than 2,000 characters"));
        }
        let url = state
            .alerting
            .guard
            .check(&input.webhook_url)
            .await
            .map_err(|e| invalid("input.webhookUrl", e))?;
        let held = state.store.alerts_of(&owner).await.map_err(store_error)?;
        if held.len() >= MAX_ALERTS_PER_CLIENT {
            return Err(ErrorCode::InvalidInput.error(format!(
                "a client keeps {MAX_ALERTS_PER_CLIENT} alerts at most: delete some first"
            )));
        }
        let secret = new_secret();
        let mut id = [0u8; 12];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id)
            .map_err(|_| ErrorCode::Internal.error("no random source"))?;
        let row = AlertRow {
            id: format!("alrt_{}", hex::encode(id)),
            client_id: owner,
            candidate_ref,
            filter: serde_json::to_string(&filter).expect("a filter serializes"),
            webhook_url: url.to_string(),
            secret: secret.clone(),
            digest: Digest::from(input.digest).name().to_owned(),
            active: true,
            disabled_why: None,
            created_us: crate::domain::alerts::now_us(),
        };
        state.store.create_alert(&row).await.map_err(store_error)?;
        Ok(OfferAlert {
            row,
            secret: Some(secret),
        })
    }

    /// Deletes one of your alerts, and its deliveries not yet made; false
    /// when you have no such alert. Needs the scope `alerts:write`.
    #[graphql(guard = "RequireScope(SCOPE)", requires_scopes = "alerts:write")]
    async fn delete_offer_alert(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let state = ctx.data::<ApiState>()?;
        state
            .store
            .delete_alert(&owner(ctx)?, &id)
            .await
            .map_err(store_error)
    }
}

/// How a webhook shows an offer: its global identifier, what a candidate
/// reads first, and where to apply.
pub fn webhook_offer(o: &Offer) -> serde_json::Value {
    let commune = &o.location.commune;
    serde_json::json!({
        "id": GlobalId::of_offer(o).encode(),
        "title": o.title,
        "employer": o.employer.name,
        "commune": { "code": commune.as_str(), "name": commune.name() },
        "romeCodes": o.rome_codes.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "level": o.level.map(|l| l.get()),
        "startDate": o.start_date,
        "publishedAt": o.published_at,
        "sources": o.sources.iter().map(|s| serde_json::json!({
            "partner": s.partner.info().api_name,
            "partnerId": s.partner_id.as_str(),
            "url": s.url.as_deref(),
        })).collect::<Vec<_>>(),
    })
}
