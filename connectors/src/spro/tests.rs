use std::collections::HashSet;

use passerelle_mappings::{EntityKind, MappedBatch};
use passerelle_schema::Event;
use passerelle_schema::{EventKind, SiteKind};

use super::*;
use crate::sandbox::cfas::cfas;
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::{FeedPull, FeedSource};

async fn sim(faults: Faults) -> (SimServer, SproSites, SproEvents) {
    let s = DatasetSettings::default();
    let cfas = cfas(&s);
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&cfas, &s, faults),
    )
    .await
    .unwrap();
    let catalog = crate::Registry::standard().catalog(None).unwrap();
    let site_mapping = catalog.get(crate::spro::PARTNER, EntityKind::Site).unwrap();
    let event_mapping = catalog
        .get(crate::spro::PARTNER, EntityKind::Event)
        .unwrap();
    let config = SproConfig::new(server.base_url().join(simulator::DIRECTORY_PATH).unwrap());
    let policy = std::sync::Arc::new(crate::http::CallPolicy::new(
        crate::spro::PARTNER,
        config.resilience.clone(),
    ));
    let sites = SproSites::new(&config, site_mapping.clone(), policy.clone());
    let events = SproEvents::new(&config, site_mapping, event_mapping, policy);
    (server, sites, events)
}

#[tokio::test]
async fn the_directory_lists_every_kind_of_site() {
    let (_server, sites, _) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, .. } = sites.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected.first());
    let kinds: HashSet<SiteKind> = batch.records.iter().map(|s| s.kind).collect();
    assert_eq!(kinds.len(), 4);
    assert_eq!(
        batch
            .records
            .iter()
            .filter(|s| s.kind == SiteKind::Cfa)
            .count(),
        71
    );
}

#[tokio::test]
async fn every_calendar_is_read_and_an_unchanged_set_is_not_modified() {
    let (_server, _, events) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, etag, .. } = events.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(batch.truncated.is_none());
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected.first());
    let kinds: HashSet<EventKind> = batch.records.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert!(batch.records.iter().any(|e| e.rrule.is_some()));
    assert!(batch.records.iter().any(|e| e.start.is_date()));
    assert!(
        batch.records.iter().any(|e| e.title.contains(", ")),
        "escaped commas are read"
    );
    assert!(matches!(
        events.pull(etag.as_deref()).await.unwrap(),
        FeedPull::NotModified
    ));
}

#[tokio::test]
async fn broken_events_are_rejected_one_by_one() {
    let faults = Faults::default();
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.3),
            ..Default::default()
        })
        .unwrap();
    let (_server, _, events) = sim(faults.clone()).await;
    let FeedPull::Fetched { batch, .. } = events.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(!batch.records.is_empty());
    let mut fields: Vec<_> = batch.rejected.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["end", "record", "rrule", "start"]);
    // The line that is no property refuses its event alone, named.
    let line = batch.rejected.iter().find(|e| e.field == "record").unwrap();
    assert!(
        line.reason
            .contains("\"Entrée côté parking\" has no ':' before a value")
            && line.partner_id.is_some(),
        "{line:?}"
    );
    // The first site's calendar, an HTML page, was never read whole: the
    // pull is partial, so that what is stored of that site is kept.
    let truncated = batch
        .truncated
        .expect("the first site's calendar is unread");
    assert!(
        truncated.to_string().contains("BEGIN:VCALENDAR"),
        "{truncated}"
    );
}

#[tokio::test]
async fn a_calendar_that_cannot_be_read_is_its_site_s_failure_alone() {
    let faults = Faults::default();
    let (_server, _, events) = sim(faults.clone()).await;
    let FeedPull::Fetched { batch: good, .. } = events.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.05),
            ..Default::default()
        })
        .unwrap();
    let FeedPull::Fetched { batch, .. } = events.pull(None).await.unwrap() else {
        panic!("a changed set fetches");
    };
    // Read once, the first site's calendar is served as last read: the
    // pull is whole, the failure a rejection naming the site.
    assert!(batch.truncated.is_none(), "{:?}", batch.truncated);
    let first_site = &good.records[0].site;
    let failure = batch
        .rejected
        .iter()
        .find(|e| e.field == "calendar")
        .expect("the site's failure is noted");
    assert!(
        failure
            .reason
            .contains(&format!("site {first_site} could not be read"))
            && failure.reason.contains("served as last read"),
        "{failure:?}"
    );
    let of_site =
        |b: &MappedBatch<Event>| b.records.iter().filter(|e| &e.site == first_site).count();
    assert!(of_site(&good) > 0);
    assert_eq!(of_site(&batch), of_site(&good));
}

#[tokio::test]
async fn the_shapes_of_real_exports_are_read_and_overrides_join_their_event() {
    use passerelle_schema::{EventStatus, EventTime};
    let (_server, _, events) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, .. } = events.pull(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected.first());
    // One event per UID and site: the cancelled occurrences are overrides.
    let keys: HashSet<(&str, &str)> = batch
        .records
        .iter()
        .map(|e| (e.site.as_str(), e.partner_id.as_str()))
        .collect();
    assert_eq!(keys.len(), batch.records.len());
    assert_eq!(batch.records.len(), 186);
    let overridden: Vec<_> = batch
        .records
        .iter()
        .filter(|e| !e.overrides.is_empty())
        .collect();
    assert!(!overridden.is_empty());
    assert!(overridden
        .iter()
        .all(|e| e.overrides[0].status == EventStatus::Cancelled && e.overrides[0].sequence == 1));
    assert!(batch.records.iter().any(|e| e.duration.is_some()));
    assert!(batch.records.iter().any(|e| !e.exdates.is_empty()));
    assert_eq!(
        batch
            .records
            .iter()
            .filter(|e| e.status == EventStatus::Cancelled)
            .count(),
        1
    );
    // Outlook's Romance Standard Time is Paris.
    let outlook: Vec<_> = batch
        .records
        .iter()
        .filter(|e| e.site.starts_with("ml-"))
        .collect();
    assert!(!outlook.is_empty());
    assert!(outlook.iter().all(|e| match e.start {
        EventTime::DateTime { tz, .. } => tz == chrono_tz::Europe::Paris,
        EventTime::Date { .. } => true,
    }));
}
