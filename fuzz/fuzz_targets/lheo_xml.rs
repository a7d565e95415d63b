#![no_main]
//! The Carif payload through its shipped mapping.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::EntityKind;

fuzz_target!(|data: &[u8]| {
    passerelle_fuzz::map_payload(passerelle_connectors::carif::PARTNER, EntityKind::Formation, data);
});
