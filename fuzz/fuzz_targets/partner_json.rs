#![no_main]
//! The JSON partners (CCI offers, Pass Monde grants, the SPRO directory)
//! through their shipped mappings; the first byte picks the partner.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::EntityKind;
use passerelle_schema::Partner;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let (partner, entity) = match pick % 3 {
        0 => (passerelle_connectors::cci::PARTNER, EntityKind::Offer),
        1 => (passerelle_connectors::passmonde::PARTNER, EntityKind::Mobility),
        _ => (passerelle_connectors::spro::PARTNER, EntityKind::Site),
    };
    passerelle_fuzz::map_payload(partner, entity, payload);
});
