//! Events' occurrences: the `Event` type, which events to list, and the
//! pages of occurrences.

use async_graphql::{Context, Enum, InputObject, Object, ID};
use base64::Engine;
use chrono::{Duration, Utc};

use super::query::MAX_WINDOW_DAYS;
use super::sites::OrientationSite;
use crate::domain::events::{occurrences, EventFilter, EventOccurrence, SiteFilter};
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::inputs::{self, page_size};
use crate::graphql::common::near::NearInput;
use crate::graphql::common::scalars::DateTime;
use crate::graphql::common::written::{resolved, Planned, Writer, Written};
use crate::graphql::common::ApiState;

use crate::graphql::common::connection::{b64_of, B64};

/// Kinds of orientation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::EventKind")]
pub enum EventKind {
    /// An open day.
    OpenDay,
    /// A forum.
    Forum,
    /// The Quinzaine de l'apprentissage.
    Quinzaine,
    /// A company visit.
    CompanyVisit,
    /// Anything else.
    Other,
}

/// Whether an event or one of its occurrences takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::EventStatus")]
pub enum EventStatus {
    /// It takes place.
    Confirmed,
    /// It may take place.
    Tentative,
    /// It does not take place.
    Cancelled,
}

/// Which events to list.
#[derive(InputObject, Default)]
#[graphql(name = "EventFilter")]
pub struct EventFilterInput {
    /// Occurrences starting at or after this instant (now by default).
    from: Option<DateTime>,
    /// Occurrences starting before this instant (90 days after `from` by
    /// default; at most 400 days after it).
    to: Option<DateTime>,
    /// At sites of this département.
    departement: Option<String>,
    /// Of this kind.
    kind: Option<EventKind>,
    /// At this site (its identifier in the directory).
    site: Option<String>,
    /// Cancelled occurrences too, with the status `CANCELLED` (false by
    /// default: cancelled events and occurrences are not listed).
    include_cancelled: Option<bool>,
    /// At sites around a place: a commune or a position, with a radius.
    near: Option<NearInput>,
    /// Words to find in the occurrence's title, description or kind, or
    /// its site's name or place, read as `OfferFilter.text` reads them (a
    /// town named is a place within 20 km), at most 200 characters.
    text: Option<String>,
}

impl EventFilterInput {
    /// Checks the filter.
    pub fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<EventFilter> {
        let from = self.from.map_or_else(Utc::now, |d| d.0);
        let to = self.to.map_or(from + Duration::days(90), |d| d.0);
        if to <= from {
            return Err(inputs::invalid("filter.to", "must be after from"));
        }
        if to - from > Duration::days(MAX_WINDOW_DAYS) {
            return Err(inputs::invalid(
                "filter.to",
                format!("the window is at most {MAX_WINDOW_DAYS} days"),
            ));
        }
        Ok(EventFilter {
            from,
            to,
            kind: self.kind.map(Into::into),
            site: self.site,
            sites: SiteFilter {
                departement: inputs::departement(ctx, "filter.departement", self.departement)?,
                near: self.near.map(|n| n.parse("filter.near")).transpose()?,
                ..SiteFilter::default()
            },
            include_cancelled: self.include_cancelled.unwrap_or(false),
            text: inputs::words("filter.text", self.text)?,
        })
    }
}

/// One occurrence of an orientation event.
pub struct EventNode(pub EventOccurrence);

fn cursor(o: &EventOccurrence) -> String {
    b64_of(format_args!(
        "e1|{}|{}",
        o.occurrence.start.timestamp(),
        o.event.partner_id
    ))
}

impl EventNode {
    /// The event, or the override of this occurrence, that describes it.
    fn details(&self) -> &passerelle_schema::Event {
        self.0.event.details(&self.0.occurrence)
    }
}

/// One occurrence of an orientation event: a recurring open day gives one
/// per date.
#[Object(name = "Event")]
impl EventNode {
    /// The occurrence's global identifier (`node(id)`): the event's and
    /// its start. Before, `id` was the partner's identifier and the start
    /// (`E-1@1795000000`).
    pub(crate) async fn id(&self) -> ID {
        ID(GlobalId::Event {
            partner: self.0.event.partner,
            partner_id: self.0.event.partner_id.clone(),
            start: self.0.occurrence.start.timestamp(),
        }
        .encode())
    }

    /// The event's identifier at its partner, the same for all its
    /// occurrences.
    async fn partner_id(&self) -> &str {
        &self.0.event.partner_id
    }

    /// Its title.
    async fn title(&self) -> &str {
        &self.details().title
    }

    /// What it is about.
    async fn description(&self) -> Option<&str> {
        self.details().description.as_deref()
    }

    /// Its kind.
    async fn kind(&self) -> EventKind {
        self.0.event.kind.into()
    }

    /// The partner's own word for its kind, as its calendar gives it
    /// (`Salon` for an `OTHER` the mapping does not know).
    async fn kind_label(&self) -> Option<&str> {
        self.0.event.kind_label.as_deref()
    }

    /// Whether it takes place: `CANCELLED` occurrences are listed only
    /// when the filter asks for them.
    async fn status(&self) -> EventStatus {
        self.0.occurrence.status.into()
    }

    /// When it starts.
    async fn start(&self) -> DateTime {
        DateTime(self.0.occurrence.start)
    }

    /// When it ends (exclusive): by its end or its duration, or by default
    /// at the end of its day for an all-day event and at its start for
    /// another.
    async fn end(&self) -> DateTime {
        DateTime(self.0.occurrence.end)
    }

    /// Whether it lasts whole days.
    async fn all_day(&self) -> bool {
        self.0.occurrence.all_day
    }

    /// Whether it is one date of a recurring event.
    async fn recurring(&self) -> bool {
        self.0.event.is_recurring()
    }

    /// Where it takes place.
    async fn location(&self) -> Option<&str> {
        self.details().location.as_deref()
    }

    /// The site holding it.
    async fn site(&self) -> Option<OrientationSite> {
        self.0.site.clone().map(OrientationSite)
    }
}

/// A page of event occurrences, soonest first.
pub type EventConnection = crate::graphql::common::connection::Connection<EventNode>;
connection_types!(EventNode, "EventConnection", "EventEdge");

/// Lists the occurrences of events, paged.
pub fn event_page(
    state: &ApiState,
    filter: &EventFilter,
    first: i32,
    after: Option<String>,
) -> async_graphql::Result<EventConnection> {
    let first = page_size(first, state.limits.max_page_size)?;
    let items = occurrences(&state.sources.events, &state.sources.sites, filter);
    occurrence_page(items, first, after)
}

/// The page of `first` occurrences of `items` after the cursor `after`.
pub fn occurrence_page(
    items: Vec<EventOccurrence>,
    first: usize,
    after: Option<String>,
) -> async_graphql::Result<EventConnection> {
    let start = match after {
        Some(a) => {
            let c = B64
                .decode(a.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|s| s.starts_with("e1|"))
                .ok_or_else(|| {
                    ErrorCode::InvalidCursor.error("after is not a cursor of this list")
                })?;
            items
                .iter()
                .position(|o| cursor(o) == B64.encode(&c))
                .map_or(items.len(), |i| i + 1)
        }
        None => 0,
    };
    let end = (start + first).min(items.len());
    Ok(EventConnection::new(
        items.len(),
        start,
        items[start..end].iter().cloned().map(EventNode),
        |i| cursor(&items[i]),
    ))
}

impl Written for EventNode {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "id" => w.str(&resolved!(w, self.id)),
            "partnerId" => w.str(resolved!(w, self.partner_id)),
            "title" => w.str(resolved!(w, self.title)),
            "description" => w.opt_str(resolved!(w, self.description)),
            "kind" => w.leaf(&resolved!(w, self.kind), f),
            "kindLabel" => w.opt_str(resolved!(w, self.kind_label)),
            "status" => w.leaf(&resolved!(w, self.status), f),
            "start" => w.leaf(&resolved!(w, self.start), f),
            "end" => w.leaf(&resolved!(w, self.end), f),
            "allDay" => w.put(resolved!(w, self.all_day)),
            "recurring" => w.put(resolved!(w, self.recurring)),
            "location" => w.opt_str(resolved!(w, self.location)),
            _ => None,
        }
    }
}
