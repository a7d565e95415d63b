//! Orientation events and sites, with recurring events expanded in the
//! window asked for.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use passerelle_schema::{
    Departement, Event, EventKind, EventStatus, InseeCommune, Near, Occurrence, OrientationSite,
    Partner, SiteKind, Uai,
};

use crate::domain::words::{Said, Words};
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
        occurrences_of(&feed.snapshot(), directory.as_deref(), filter, &mut out);
    }
    out.sort_by(|a, b| {
        a.occurrence
            .start
            .cmp(&b.occurrence.start)
            .then_with(|| a.event.partner_id.cmp(&b.event.partner_id))
    });
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
