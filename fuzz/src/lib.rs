//! What the fuzz targets share: a partner payload read and mapped by the
//! shipped mapping, every record through the engine; an upload read to
//! its end. Any outcome is fine except a panic, a hang or a memory error.

use std::sync::OnceLock;

use passerelle_mappings::allocations::{Format, Records};
use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::Partner;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| passerelle_connectors::Registry::standard()
            .catalog(None)
            .expect("the shipped mappings load"))
}

/// Reads `bytes` as `partner`'s payload for `entity` and maps every record.
pub fn map_payload(partner: Partner, entity: EntityKind, bytes: &[u8]) {
    let mapping = catalog()
        .get(partner, entity)
        .expect("a shipped mapping");
    let (records, _truncated) = mapping.records(bytes);
    for (i, record) in records.iter().enumerate() {
        let _ = mapping.map_record_json(i, record);
    }
}

/// Reads `bytes` as a SPRO calendar, maps its events, gathers them as the
/// connector does and lists their occurrences over a year, as queries do.
pub fn map_calendar(bytes: &[u8]) {
    let mapping = catalog()
        .get(passerelle_connectors::spro::PARTNER, EntityKind::Event)
        .expect("a shipped mapping");
    let batch = mapping.map_payload_with::<passerelle_schema::Event>(
        bytes,
        &[("X-SITE".into(), "cio-14118".into())],
    );
    let from = chrono::DateTime::from_timestamp(1_798_761_600, 0).expect("2027"); // 2027-01-01
    for e in passerelle_schema::Event::gather(batch.records) {
        for o in e.occurrences(from, from + chrono::Duration::days(400)) {
            let _ = e.details(&o);
        }
    }
}

/// Reads an upload in `format` to its end.
pub fn read_upload(format: Format, bytes: &[u8]) {
    let Ok(mut records) = Records::new(format, bytes) else {
        return;
    };
    let _ = records.campaign();
    while let Ok(Some(_)) = records.next_item() {}
}
