#![no_main]
//! The Cnfpt payload through its shipped mapping.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::EntityKind;
use passerelle_schema::Partner;

fuzz_target!(|data: &[u8]| {
    passerelle_fuzz::map_payload(passerelle_connectors::cnfpt::PARTNER, EntityKind::Offer, data);
});
