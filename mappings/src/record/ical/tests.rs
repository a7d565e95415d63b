//! Calendars read into records from their bytes: unfolding, unescaping,
//! mending, and dates given in UTC.

use super::text::{LIST_PROPERTIES, PARSER_TEXT_PROPERTIES};
use super::{ical_decode, ical_records};
use crate::record::{select, Tree, UNREADABLE};

#[test]
fn icalendar_events_are_unfolded_unescaped_and_keep_their_parameters() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Forum de l'alternance\\, Caen\r\nDESCRIPTION:Une longue des\r\n cription\\nsur deux lignes\r\nCATEGORIES:Forum,Apprentissage\\, alternance\r\nDTSTART;TZID=Europe/Paris:20270306T100000\r\nDTEND;VALUE=DATE:20270307\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(select(r, "SUMMARY"), vec!["Forum de l'alternance, Caen"]);
    assert_eq!(
        select(r, "DESCRIPTION"),
        vec!["Une longue description\nsur deux lignes"]
    );
    assert_eq!(
        select(r, "CATEGORIES"),
        vec!["Forum", "Apprentissage, alternance"]
    );
    assert_eq!(select(r, "DTSTART"), vec!["20270306T100000"]);
    assert_eq!(select(r, "DTSTART/@TZID"), vec!["Europe/Paris"]);
    assert_eq!(select(r, "DTEND/@VALUE"), vec!["DATE"]);
}

#[test]
fn icalendar_text_is_unescaped_once_whatever_its_property() {
    // RFC 5545, 3.3.11: `\\` is a backslash, `\n` or `\N` a new line.
    let mut names: Vec<&str> = PARSER_TEXT_PROPERTIES
        .iter()
        .copied()
        .filter(|n| !LIST_PROPERTIES.contains(n))
        .collect();
    names.extend(["X-SITE", "x-lower", "NOTE-UNKNOWN"]);
    for name in names {
        for (line, want) in [
            (format!("{name}:C:\\\\new\\, \\; \\N"), "C:\\new, ; \n"),
            (format!("{name};VALUE=TEXT:a\\\\n"), "a\\n"),
        ] {
            let text = format!(
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{line}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
            let key = name.to_ascii_uppercase();
            assert_eq!(select(&records[0], &key), vec![want], "{line}");
        }
    }
}

#[test]
fn folds_inside_a_character_are_joined_before_the_text_is_read() {
    // "é" is C3 A9: a fold between its octets, with CRLF and with LF.
    for eol in [&b"\r\n"[..], b"\n"] {
        let mut bytes =
            b"\xEF\xBB\xBFBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Journ\xC3".to_vec();
        bytes.extend(eol);
        bytes.extend(b" \xA9e d\xE2\x80");
        bytes.extend(eol);
        bytes.extend(b"\t\x99orientation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
        assert!(std::str::from_utf8(&bytes).is_err());
        let text = ical_decode(&bytes).unwrap();
        let records = ical_records(&text, "VEVENT").unwrap();
        assert_eq!(
            select(&records[0], "SUMMARY"),
            vec!["Journée d\u{2019}orientation"]
        );
    }
    assert!(ical_decode(b"SUMMARY:\xC3(").is_err());
}

#[test]
fn a_line_that_cannot_be_read_refuses_its_component_alone() {
    // Written lines 6 and 7 are one folded line; line 9 has no colon,
    // line 13 a space in its name, and the last event never
    // ends.
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Bon\r\nDESCRIPTION:une longue\r\n  description\r\nEND:VEVENT\r\nJUNK\r\nBEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Ligne manquante\r\nDT START;TZID=Europe/Paris:20270101T100000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Sans fin\r\nEND:VALARM\r\nEND:VCALENDAR\r\n";
    let decoded = ical_decode(text.as_bytes()).unwrap();
    let records = ical_records(&decoded, "VEVENT").unwrap();
    let by_uid = |uid: &str| {
        records
            .iter()
            .find(|r| select(*r, "UID") == vec![uid])
            .unwrap_or_else(|| panic!("no record {uid}"))
    };
    assert!(by_uid("a").child(UNREADABLE).is_none());
    assert_eq!(
        select(by_uid("a"), "DESCRIPTION"),
        vec!["une longue description"]
    );
    assert_eq!(
        select(by_uid("b"), UNREADABLE),
        vec!["line 13: \"DT START\" is not a property name"]
    );
    assert_eq!(select(by_uid("b"), "SUMMARY"), vec!["Ligne manquante"]);
    assert_eq!(
        select(by_uid("c"), UNREADABLE),
        vec!["line 18: END:VALARM without its BEGIN; line 19: BEGIN:VEVENT is never ended"]
    );
    // The line outside any event is no event's.
    assert_eq!(records.len(), 3);
    // What is no calendar at all is refused whole.
    for nothing in ["", "<html><body>Not found</body></html>", "BEGIN:"] {
        let decoded = ical_decode(nothing.as_bytes()).unwrap();
        let read = ical_records(&decoded, "VEVENT");
        assert!(read.is_err(), "{nothing:?}: {:?}", read.map(|r| r.len()));
    }
}

#[test]
fn a_period_s_start_and_end_given_in_a_zone_are_given_in_utc() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRDATE;VALUE=PERIOD;TZID=Europe/Paris:20270310T090000/20270310T093000,20270317T090000/PT45M\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
    assert_eq!(
        select(&records[0], "RDATE"),
        vec![
            "20270310T080000Z/20270310T083000Z",
            "20270317T080000Z/PT45M"
        ]
    );
}

#[test]
fn date_lists_give_one_value_each_in_utc_when_zoned() {
    let text = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Romance Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\nBEGIN:VEVENT\nDTSTART;TZID=Romance Standard Time:20270106T140000\nEXDATE;TZID=Romance Standard Time:20270113T140000,20270714T140000\nEXDATE;TZID=Europe/Paris:20270120T140000\nEXDATE;VALUE=DATE:20270127\nEXDATE:20270203T130000Z\nRDATE;TZID=Mars/Olympus:20270210T140000\nRDATE;VALUE=PERIOD;TZID=Europe/Paris:20270217T140000/PT2H\nRDATE:20270224T140000\nEND:VEVENT\nEND:VCALENDAR\n";
    let records = ical_records(&ical_decode(text.as_bytes()).unwrap(), "VEVENT").unwrap();
    let r = &records[0];
    assert_eq!(select(r, "DTSTART/@TZID"), vec!["Europe/Paris"]);
    assert_eq!(
        select(r, "EXDATE"),
        vec![
            "20270113T130000Z",
            "20270714T120000Z",
            "20270120T130000Z",
            "20270127",
            "20270203T130000Z"
        ]
    );
    assert_eq!(
        select(r, "RDATE"),
        vec![
            "TZID=Mars/Olympus:20270210T140000",
            "20270217T130000Z/PT2H",
            "20270224T140000"
        ]
    );
}
