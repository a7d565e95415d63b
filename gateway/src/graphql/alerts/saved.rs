//! Saved alerts (scope `alerts:write`, each client seeing its own alone):
//! created, listed and deleted, with their webhook deliveries, and how a
//! webhook shows an offer.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use base64::Engine;
use passerelle_schema::Offer;

use super::bounds::bounded;
use crate::domain::alerts::saved::Digest;
use crate::domain::alerts::webhook::new_secret;
use crate::domain::offers::OfferFilter;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::connection::{b64_of, Connection, B64};
use crate::graphql::common::errors::{store_failure, ErrorCode, RequireScope};
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::inputs::{invalid, page_size};
use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::scalars::DateTime;
use crate::graphql::common::ApiState;
use crate::graphql::offers::OfferFilterInput;
use crate::store::alerts::{AlertRow, DeliveryRow};

/// The scope saved alerts need.
const SCOPE: &str = "alerts:write";

/// The largest page of `offerAlerts`.
const MAX_ALERTS_PAGE: usize = 100;

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

/// A page of saved alerts.
pub type OfferAlertConnection = Connection<OfferAlert>;
connection_types!(OfferAlert, "OfferAlertConnection", "OfferAlertEdge");

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
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<Delivery>> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let rows = state
            .store
            .deliveries_of(&self.row.id, i64::from(first.clamp(1, 100)))
            .await
            .map_err(store_failure(&state.store, "the alerts"))?;
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
    /// Your saved alerts, oldest first, a page at a time. Needs the scope
    /// `alerts:write`.
    #[graphql(guard = "RequireScope(SCOPE)", requires_scopes = "alerts:write")]
    async fn offer_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, at most 100.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before.")] after: Option<String>,
    ) -> async_graphql::Result<OfferAlertConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let owner = owner(ctx)?;
        let first = page_size(first, MAX_ALERTS_PAGE)?;
        let position = after.as_deref().map(alert_position).transpose()?;
        let mut rows = state
            .store
            .alerts_page(
                &owner,
                position.as_ref().map(|(at, id)| (*at, id.as_str())),
                first as i64 + 1,
            )
            .await
            .map_err(store_failure(&state.store, "the alerts"))?;
        let has_next_page = rows.len() > first;
        rows.truncate(first);
        let total = state
            .store
            .count_alerts(&owner)
            .await
            .map_err(store_failure(&state.store, "the alerts"))?;
        let page_info = PageInfo {
            has_next_page,
            has_previous_page: position.is_some(),
            start_cursor: rows.first().map(alert_cursor),
            end_cursor: rows.last().map(alert_cursor),
        };
        let edges = rows
            .into_iter()
            .map(|row| (alert_cursor(&row), OfferAlert { row, secret: None }))
            .collect();
        Ok(OfferAlertConnection::of_edges(
            usize::try_from(total).unwrap_or(0),
            page_info,
            edges,
        ))
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
        let row = state
            .store
            .alert(&id)
            .await
            .map_err(store_failure(&state.store, "the alerts"))?;
        Ok(row
            .filter(|r| r.client_id == owner)
            .map(|row| OfferAlert { row, secret: None }))
    }
}

/// The cursor of an alert in `offerAlerts`: its creation time and
/// identifier.
fn alert_cursor(row: &AlertRow) -> String {
    b64_of(format_args!("{}\u{1f}{}", row.created_us, row.id))
}

/// Where a cursor of `offerAlerts` stands.
fn alert_position(cursor: &str) -> async_graphql::Result<(i64, String)> {
    B64.decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (at, id) = s.split_once('\u{1f}')?;
            Some((at.parse().ok()?, id.to_owned()))
        })
        .ok_or_else(|| ErrorCode::InvalidCursor.error("after: not a cursor of this list"))
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
        bounded("input.filter", &input.filter)?;
        let filter: OfferFilter = input.filter.parse(ctx)?;
        if input.webhook_url.len() > 2000 {
            return Err(invalid("input.webhookUrl", "longer than 2,000 characters"));
        }
        let max = state.alerting.max_per_client;
        let held = state
            .store
            .count_alerts(&owner)
            .await
            .map_err(store_failure(&state.store, "the alerts"))?;
        if usize::try_from(held).unwrap_or(usize::MAX) >= max {
            return Err(ErrorCode::TooManyAlerts.error(format!(
                "a client keeps {max} saved alerts at most: delete some first"
            )));
        }
        let url = state
            .alerting
            .guard
            .check(&input.webhook_url)
            .await
            .map_err(|e| {
                tracing::info!(client = %owner, detail = %e.detail(), "a webhook target was refused");
                invalid("input.webhookUrl", e)
            })?;
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
        state
            .store
            .create_alert(&row)
            .await
            .map_err(store_failure(&state.store, "the alerts"))?;
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
            .map_err(store_failure(&state.store, "the alerts"))
    }
}

/// How a webhook shows an offer: its global identifier, what a candidate
/// reads first, and where to apply.
pub fn webhook_offer(o: &Offer) -> serde_json::Value {
    let commune = &o.location.commune;
    serde_json::json!({
        "id": GlobalId::encode_offer(o),
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
