"""The occurrences a reference implementation reads in each calendar.

Reads every `.ics` file of this folder with PyPI `icalendar` and expands it
with `recurring-ical-events`, over two windows of 400 days (the widest the
API serves): from the day before the calendar's first start, and from
2026-12-01. Prints, as JSON, each file's windows and the occurrences that
start within each, as the gateway serves them: start and end in UTC (a day
from midnight in Paris, a time in no zone in Paris, as the gateway reads
them), status, and title with its spaces collapsed.

    python3 reference.py [FOLDER]
"""

import datetime as dt
import json
import pathlib
import sys
import zoneinfo

import icalendar
import recurring_ical_events

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc
WINDOW = dt.timedelta(days=400)
LATER = dt.datetime(2026, 12, 1, tzinfo=UTC)


def instant(value):
    """A date or date-time as the gateway reads it, in UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=PARIS)
        return value.astimezone(UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=PARIS).astimezone(UTC)


def iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def end_of(event, start):
    """When an occurrence ends: its DTEND, its start and DURATION, or by
    default the end of its day for a day and its start for a time."""
    if "DTEND" in event:
        return instant(event["DTEND"].dt)
    if "DURATION" in event:
        return instant(event["DTSTART"].dt + event["DURATION"].dt)
    first = event["DTSTART"].dt
    if isinstance(first, dt.datetime):
        return start
    return instant(first + dt.timedelta(days=1))


def first_start(calendar):
    starts = []
    for e in calendar.walk("VEVENT"):
        try:
            starts.append(instant(e["DTSTART"].dt))
        except Exception:  # noqa: BLE001 - no start, or one that cannot be read
            pass
    return min(starts) if starts else None


def series(calendar):
    """The calendar's events grouped by UID (an event without one alone),
    each group a calendar of its own with the calendar's time zones: so
    that one series the reference cannot expand is refused alone."""
    groups = {}
    for i, event in enumerate(calendar.walk("VEVENT")):
        groups.setdefault(str(event.get("UID", f"#{i}")), []).append(event)
    for uid, events in groups.items():
        one = icalendar.Calendar()
        for key, value in calendar.property_items(recursive=False)[1:-1]:
            one[key] = value
        for tz in calendar.walk("VTIMEZONE"):
            one.add_component(tz)
        for event in events:
            one.add_component(event)
        yield uid, one


def occurrences(calendar, begin, end):
    out = []
    refused = []
    for uid, one in series(calendar):
        try:
            # Asked a little wider: the reference compares a day with the
            # window in no zone, the gateway from midnight in Paris.
            margin = dt.timedelta(days=2)
            expanded = list(recurring_ical_events.of(one).between(begin - margin, end + margin))
        except Exception as e:  # noqa: BLE001 - said, series by series
            refused.append(f"{uid}: {type(e).__name__}: {e}")
            continue
        for event in expanded:
            start = instant(event["DTSTART"].dt)
            if not begin <= start < end:
                continue
            out.append(
                {
                    "start": iso(start),
                    "end": iso(end_of(event, start)),
                    "status": str(event.get("STATUS", "CONFIRMED")).strip().upper(),
                    "title": " ".join(str(event.get("SUMMARY", "")).split()),
                }
            )
    out.sort(key=lambda o: (o["start"], o["end"], o["title"], o["status"]))
    return out, refused


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    read = {}
    for path in sorted(folder.glob("*.ics")):
        try:
            calendar = icalendar.Calendar.from_ical(path.read_bytes())
            first = first_start(calendar)
            windows = []
            if first is not None:
                day = first.replace(hour=0, minute=0, second=0) - dt.timedelta(days=1)
                windows.append(day)
            windows.append(LATER)
            read[path.name] = []
            for w in windows:
                found, refused = occurrences(calendar, w, w + WINDOW)
                read[path.name].append(
                    {"from": iso(w), "to": iso(w + WINDOW), "occurrences": found, "refused": refused}
                )
        except Exception as e:  # noqa: BLE001 - a calendar the reference cannot read is said so
            read[path.name] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(read, sys.stdout, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
