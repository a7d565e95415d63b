//! Occurrences of events expanded in their zones: rules as calendar
//! software writes them, durations, added, skipped and overridden
//! occurrences, cancellations, and versions gathered.

use chrono::{DateTime, Utc};

use super::rule_set;
use crate::event::{Event, EventDuration, EventKind, EventPeriod, EventStatus, EventTime};
use crate::partner::examples;

fn paris(t: &str) -> EventTime {
    EventTime::parse_ical(t, Some("Europe/Paris")).unwrap()
}

fn event(start: &str, rrule: Option<&str>) -> Event {
    Event {
        partner: examples::partner("cci"),
        partner_id: "e".into(),
        site: "s".into(),
        title: "Portes ouvertes".into(),
        description: None,
        kind: EventKind::OpenDay,
        kind_label: None,
        start: paris(start),
        end: Some(paris("20270306T160000")),
        duration: None,
        status: EventStatus::Confirmed,
        rrule: rrule.map(str::to_owned),
        rdates: Vec::new(),
        periods: Vec::new(),
        this_and_future: false,
        exdates: Vec::new(),
        recurrence_id: None,
        sequence: 0,
        overrides: Vec::new(),
        location: None,
        url: None,
        read_rule: Default::default(),
    }
}

fn starts(e: &Event, from: &str, to: &str) -> Vec<String> {
    e.occurrences(from.parse().unwrap(), to.parse().unwrap())
        .iter()
        .map(|o| o.start.to_rfc3339())
        .collect()
}

#[test]
fn ical_times_are_read_in_their_zone() {
    let t = EventTime::parse_ical("20270306T100000", Some("Europe/Paris")).unwrap();
    assert_eq!(t.instant().to_rfc3339(), "2027-03-06T09:00:00+00:00");
    let d = EventTime::parse_ical("20270306", None).unwrap();
    assert!(d.is_date());
    assert!(EventTime::parse_ical("2027-03-06", None).is_err());
    assert!(EventTime::parse_ical("20270306T100000", Some("Mars/Olympus")).is_err());
}

#[test]
fn recurring_open_days_are_expanded_within_the_window_across_dst() {
    // First Saturday of each month, four times: March to June 2027.
    let e = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=1SA;COUNT=4"));
    let from = "2027-03-01T00:00:00Z".parse().unwrap();
    let to = "2027-12-31T00:00:00Z".parse().unwrap();
    let all = e.occurrences(from, to);
    let starts: Vec<String> = all.iter().map(|o| o.start.to_rfc3339()).collect();
    // 10:00 in Paris: 09:00 UTC in winter, 08:00 UTC in summer.
    assert_eq!(
        starts,
        [
            "2027-03-06T09:00:00+00:00",
            "2027-04-03T08:00:00+00:00",
            "2027-05-01T08:00:00+00:00",
            "2027-06-05T08:00:00+00:00"
        ]
    );
    assert_eq!(all[0].end - all[0].start, chrono::Duration::hours(6));
    let april = e.occurrences(
        "2027-04-01T00:00:00Z".parse().unwrap(),
        "2027-05-01T00:00:00Z".parse().unwrap(),
    );
    assert_eq!(april.len(), 1);
}

#[test]
fn windows_read_from_an_earlier_expansion_are_those_of_a_fresh_one() {
    // A weekly rule, and one cut short at the most occurrences (twice a
    // day gives 800 in the 400 days expanded at once).
    for rule in ["FREQ=WEEKLY;BYDAY=WE", "FREQ=HOURLY;INTERVAL=12"] {
        let e = event("20270306T100000", Some(rule));
        let start: DateTime<Utc> = "2027-03-01T00:00:00Z".parse().unwrap();
        for (from_days, to_days) in [(0, 90), (3, 93), (10, 30), (200, 290), (5, 395), (0, 400)] {
            let from = start + chrono::Duration::days(from_days);
            let to = start + chrono::Duration::days(to_days);
            let kept = e.occurrences(from, to);
            let fresh = e.clone().occurrences(from, to);
            assert_eq!(kept, fresh, "{rule} from day {from_days} to {to_days}");
            assert!(!kept.is_empty());
        }
    }
}

#[test]
fn rules_are_read_against_their_own_start_as_calendar_software_writes_them() {
    // A series that ended in 2019: its occurrences then, none after.
    let mut past = event(
        "20190107T090000",
        Some("FREQ=WEEKLY;UNTIL=20190121T080000Z"),
    );
    past.end = Some(paris("20190107T100000"));
    assert_eq!(
        starts(&past, "2019-01-01T00:00:00Z", "2019-12-31T00:00:00Z"),
        [
            "2019-01-07T08:00:00+00:00",
            "2019-01-14T08:00:00+00:00",
            "2019-01-21T08:00:00+00:00"
        ]
    );
    assert!(starts(&past, "2027-01-01T00:00:00Z", "2027-12-31T00:00:00Z").is_empty());
    // Outlook's UNTIL in local time, inclusive; spaces between values.
    let mut outlook = event(
        "20270104T090000",
        Some("FREQ=WEEKLY;BYDAY=MO, WE;UNTIL=20270113T090000"),
    );
    outlook.end = Some(paris("20270104T100000"));
    assert_eq!(
        starts(&outlook, "2027-01-01T00:00:00Z", "2027-12-31T00:00:00Z"),
        [
            "2027-01-04T08:00:00+00:00",
            "2027-01-06T08:00:00+00:00",
            "2027-01-11T08:00:00+00:00",
            "2027-01-13T08:00:00+00:00"
        ]
    );
    // Google's day event until a date: that day included.
    let mut google = event("20250320T000000", Some("FREQ=YEARLY;UNTIL=20280320"));
    google.start = EventTime::parse_ical("20250320", None).unwrap();
    google.end = Some(EventTime::parse_ical("20250321", None).unwrap());
    assert_eq!(
        starts(&google, "2025-01-01T00:00:00Z", "2030-01-01T00:00:00Z").len(),
        4
    );
    assert!(rule_set(past.start, "FREQ=SOMETIMES").is_none());
}

#[test]
fn a_duration_lasts_days_of_the_calendar_then_exact_hours() {
    assert_eq!(
        EventDuration::parse_ical("P1DT2H30M"),
        Ok(EventDuration {
            days: 1,
            seconds: 9000
        })
    );
    assert_eq!(EventDuration::parse_ical("P2W").unwrap().days, 14);
    // Weeks among the time's units, as calendar clients read them.
    assert_eq!(EventDuration::parse_ical("PT1W").unwrap().days, 7);
    assert_eq!(EventDuration::parse_ical("+PT15M").unwrap().seconds, 900);
    for bad in [
        "PT",
        "P",
        "1H",
        "PT1H2D",
        "P1H",
        "PTM",
        "-PT1H",
        "P99999999999D",
    ] {
        assert!(EventDuration::parse_ical(bad).is_err(), "{bad}");
    }
    // Saturday 27 March 2027, 10:00 in Paris, for a day: Sunday 10:00,
    // 23 hours later, the clocks having moved forward.
    let mut e = event("20270327T100000", None);
    e.end = None;
    e.duration = Some(EventDuration::parse_ical("P1D").unwrap());
    let o = e.occurrences(
        "2027-03-01T00:00:00Z".parse().unwrap(),
        "2027-04-01T00:00:00Z".parse().unwrap(),
    )[0];
    assert_eq!(o.end.to_rfc3339(), "2027-03-28T08:00:00+00:00");
    assert_eq!(o.end - o.start, chrono::Duration::hours(23));
}

#[test]
fn without_end_or_duration_a_day_lasts_the_day_and_a_time_an_instant() {
    let mut timed = event("20270306T100000", None);
    timed.end = None;
    let window = (
        "2027-03-01T00:00:00Z".parse().unwrap(),
        "2027-04-01T00:00:00Z".parse().unwrap(),
    );
    let o = timed.occurrences(window.0, window.1)[0];
    assert_eq!(o.end, o.start);
    let mut day = event("20270306T100000", None);
    day.start = EventTime::parse_ical("20270306", None).unwrap();
    day.end = None;
    let o = day.occurrences(window.0, window.1)[0];
    assert!(o.all_day);
    assert_eq!(o.end.to_rfc3339(), "2027-03-06T23:00:00+00:00");
}

#[test]
fn skipped_and_added_dates_change_the_rule_s_occurrences() {
    let mut e = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=1SA;COUNT=4"));
    e.exdates = vec![paris("20270403T100000")];
    e.rdates = vec![paris("20270410T100000")];
    assert_eq!(
        starts(&e, "2027-03-01T00:00:00Z", "2027-07-01T00:00:00Z"),
        [
            "2027-03-06T09:00:00+00:00",
            "2027-04-10T08:00:00+00:00",
            "2027-05-01T08:00:00+00:00",
            "2027-06-05T08:00:00+00:00"
        ]
    );
    // Added dates alone repeat an event, with its own start first.
    let mut once = event("20270306T100000", None);
    once.rdates = vec![paris("20270313T100000")];
    assert!(once.is_recurring());
    assert_eq!(
        starts(&once, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z"),
        ["2027-03-06T09:00:00+00:00", "2027-03-13T09:00:00+00:00"]
    );
}

#[test]
fn overrides_move_or_cancel_one_occurrence() {
    let master = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=1SA;COUNT=4"));
    let mut moved = event("20270410T140000", None);
    moved.recurrence_id = Some(paris("20270403T100000"));
    moved.end = Some(paris("20270410T170000"));
    moved.title = "Portes ouvertes (reportées)".into();
    let mut cancelled = event("20270501T100000", None);
    cancelled.recurrence_id = Some(paris("20270501T100000"));
    cancelled.status = EventStatus::Cancelled;
    let gathered = Event::gather(vec![cancelled, master, moved]);
    assert_eq!(gathered.len(), 1);
    let e = &gathered[0];
    let all = e.occurrences(
        "2027-03-01T00:00:00Z".parse().unwrap(),
        "2027-07-01T00:00:00Z".parse().unwrap(),
    );
    let seen: Vec<(String, EventStatus, &str)> = all
        .iter()
        .map(|o| (o.start.to_rfc3339(), o.status, e.details(o).title.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "2027-03-06T09:00:00+00:00".into(),
                EventStatus::Confirmed,
                "Portes ouvertes"
            ),
            (
                "2027-04-10T12:00:00+00:00".into(),
                EventStatus::Confirmed,
                "Portes ouvertes (reportées)"
            ),
            (
                "2027-05-01T08:00:00+00:00".into(),
                EventStatus::Cancelled,
                "Portes ouvertes"
            ),
            (
                "2027-06-05T08:00:00+00:00".into(),
                EventStatus::Confirmed,
                "Portes ouvertes"
            ),
        ]
    );
    assert_eq!(all[1].end - all[1].start, chrono::Duration::hours(3));
    // Moved out of the window, an occurrence leaves it.
    assert_eq!(
        starts(e, "2027-04-01T00:00:00Z", "2027-04-05T00:00:00Z"),
        Vec::<String>::new()
    );
}

#[test]
fn an_override_of_this_and_future_occurrences_moves_every_later_one() {
    // Weekly on Wednesdays at 10:00; from the third, moved to 14:00 for
    // two hours and renamed.
    let mut master = event("20270303T100000", Some("FREQ=WEEKLY;COUNT=5"));
    master.end = Some(paris("20270303T160000"));
    let mut later = event("20270317T140000", None);
    later.recurrence_id = Some(paris("20270317T100000"));
    later.this_and_future = true;
    later.end = Some(paris("20270317T160000"));
    later.title = "Atelier (nouvel horaire)".into();
    let e = &Event::gather(vec![master, later])[0];
    let all = e.occurrences(
        "2027-03-01T00:00:00Z".parse().unwrap(),
        "2027-05-01T00:00:00Z".parse().unwrap(),
    );
    let seen: Vec<(String, i64, &str)> = all
        .iter()
        .map(|o| {
            (
                o.start.to_rfc3339(),
                (o.end - o.start).num_hours(),
                e.details(o).title.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("2027-03-03T09:00:00+00:00".into(), 6, "Portes ouvertes"),
            ("2027-03-10T09:00:00+00:00".into(), 6, "Portes ouvertes"),
            (
                "2027-03-17T13:00:00+00:00".into(),
                2,
                "Atelier (nouvel horaire)"
            ),
            (
                "2027-03-24T13:00:00+00:00".into(),
                2,
                "Atelier (nouvel horaire)"
            ),
            // After the change of time: still 14:00 in Paris.
            (
                "2027-03-31T12:00:00+00:00".into(),
                2,
                "Atelier (nouvel horaire)"
            ),
        ]
    );
}

#[test]
fn an_added_period_ends_at_its_own_end() {
    let mut e = event("20270303T100000", None);
    e.end = Some(paris("20270303T160000"));
    e.rdates = vec![paris("20270310T090000")];
    e.periods = vec![EventPeriod {
        start: paris("20270310T090000").instant(),
        end: paris("20270310T093000").instant(),
    }];
    let all = e.occurrences(
        "2027-03-01T00:00:00Z".parse().unwrap(),
        "2027-04-01T00:00:00Z".parse().unwrap(),
    );
    let lengths: Vec<i64> = all
        .iter()
        .map(|o| (o.end - o.start).num_minutes())
        .collect();
    assert_eq!(lengths, [360, 30]);
}

#[test]
fn a_rule_that_is_not_ascii_gives_the_event_once_not_a_panic() {
    // Found by the spro_ical fuzz target: the rrule crate slices BYDAY
    // inside a character.
    let e = event("20270306T100000", Some("FREQ=MONTHLY;BYDAY=MO,WE\u{52b}"));
    assert_eq!(
        starts(&e, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z"),
        ["2027-03-06T09:00:00+00:00"]
    );
}

#[test]
fn a_cancelled_event_cancels_every_occurrence() {
    let mut e = event("20270306T100000", Some("FREQ=WEEKLY;COUNT=3"));
    e.status = EventStatus::Cancelled;
    let mut moved = event("20270314T100000", None);
    moved.recurrence_id = Some(paris("20270313T100000"));
    e.overrides.push(moved);
    let all = e.occurrences(
        "2027-03-01T00:00:00Z".parse().unwrap(),
        "2027-04-01T00:00:00Z".parse().unwrap(),
    );
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|o| o.status == EventStatus::Cancelled));
}

#[test]
fn the_highest_sequence_wins_among_versions_and_overrides() {
    let mut old = event("20270306T100000", None);
    old.title = "v1".into();
    old.sequence = 1;
    let mut new = event("20270306T100000", None);
    new.title = "v2".into();
    new.sequence = 2;
    let mut stale = event("20270306T100000", None);
    stale.title = "v0".into();
    let mut other_site = event("20270306T100000", None);
    other_site.site = "t".into();
    let mut o1 = event("20270313T100000", None);
    o1.recurrence_id = Some(paris("20270306T100000"));
    o1.sequence = 3;
    o1.title = "o3".into();
    let mut o2 = o1.clone();
    o2.sequence = 2;
    o2.title = "o2".into();
    let gathered = Event::gather(vec![old, new, stale, other_site, o1, o2]);
    assert_eq!(gathered.len(), 2);
    assert_eq!(gathered[0].title, "v2");
    assert_eq!(gathered[0].overrides.len(), 1);
    assert_eq!(gathered[0].overrides[0].title, "o3");
    // An override alone stands for itself.
    let mut orphan = event("20270313T100000", None);
    orphan.recurrence_id = Some(paris("20270306T100000"));
    let alone = Event::gather(vec![orphan]);
    assert_eq!(
        starts(&alone[0], "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z"),
        ["2027-03-13T09:00:00+00:00"]
    );
}
