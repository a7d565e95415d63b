//! Packing and unpacking offers, and the lists that hold them.

use std::sync::Arc;

use passerelle_schema::{Offer, OfferStatus, Opco, Partner, PublicEmployerType};

use super::*;

/// An offer of the CMA's, filled, in Caen.
pub(crate) fn offer() -> Offer {
    // The partners named are declared.
    passerelle_connectors::Registry::standard();
    let mut o: Offer = serde_json::from_value(serde_json::json!({
        "sources": [{"partner": "cma", "partner_id": "CMA-14-000003",
                     "url": "https://offres.example/offre/CMA-14-000003"}],
        "title": "Apprenti(e) — pose et restauration de couvertures",
        "description": "Au sein de notre équipe à Caen, vous apprendrez le métier.",
        "rome_codes": ["F1610", "F1611"],
        "level": 3,
        "employer": {"siret": "73282932000074", "name": "Bâtiment Letellier",
                     "size": "20 à 49 salariés", "naf": "43.34Z", "opco": null,
                     "public_type": null},
        "location": {"commune": "14118", "postcode": "14000",
                     "address": "107 zone artisanale des Forges",
                     "coordinates": {"latitude": 49.18, "longitude": -0.37}},
        "start_date": "2027-09-01",
        "duration_months": 12,
        "rhythm": "2 semaines / 2 semaines",
        "openings": 2,
        "published_at": "2026-08-27T10:11:00Z",
        "expires_at": "2026-12-24T23:00:00Z",
        "status": "filled"
    }))
    .unwrap();
    o.employer.opco = Some(Opco::parse("OPCO EP").unwrap());
    o
}

#[test]
fn an_offer_unpacks_as_it_was_packed() {
    let o = offer();
    let packed = PackedOffer::pack(o.clone(), &mut Packer::default());
    assert_eq!(packed.unpack(), o);
    let summary = packed.summary();
    assert_eq!(summary.partner_id, "CMA-14-000003");
    assert_eq!(summary.commune.as_str(), "14118");
    assert_eq!(summary.rome_codes.len(), 2);
    assert_eq!(summary.status, OfferStatus::Filled);
    assert_eq!(
        summary.sources.primary(),
        passerelle_connectors::cma::PARTNER
    );
    assert!(!summary.public);
}

#[test]
fn an_offer_without_its_optional_fields_unpacks_too() {
    let mut o = offer();
    o.description = None;
    o.sources[0].url = None;
    o.location.coordinates = None;
    o.location.postcode = None;
    o.employer.naf = None;
    o.employer.opco = None;
    o.employer.public_type = Some(PublicEmployerType::Territoriale);
    o.expires_at = None;
    o.rome_codes.clear();
    let packed = PackedOffer::pack(o.clone(), &mut Packer::default());
    assert_eq!(packed.unpack(), o);
    assert!(packed.summary().public);
}

#[test]
fn a_list_reads_whole_and_packed_offers_alike() {
    let mut newer = offer();
    newer.published_at += chrono::Duration::days(1);
    newer.sources[0].partner = passerelle_connectors::cci::PARTNER;
    let packed: Arc<dyn PackedRecords> =
        Arc::new(vec![PackedOffer::pack(offer(), &mut Packer::default())]);
    let list = OfferList::new(
        vec![
            OfferRef::Whole(Arc::new(newer.clone())),
            OfferRef::Packed(0),
        ],
        Some(packed),
    );
    assert_eq!(list.len(), 2);
    assert_eq!(*list.get(0), newer);
    assert_eq!(*list.get(1), offer());
    let primaries: Vec<Partner> = list.summaries().map(|h| h.sources.primary()).collect();
    assert_eq!(
        primaries,
        [
            passerelle_connectors::cci::PARTNER,
            passerelle_connectors::cma::PARTNER
        ]
    );
    assert_eq!(
        list.partition_point(|h| h.sources.primary() == passerelle_connectors::cci::PARTNER),
        1
    );
    let cma = list.select(|h| h.sources.primary() == passerelle_connectors::cma::PARTNER);
    assert_eq!(cma.range(0, 1), vec![Arc::new(offer())]);
    assert!(list.summary(0).order_key() < list.summary(1).order_key());
}

#[test]
fn selections_made_in_one_pass_are_those_made_one_by_one() {
    let mut packer = Packer::default();
    let with = |days: i64, id: &str| {
        let mut o = offer();
        o.published_at += chrono::Duration::days(days);
        o.sources[0].partner_id = id.into();
        o
    };
    let packed: Vec<PackedOffer> = (0..6)
        .map(|i| PackedOffer::pack(with(-i, &format!("CMA-{i}")), &mut packer))
        .collect();
    let mut hits: Vec<OfferRef> = (0..6).map(OfferRef::Packed).collect();
    hits.insert(2, OfferRef::Whole(Arc::new(with(3, "W"))));
    let list = OfferList::new(hits, Some(Arc::new(packed)));
    let ids =
        |l: &OfferList| -> Vec<String> { l.summaries().map(|h| h.partner_id.to_owned()).collect() };
    // Selection 0: every offer, named twice; 1: the odd ones; 2: none.
    let odd = |h: &OfferSummary| h.partner_id.ends_with(['1', '3', '5']);
    let each = list.select_each(3, |h, take| {
        take(0);
        take(0);
        if odd(h) {
            take(1);
        }
    });
    assert_eq!(ids(&each[0]), ids(&list.select(|_| true)));
    assert_eq!(ids(&each[1]), ids(&list.select(odd)));
    assert_eq!(ids(&each[1]), ["CMA-1", "CMA-3", "CMA-5"]);
    assert!(each[2].is_empty());
    assert_eq!(each[0].len(), 7);
}

#[test]
fn merging_two_ordered_lists_orders_them_all() {
    let at = |days: i64, partner: Partner, id: &str| {
        let mut o = offer();
        o.published_at += chrono::Duration::days(days);
        o.sources[0].partner = partner;
        o.sources[0].partner_id = id.into();
        o
    };
    let mut packer = Packer::default();
    let packed: Vec<PackedOffer> = [9, 7, 7, 4, 2, 0]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            PackedOffer::pack(
                at(*d, passerelle_connectors::cma::PARTNER, &format!("CMA-{i}")),
                &mut packer,
            )
        })
        .collect();
    let many: Vec<DatedPosition> = (0u32..)
        .zip(&packed)
        .map(|(i, p)| (p.published_at, i))
        .collect();
    let packed: Arc<dyn PackedRecords> = Arc::new(packed);
    for few in [
        vec![],
        vec![at(10, passerelle_connectors::cci::PARTNER, "A")],
        vec![
            at(7, passerelle_connectors::cci::PARTNER, "A"),
            at(3, passerelle_connectors::cci::PARTNER, "B"),
        ],
        vec![
            at(-1, passerelle_connectors::cci::PARTNER, "A"),
            at(-2, passerelle_connectors::cci::PARTNER, "B"),
        ],
    ] {
        let few: Vec<OfferRef> = few
            .into_iter()
            .map(|o| OfferRef::Whole(Arc::new(o)))
            .collect();
        let merged = OfferList::merge_ordered(few.clone(), &many, Some(packed.clone()));
        let mut all = few;
        all.extend(many.iter().map(|(_, i)| OfferRef::Packed(*i)));
        let sorted = OfferList::ordered(all, Some(packed.clone()));
        let keys = |l: &OfferList| -> Vec<String> {
            l.summaries()
                .map(|h| format!("{:?}", h.order_key()))
                .collect()
        };
        assert_eq!(keys(&merged), keys(&sorted));
        assert_eq!(merged.len(), sorted.len());
    }
}
