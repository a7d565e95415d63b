#![no_main]
//! The Spro payload through its shipped mapping, then its events gathered
//! and expanded over a year.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::EntityKind;
use passerelle_schema::Partner;

fuzz_target!(|data: &[u8]| {
    passerelle_fuzz::map_payload(passerelle_connectors::spro::PARTNER, EntityKind::Event, data);
    passerelle_fuzz::map_calendar(data);
});
