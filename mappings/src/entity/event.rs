//! Orientation events: the fields a mapping fills, and the [`Event`] built
//! from them, its times read in their zones, its added and skipped dates
//! and its recurrence rule checked against its start.

use std::borrow::Cow;

use passerelle_schema::{
    Event, EventDuration, EventKind, EventPeriod, EventStatus, EventTime, Partner,
};

use super::kind::field;
use super::parse::number;
use super::{Entity, EntityKind, FieldDef, Values};
use crate::error::FieldError;

/// The fields a mapping of an event may fill, with where each sits in
/// its JSON form.
pub(super) const EVENT_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("site", true, "/site"),
    field("title", true, "/title"),
    field("description", false, "/description"),
    field("kind", true, "/kind"),
    field("kind_label", false, "/kind_label"),
    field("start", true, "/start"),
    field("start_tzid", false, "/start/tz"),
    field("end", false, "/end"),
    field("end_tzid", false, "/end/tz"),
    field("duration", false, "/duration"),
    field("status", false, "/status"),
    field("rrule", false, "/rrule"),
    field("rdate", false, "/rdates"),
    field("exdate", false, "/exdates"),
    field("recurrence_id", false, "/recurrence_id"),
    field("recurrence_id_tzid", false, "/recurrence_id/tz"),
    field("recurrence_range", false, "/this_and_future"),
    field("sequence", false, "/sequence"),
    field("location", false, "/location"),
    field("url", false, "/url"),
];

impl Entity for Event {
    const KIND: EntityKind = EntityKind::Event;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let start_tzid = v.one("start_tzid");
        let start = EventTime::parse_ical(v.required("start")?, start_tzid)
            .map_err(|e| FieldError::new("start", e))?;
        // An end in no zone beside a start in one is in the start's, as
        // calendar clients read it.
        let end = v
            .one("end")
            .map(|e| {
                EventTime::parse_ical(e, v.one("end_tzid").or(start_tzid))
                    .map_err(|e| FieldError::new("end", e))
            })
            .transpose()?;
        if end.is_some_and(|e| e.instant() < start.instant()) {
            return Err(FieldError::new("end", "is before the start"));
        }
        // An end and a duration may not both be given: the end is read.
        let duration = match end {
            Some(_) => None,
            None => v.parse("duration", EventDuration::parse_ical)?,
        };
        let end = Some(match (end, duration) {
            (Some(end), _) => end,
            (None, Some(d)) => d.after(start),
            (None, None) => start.default_end(),
        });
        // Dates of a list are in UTC or a date once read (see
        // `record::ical_records`); in no zone, they are in the start's. A
        // period is its start and its end, or its start and its length.
        let mut periods = Vec::new();
        let mut dates = |v: &Values<'_>, field: &'static str| {
            v.all(field)
                .iter()
                .map(|d| {
                    let time = |at| {
                        EventTime::parse_ical(at, start_tzid).map_err(|e| FieldError::new(field, e))
                    };
                    let Some((at, until)) = d.split_once('/') else {
                        return time(d);
                    };
                    let at = time(at)?;
                    let end = match EventDuration::parse_ical(until) {
                        Ok(length) => length.after(at),
                        Err(_) => time(until)?,
                    };
                    if end.instant() < at.instant() {
                        return Err(FieldError::new(
                            field,
                            format!("{d:?} ends before it starts"),
                        ));
                    }
                    periods.push(EventPeriod {
                        start: at.instant(),
                        end: end.instant(),
                    });
                    Ok(at)
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let rdates = dates(v, "rdate")?;
        let exdates = dates(v, "exdate")?;
        periods.retain(|p| rdates.iter().any(|r| r.instant() == p.start));
        let recurrence_id = v
            .one("recurrence_id")
            .map(|r| {
                EventTime::parse_ical(r, v.one("recurrence_id_tzid").or(start_tzid))
                    .map_err(|e| FieldError::new("recurrence_id", e))
            })
            .transpose()?;
        // Several rules (RFC 2445 allowed them, Zimbra writes them) are
        // kept one a line.
        let rrule = Some(v.all("rrule").join("\n")).filter(|r| !r.is_empty());
        // Checked against the event's own start, as its occurrences will be
        // expanded.
        if let Some(rule) = &rrule {
            if passerelle_schema::event::rule_set(start, rule).is_none() {
                return Err(FieldError::new(
                    "rrule",
                    format!("{rule:?} is not a recurrence rule"),
                ));
            }
        }
        Ok(Event {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            site: v.take_required("site")?.into_owned(),
            title: v.take_required("title")?.into_owned(),
            description: v.take("description").map(Cow::into_owned),
            kind: v.parse_required("kind", EventKind::parse)?,
            kind_label: v.take("kind_label").map(Cow::into_owned),
            start,
            end,
            duration,
            status: v.parse("status", EventStatus::parse)?.unwrap_or_default(),
            rrule,
            rdates,
            periods,
            exdates,
            this_and_future: v
                .one("recurrence_range")
                .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE")),
            recurrence_id,
            sequence: v.parse("sequence", number::<u32>)?.unwrap_or(0),
            overrides: Vec::new(),
            location: v.take("location").map(Cow::into_owned),
            url: v.take("url").map(Cow::into_owned),
            read_rule: Default::default(),
        })
    }
}
