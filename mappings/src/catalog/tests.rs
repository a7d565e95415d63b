//! The mapping files shipped with this crate, loaded and run on their own
//! test cases, and mapping files that are refused with why.

use std::path::Path;

use passerelle_schema::Event;

use crate::entity::EntityKind;

use super::*;

/// The mapping files of this crate's folders, each with its partner
/// declared.
pub(crate) fn shipped() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<(String, String)> = mapping_files(dir)
        .unwrap()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let partner = p.parent().unwrap().file_name().unwrap();
            passerelle_schema::partner::examples::partner(partner.to_str().unwrap());
            (p.display().to_string(), text)
        })
        .collect();
    Catalog::of_files(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
        .expect("shipped mappings load")
}

const CMA_OFFER: &str = include_str!("../../cma/offer.toml");

#[test]
fn every_shipped_mapping_passes_its_own_test_cases() {
    let catalog = shipped();
    let outcomes = catalog.run_tests();
    assert!(
        outcomes.len() >= 6,
        "too few test cases: {}",
        outcomes.len()
    );
    let failures: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn records_given_a_derived_identifier_are_noted_for_the_sync() {
    let catalog = shipped();
    let spro = passerelle_schema::partner::examples::partner("spro");
    let events = catalog.get(spro, EntityKind::Event).unwrap();
    let calendar = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Forum\r\nDTSTART:20270320T090000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Portes ouvertes\r\nDTSTART:20270321T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let context = [("X-SITE".to_owned(), "cio-caen".to_owned())];
    let batch: MappedBatch<Event> = events.map_payload_with(calendar.as_bytes(), &context);
    assert_eq!(batch.records.len(), 2);
    assert_eq!(
        batch.notices,
        ["1 of its records had no identifier: each was given one derived from its X-SITE, DTSTART, SUMMARY, RECURRENCE-ID, the same at every sync"]
    );
    let with_uids = calendar.replace("SUMMARY:Portes", "UID:b\r\nSUMMARY:Portes");
    let batch: MappedBatch<Event> = events.map_payload_with(with_uids.as_bytes(), &context);
    assert!(batch.notices.is_empty(), "{:?}", batch.notices);
}

#[test]
fn a_bad_mapping_file_names_file_field_and_reason() {
    passerelle_schema::partner::examples::partner("cma");
    let text = CMA_OFFER.replacen("\"collapse_whitespace\"", "\"collapse\"", 1);
    let e = Mapping::parse("cma/offer.toml", &text).unwrap_err();
    assert_eq!(e.file, "cma/offer.toml");
    assert!(e.field.is_some(), "{e}");
    assert!(e.reason.contains("unknown transform `collapse`"), "{e}");

    let text = CMA_OFFER.replacen(
        "[fields]",
        "[fields]\n\"employer.nom\" = { from = \"x\" }",
        1,
    );
    let e = Mapping::parse("cma/offer.toml", &text).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("employer.nom"));
    assert!(
        e.to_string()
            .starts_with("cma/offer.toml: field `employer.nom`: not a field of offer"),
        "{e}"
    );

    let e = Mapping::parse(
        "x.toml",
        "partner = \"opca\"\nentity = \"offer\"\n[source]\nformat = \"json\"\n[fields]\n",
    )
    .unwrap_err();
    assert!(e.reason.contains("known partners"), "{e}");
}

#[test]
fn a_mapping_must_fill_the_required_fields() {
    passerelle_schema::partner::examples::partner("cci");
    let text = "partner = \"cci\"\nentity = \"offer\"\n[source]\nformat = \"json\"\n[fields]\ntitle = { from = \"t\" }\n";
    let e = Mapping::parse("x.toml", text).unwrap_err();
    assert!(e.reason.contains("is required"), "{e}");
}
