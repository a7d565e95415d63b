//! Orientation events and sites, with recurring events expanded in the
//! window asked for.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, DurationRound, Utc};
use passerelle_schema::{
    Departement, Event, EventKind, EventStatus, InseeCommune, Near, Occurrence, OrientationSite,
    Partner, SiteKind, Uai,
};

use crate::domain::words::{Said, Words};
use crate::partners::derived::{Derived, Same};
use crate::partners::sync::{record_at, Snapshot, SyncedFeed};

/// A directory of sites.
pub type SitesFeed = SyncedFeed<OrientationSite>;
/// A feed of events.
pub type EventsFeed = SyncedFeed<Event>;

/// Which sites to list; every part must hold.
#[derive(Debug, Clone, Default)]
pub struct SiteFilter {
    /// In this département.
    pub departement: Option<Departement>,
    /// In this commune.
    pub commune: Option<InseeCommune>,
    /// Of this kind.
    pub kind: Option<SiteKind>,
    /// The site of the CFA with this UAI.
    pub uai: Option<Uai>,
    /// Around this place.
    pub near: Option<Near>,
}

impl SiteFilter {
    /// Whether a site matches.
    pub fn matches(&self, s: &OrientationSite) -> bool {
        self.departement
            .as_ref()
            .is_none_or(|d| s.commune.departement() == *d)
            && self.commune.as_ref().is_none_or(|c| *c == s.commune)
            && self.kind.is_none_or(|k| k == s.kind)
            && self.uai.as_ref().is_none_or(|u| s.uai.as_ref() == Some(u))
            && self.near.is_none_or(|n| n.holds(&s.commune))
    }

    /// Whether the filter asks anything of a site.
    fn restricts(&self) -> bool {
        self.departement.is_some()
            || self.commune.is_some()
            || self.kind.is_some()
            || self.uai.is_some()
            || self.near.is_some()
    }
}

/// Which event occurrences to list.
#[derive(Debug, Clone)]
pub struct EventFilter {
    /// Starting at or after.
    pub from: DateTime<Utc>,
    /// Starting before.
    pub to: DateTime<Utc>,
    /// Of this kind.
    pub kind: Option<EventKind>,
    /// At this site.
    pub site: Option<String>,
    /// At sites matching this.
    pub sites: SiteFilter,
    /// Cancelled occurrences too (cancelled events' and overrides').
    pub include_cancelled: bool,
    /// With these words (see [`crate::domain::words`]), folded, in the
    /// title, description or kind of the occurrence, or its site's name or
    /// place.
    pub text: Option<String>,
}

impl EventFilter {
    /// Whether an occurrence of `event` described by `details` (the event,
    /// or the occurrence's own override) at `site` has the filter's words.
    fn has_text<'e>(
        &self,
        details: impl FnOnce() -> &'e Event,
        site: Option<&OrientationSite>,
    ) -> bool {
        let Some(words) = self.text.as_deref().and_then(Words::cached) else {
            return true;
        };
        let details = details();
        words.matches(&Said {
            title: &details.title,
            body: [
                details.description.as_deref(),
                details.kind_label.as_deref(),
                site.map(|s| s.name.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect(),
            places: Said::places_of(site.map(|s| &s.commune)),
            communes: site.map(|s| s.commune.as_str()).into_iter().collect(),
            ..Said::default()
        })
    }
}

/// One occurrence of an event, with its site.
#[derive(Debug, Clone)]
pub struct EventOccurrence {
    /// The event.
    pub event: Arc<Event>,
    /// The site, when the directory knows it.
    pub site: Option<Arc<OrientationSite>>,
    /// The occurrence.
    pub occurrence: Occurrence,
}

/// The occurrences of the events of every feed matching `filter`, soonest
/// first; a cancelled one only when the filter asks for them. An event's
/// site is looked up in its partner's directory.
pub fn occurrences(
    events: &[Arc<EventsFeed>],
    sites: &[Arc<SitesFeed>],
    filter: &EventFilter,
) -> Vec<EventOccurrence> {
    let mut out = Vec::new();
    for feed in events {
        let directory = sites
            .iter()
            .find(|s| s.partner() == feed.partner())
            .map(|s| s.snapshot());
        let snapshot = feed.snapshot();
        // Kept for today only: a window elsewhere is expanded for itself,
        // not kept in place of today's.
        match Coming::holds(filter).then(|| Coming::of(&snapshot, directory.as_ref(), Utc::now())) {
            Some(coming) if coming.covers(filter) => coming.of_site(filter, &mut out),
            _ => occurrences_of(&snapshot, directory.as_deref(), filter, &mut out),
        }
    }
    sort(&mut out);
    out
}

/// The occurrence of `partner`'s event `partner_id` that starts at
/// `start`, cancelled or not, with its site.
pub fn occurrence(
    events: &[Arc<EventsFeed>],
    sites: &[Arc<SitesFeed>],
    partner: Partner,
    partner_id: &str,
    start: DateTime<Utc>,
) -> Option<EventOccurrence> {
    let event = record_at(events, partner, partner_id)?;
    let occurrence = event
        .occurrences(start, start + chrono::Duration::seconds(1))
        .into_iter()
        .find(|o| o.start == start)?;
    let site = record_at(sites, partner, &event.site);
    Some(EventOccurrence {
        event,
        site,
        occurrence,
    })
}

/// A feed's events by site, in the feed's order.
struct EventsBySite(HashMap<String, Vec<Arc<Event>>>);

impl EventsBySite {
    fn of(events: &Snapshot<Event>) -> Self {
        let mut by_site: HashMap<String, Vec<Arc<Event>>> = HashMap::new();
        for e in &events.records {
            by_site.entry(e.site.clone()).or_default().push(e.clone());
        }
        Self(by_site)
    }
}

/// How many days of occurrences are kept expanded by site, from the start
/// of the day they are expanded on: a year from any instant of that day.
const COMING_DAYS: i64 = 367;

/// The occurrences of a feed's events by site, soonest first, that start
/// within a window of days: what a CFA's `events` and `nextOpenDay` read,
/// expanded once per snapshot of the events, of their directory and per
/// day, rather than event by event at every request.
struct Coming {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by_site: HashMap<String, Vec<EventOccurrence>>,
}

/// The day and the directory the occurrences kept were expanded for.
type ComingKey = (DateTime<Utc>, Option<Same<Snapshot<OrientationSite>>>);

impl Coming {
    /// Whether the occurrences kept answer a filter of this form: one
    /// site's, whatever their words or their site's.
    fn holds(filter: &EventFilter) -> bool {
        filter.site.is_some() && filter.text.is_none() && !filter.sites.restricts()
    }

    /// The occurrences of `events` kept for the day of `at`, with sites
    /// from `directory`.
    fn of(
        events: &Snapshot<Event>,
        directory: Option<&Arc<Snapshot<OrientationSite>>>,
        at: DateTime<Utc>,
    ) -> Arc<Self> {
        let day = at.duration_trunc(chrono::TimeDelta::days(1)).unwrap_or(at);
        let key: ComingKey = (day, directory.cloned().map(Same));
        let kept = events.derived(|_| Derived::<ComingKey, Self>::default());
        kept.get(key, || Self::expand(events, directory.map(|d| &**d), day))
    }

    fn expand(
        events: &Snapshot<Event>,
        directory: Option<&Snapshot<OrientationSite>>,
        from: DateTime<Utc>,
    ) -> Self {
        let to = from + chrono::TimeDelta::days(COMING_DAYS);
        let by_site = events
            .derived(EventsBySite::of)
            .0
            .iter()
            .map(|(site, events)| {
                let filter = EventFilter {
                    from,
                    to,
                    kind: None,
                    site: Some(site.clone()),
                    sites: SiteFilter::default(),
                    include_cancelled: true,
                    text: None,
                };
                let mut out = Vec::new();
                occurrences_among(events, directory, &filter, &mut out);
                sort(&mut out);
                (site.clone(), out)
            })
            .collect();
        Self { from, to, by_site }
    }

    /// Whether the window of `filter` is within the one kept.
    fn covers(&self, filter: &EventFilter) -> bool {
        self.from <= filter.from && filter.to <= self.to
    }

    /// The occurrences of the site of `filter` in its window, of its kind,
    /// cancelled ones if it asks, into `out`.
    fn of_site(&self, filter: &EventFilter, out: &mut Vec<EventOccurrence>) {
        let Some(list) = filter.site.as_ref().and_then(|s| self.by_site.get(s)) else {
            return;
        };
        let first = list.partition_point(|o| o.occurrence.start < filter.from);
        out.extend(
            list[first..]
                .iter()
                .take_while(|o| o.occurrence.start < filter.to)
                .filter(|o| filter.kind.is_none_or(|k| k == o.event.kind))
                .filter(|o| {
                    filter.include_cancelled || o.occurrence.status != EventStatus::Cancelled
                })
                .cloned(),
        );
    }
}

/// Occurrences soonest first, then by their event's identifier.
fn sort(out: &mut [EventOccurrence]) {
    out.sort_by(|a, b| {
        a.occurrence
            .start
            .cmp(&b.occurrence.start)
            .then_with(|| a.event.partner_id.cmp(&b.event.partner_id))
    });
}

/// The occurrences of the events of one feed matching `filter`, into `out`;
/// those of one site read from the snapshot's index of events by site.
fn occurrences_of(
    events: &Snapshot<Event>,
    sites: Option<&Snapshot<OrientationSite>>,
    filter: &EventFilter,
    out: &mut Vec<EventOccurrence>,
) {
    let by_site;
    let records = match &filter.site {
        Some(site) => {
            by_site = events.derived(EventsBySite::of);
            by_site.0.get(site).map_or(&[][..], Vec::as_slice)
        }
        None => &events.records[..],
    };
    occurrences_among(records, sites, filter, &mut *out);
}

/// The occurrences of `records` matching `filter`, into `out`.
fn occurrences_among(
    records: &[Arc<Event>],
    sites: Option<&Snapshot<OrientationSite>>,
    filter: &EventFilter,
    out: &mut Vec<EventOccurrence>,
) {
    for e in records {
        if filter.kind.is_some_and(|k| k != e.kind)
            || filter.site.as_deref().is_some_and(|s| s != e.site)
        {
            continue;
        }
        let site = sites.and_then(|s| s.get(&e.site)).cloned();
        if filter.sites.restricts() && !site.as_ref().is_some_and(|s| filter.sites.matches(s)) {
            continue;
        }
        for occurrence in e.occurrences(filter.from, filter.to) {
            if !filter.include_cancelled && occurrence.status == EventStatus::Cancelled {
                continue;
            }
            if !filter.has_text(|| e.details(&occurrence), site.as_deref()) {
                continue;
            }
            out.push(EventOccurrence {
                event: e.clone(),
                site: site.clone(),
                occurrence,
            });
        }
    }
}
