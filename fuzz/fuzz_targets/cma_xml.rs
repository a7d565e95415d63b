#![no_main]
//! The Cma payload through its shipped mapping.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::EntityKind;

fuzz_target!(|data: &[u8]| {
    passerelle_fuzz::map_payload(passerelle_connectors::cma::PARTNER, EntityKind::Offer, data);
});
