//! Offers of a synced feed as kept in memory: packed.
//!
//! A feed of 100,000 offers held as [`Offer`]s takes about 1 KiB an offer:
//! a 400-byte structure, its texts and lists each in an allocation of its
//! own. A [`PackedOffer`] keeps inline what searches read of every record
//! (place, occupations, level, status, employer, publication), and the rest
//! (title, description, address…) encoded in one allocation, unpacked only
//! for the offers a page answers.
//!
//! Search results mix whole offers (live exchanges' answers, merged offers)
//! and packed records: an [`OfferList`] holds both, reads the fields
//! searches need through an [`OfferSummary`], and unpacks on demand.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, NaiveDate, Utc};
use compact_str::CompactString;
use passerelle_schema::{
    DiplomaLevel, Employer, GeoPoint, InseeCommune, Location, Naf, Offer, OfferSource, OfferStatus,
    Opco, Partner, Postcode, PublicEmployerType, RomeCode, Siret,
};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// An offer of a synced feed, packed: the fields searches read inline, the
/// others encoded.
#[derive(Debug, Clone)]
pub struct PackedOffer {
    partner: Partner,
    level: Option<DiplomaLevel>,
    status: OfferStatus,
    public_type: Option<PublicEmployerType>,
    published_at: DateTime<Utc>,
    start_date: Option<NaiveDate>,
    partner_id: CompactString,
    commune: InseeCommune,
    siret: Siret,
    rome_codes: SmallVec<[RomeCode; 2]>,
    /// The other fields, as [`Rest`] encoded by postcard, in a chunk shared
    /// with other records (see [`Packer`]).
    rest: Bytes,
}

/// Writes packed offers' encoded fields into shared chunks of a MiB.
///
/// A record of its own allocation would land among the allocations a sync
/// makes and frees (the feed as read, its records as mapped): the few
/// hundred bytes each record keeps would hold every page of the heap the
/// sync used. In chunks, a feed's records take a few large blocks, and the
/// sync's memory goes back to the system once it is done.
#[derive(Debug, Default)]
pub struct Packer {
    chunk: BytesMut,
    scratch: Vec<u8>,
}

/// The size of a packer's chunks.
const CHUNK_BYTES: usize = 1 << 20;

impl Packer {
    fn write(&mut self, rest: &Rest) -> Bytes {
        let scratch = std::mem::take(&mut self.scratch);
        let encoded = postcard::to_extend(rest, scratch).expect("offers encode");
        if self.chunk.capacity() - self.chunk.len() < encoded.len() {
            self.chunk = BytesMut::with_capacity(CHUNK_BYTES.max(encoded.len()));
        }
        self.chunk.extend_from_slice(&encoded);
        self.scratch = encoded;
        self.scratch.clear();
        self.chunk.split().freeze()
    }
}

/// The fields of an offer that are not kept inline, in the order postcard
/// writes them. Only packed offers are read with it, so its form may
/// change between versions: the store keeps offers as JSON.
#[derive(Serialize, Deserialize)]
struct Rest {
    url: Option<CompactString>,
    title: CompactString,
    description: Option<CompactString>,
    employer_name: CompactString,
    employer_size: Option<CompactString>,
    naf: Option<Naf>,
    opco: Option<Opco>,
    postcode: Option<Postcode>,
    address: Option<CompactString>,
    coordinates: Option<GeoPoint>,
    duration_months: Option<u32>,
    rhythm: Option<CompactString>,
    openings: u32,
    expires_at: Option<DateTime<Utc>>,
}

impl PackedOffer {
    /// Packs an offer of one source, as a synced feed's records are. The
    /// sources after the first, which a feed's records do not have, are
    /// dropped.
    pub fn pack(o: Offer, packer: &mut Packer) -> Self {
        let Offer {
            sources,
            title,
            description,
            rome_codes,
            level,
            employer,
            location,
            start_date,
            duration_months,
            rhythm,
            openings,
            published_at,
            expires_at,
            status,
        } = o;
        let source = sources.into_iter().next().expect("an offer has a source");
        let rest = Rest {
            url: source.url,
            title,
            description,
            employer_name: employer.name,
            employer_size: employer.size,
            naf: employer.naf,
            opco: employer.opco,
            postcode: location.postcode,
            address: location.address,
            coordinates: location.coordinates,
            duration_months,
            rhythm,
            openings,
            expires_at,
        };
        Self {
            partner: source.partner,
            level,
            status,
            public_type: employer.public_type,
            published_at,
            start_date,
            partner_id: source.partner_id,
            commune: location.commune,
            siret: employer.siret,
            rome_codes: rome_codes.into_iter().collect(),
            rest: packer.write(&rest),
        }
    }

    /// The offer, whole again.
    pub fn unpack(&self) -> Offer {
        let rest: Rest = postcard::from_bytes(&self.rest)
            .expect("a packed offer reads back: it was written by `pack`");
        Offer {
            sources: vec![OfferSource {
                partner: self.partner,
                partner_id: self.partner_id.clone(),
                url: rest.url,
            }],
            title: rest.title,
            description: rest.description,
            rome_codes: self.rome_codes.to_vec(),
            level: self.level,
            employer: Employer {
                siret: self.siret.clone(),
                name: rest.employer_name,
                size: rest.employer_size,
                naf: rest.naf,
                opco: rest.opco,
                public_type: self.public_type,
            },
            location: Location {
                commune: self.commune.clone(),
                postcode: rest.postcode,
                address: rest.address,
                coordinates: rest.coordinates,
            },
            start_date: self.start_date,
            duration_months: rest.duration_months,
            rhythm: rest.rhythm,
            openings: rest.openings,
            published_at: self.published_at,
            expires_at: rest.expires_at,
            status: self.status,
        }
    }

    /// The record's identifier at the partner.
    pub fn partner_id(&self) -> &str {
        &self.partner_id
    }

    /// The key it is answered in (see [`OfferSummary::order_key`]).
    pub fn order_key(&self) -> OrderKey<'_> {
        (
            std::cmp::Reverse(self.published_at),
            self.partner,
            &self.partner_id,
        )
    }

    /// What searches read of it.
    pub fn summary(&self) -> OfferSummary<'_> {
        OfferSummary {
            published_at: self.published_at,
            start_date: self.start_date,
            sources: Sources::One(self.partner),
            partner_id: &self.partner_id,
            commune: &self.commune,
            rome_codes: &self.rome_codes,
            level: self.level,
            status: self.status,
            siret: &self.siret,
            public: self.public_type.is_some(),
        }
    }
}

/// The key offers are answered in: newest first, then by primary source.
pub type OrderKey<'a> = (std::cmp::Reverse<DateTime<Utc>>, Partner, &'a str);

/// What searches, orders and joins read of an offer, whole or packed: the
/// fields a packed offer keeps inline.
#[derive(Debug, Clone, Copy)]
pub struct OfferSummary<'a> {
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// When the contract starts.
    pub start_date: Option<NaiveDate>,
    /// The exchanges that publish it, the primary first.
    pub sources: Sources<'a>,
    /// Its identifier at its primary source.
    pub partner_id: &'a str,
    /// Where the work is.
    pub commune: &'a InseeCommune,
    /// Its occupations.
    pub rome_codes: &'a [RomeCode],
    /// The level of the diploma prepared.
    pub level: Option<DiplomaLevel>,
    /// Whether it is open.
    pub status: OfferStatus,
    /// The employer's establishment.
    pub siret: &'a Siret,
    /// Whether the employer is public.
    pub public: bool,
}

/// The exchanges that publish an offer.
#[derive(Debug, Clone, Copy)]
pub enum Sources<'a> {
    /// A record of one exchange.
    One(Partner),
    /// A merged offer's sources.
    Many(&'a [OfferSource]),
}

impl Sources<'_> {
    /// The exchanges, the primary first.
    pub fn partners(&self) -> impl Iterator<Item = Partner> + '_ {
        let (one, many) = match self {
            Sources::One(p) => (Some(*p), None),
            Sources::Many(s) => (None, Some(s.iter().map(|s| s.partner))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// The primary source's exchange.
    pub fn primary(&self) -> Partner {
        self.partners().next().expect("an offer has a source")
    }
}

impl<'a> OfferSummary<'a> {
    /// An offer's summary.
    pub fn of(o: &'a Offer) -> Self {
        let primary = o.primary_source();
        OfferSummary {
            published_at: o.published_at,
            start_date: o.start_date,
            sources: Sources::Many(&o.sources),
            partner_id: &primary.partner_id,
            commune: &o.location.commune,
            rome_codes: &o.rome_codes,
            level: o.level,
            status: o.status,
            siret: &o.employer.siret,
            public: o.employer.public_type.is_some(),
        }
    }

    /// [`Offer::dedup_hash`] of the offer.
    pub fn dedup_hash(&self) -> u64 {
        passerelle_schema::dedup_hash(
            self.siret,
            self.rome_codes.first(),
            self.commune,
            self.start_date,
        )
    }

    /// The key offers are answered in: newest first, then by primary
    /// source, which also makes their global identifier.
    pub fn order_key(&self) -> OrderKey<'a> {
        (
            std::cmp::Reverse(self.published_at),
            self.sources.primary(),
            self.partner_id,
        )
    }
}

/// About what an offer held whole takes in memory.
const WHOLE_OFFER_BYTES: usize = 1024;

/// A packed record's position, with its publication date: what a search
/// index keeps of a record to order it without reading it.
pub type DatedPosition = (DateTime<Utc>, u32);

/// An offer of a list or of a search's results: one held whole, or the
/// position of a packed record.
#[derive(Debug, Clone)]
pub enum OfferRef {
    /// An offer held whole.
    Whole(Arc<Offer>),
    /// The record at this position of the packed records.
    Packed(u32),
}

/// Offers in answer order, some whole and some packed, read by position.
#[derive(Debug, Clone, Default)]
pub struct OfferList {
    hits: Vec<OfferRef>,
    /// The packed records `OfferRef::Packed` points into.
    packed: Option<Arc<dyn PackedRecords>>,
}

/// Packed records, by position.
pub trait PackedRecords: std::fmt::Debug + Send + Sync {
    /// The record at `i`.
    fn record(&self, i: u32) -> &PackedOffer;
}

impl PackedRecords for Vec<PackedOffer> {
    fn record(&self, i: u32) -> &PackedOffer {
        &self[i as usize]
    }
}

impl OfferList {
    /// A list of `hits`; `packed` holds the records they point into.
    pub fn new(hits: Vec<OfferRef>, packed: Option<Arc<dyn PackedRecords>>) -> Self {
        debug_assert!(
            packed.is_some() || hits.iter().all(|h| matches!(h, OfferRef::Whole(_))),
            "packed hits come with their records"
        );
        Self { hits, packed }
    }

    /// `hits` in answer order (see [`OfferSummary::order_key`]).
    pub fn ordered(hits: Vec<OfferRef>, packed: Option<Arc<dyn PackedRecords>>) -> Self {
        let mut list = Self::new(Vec::new(), packed);
        let mut hits = hits;
        hits.sort_by(|a, b| list.order_key_of(a).cmp(&list.order_key_of(b)));
        list.hits = hits;
        list
    }

    /// Two lists in answer order merged: `few` hits, and `many` packed
    /// records named by position with their publication date. The place of
    /// each of the few in `many` is searched on those dates, records read
    /// only on a tie, and the runs of `many` between are copied whole.
    pub fn merge_ordered(
        few: Vec<OfferRef>,
        many: &[DatedPosition],
        packed: Option<Arc<dyn PackedRecords>>,
    ) -> Self {
        let mut list = Self::new(Vec::new(), packed);
        let mut hits = Vec::with_capacity(few.len() + many.len());
        let mut rest = many;
        for hit in few {
            let key = list.order_key_of(&hit);
            let run = rest.partition_point(|(published, i)| {
                match std::cmp::Reverse(*published).cmp(&key.0) {
                    std::cmp::Ordering::Equal => list.packed_record(*i).order_key() < key,
                    order => order.is_lt(),
                }
            });
            hits.extend(rest[..run].iter().map(|(_, i)| OfferRef::Packed(*i)));
            rest = &rest[run..];
            hits.push(hit);
        }
        hits.extend(rest.iter().map(|(_, i)| OfferRef::Packed(*i)));
        list.hits = hits;
        list
    }

    /// The offer that holds the record `partner_id` of `partner`, whole.
    pub fn find_source(&self, partner: Partner, partner_id: &str) -> Option<Arc<Offer>> {
        self.find_sources(&[(partner, partner_id)]).pop().flatten()
    }

    /// The offers holding each of these records (`partner`, its
    /// identifier there), in one pass over the list.
    pub fn find_sources(&self, wanted: &[(Partner, &str)]) -> Vec<Option<Arc<Offer>>> {
        let mut at: HashMap<(Partner, &str), Vec<usize>> = HashMap::new();
        for (i, key) in wanted.iter().enumerate() {
            at.entry(*key).or_default().push(i);
        }
        let mut found = vec![None; wanted.len()];
        let mut left = at.len();
        for (position, hit) in self.hits.iter().enumerate() {
            if left == 0 {
                break;
            }
            let holds: Vec<&Vec<usize>> = match hit {
                OfferRef::Whole(o) => o
                    .sources
                    .iter()
                    .filter_map(|s| at.get(&(s.partner, s.partner_id.as_str())))
                    .collect(),
                OfferRef::Packed(i) => {
                    let h = self.packed_record(*i).summary();
                    at.get(&(h.sources.primary(), h.partner_id))
                        .into_iter()
                        .collect()
                }
            };
            for indices in holds {
                if found[indices[0]].is_none() {
                    left -= 1;
                    let offer = self.get(position);
                    for &i in indices {
                        found[i] = Some(offer.clone());
                    }
                }
            }
        }
        found
    }

    /// A list of whole offers.
    pub fn whole(offers: impl IntoIterator<Item = Arc<Offer>>) -> Self {
        Self::new(offers.into_iter().map(OfferRef::Whole).collect(), None)
    }

    /// How many offers.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    fn summary_of<'a>(&'a self, hit: &'a OfferRef) -> OfferSummary<'a> {
        match hit {
            OfferRef::Whole(o) => OfferSummary::of(o),
            OfferRef::Packed(i) => self.packed_record(*i).summary(),
        }
    }

    fn order_key_of<'a>(&'a self, hit: &'a OfferRef) -> OrderKey<'a> {
        match hit {
            OfferRef::Whole(o) => {
                let s = o.primary_source();
                (std::cmp::Reverse(o.published_at), s.partner, &s.partner_id)
            }
            OfferRef::Packed(i) => self.packed_record(*i).order_key(),
        }
    }

    fn packed_record(&self, i: u32) -> &PackedOffer {
        self.packed
            .as_ref()
            .expect("packed hits come with their records")
            .record(i)
    }

    /// What searches read of the offer at `i`.
    pub fn summary(&self, i: usize) -> OfferSummary<'_> {
        self.summary_of(&self.hits[i])
    }

    /// The summaries of every offer, in order.
    pub fn summaries(&self) -> impl Iterator<Item = OfferSummary<'_>> + '_ {
        self.hits.iter().map(|h| self.summary_of(h))
    }

    /// The offer at `i`, whole.
    pub fn get(&self, i: usize) -> Arc<Offer> {
        match &self.hits[i] {
            OfferRef::Whole(o) => o.clone(),
            OfferRef::Packed(p) => Arc::new(self.packed_record(*p).unpack()),
        }
    }

    /// The offers from `start` to `end`, whole.
    pub fn range(&self, start: usize, end: usize) -> Vec<Arc<Offer>> {
        (start..end).map(|i| self.get(i)).collect()
    }

    /// The first offers whose summary passes `keep`, at most `n`, whole.
    pub fn first_where(&self, n: usize, keep: impl Fn(&OfferSummary) -> bool) -> Vec<Arc<Offer>> {
        (0..self.len())
            .filter(|&i| keep(&self.summary(i)))
            .take(n)
            .map(|i| self.get(i))
            .collect()
    }

    /// The offers at `positions` of this list, in that order.
    pub fn picked(&self, positions: impl IntoIterator<Item = u32>) -> OfferList {
        OfferList {
            hits: positions
                .into_iter()
                .map(|at| self.hits[at as usize].clone())
                .collect(),
            packed: self.packed.clone(),
        }
    }

    /// The list with its first `n` offers held whole: for a list kept
    /// while its first page is read again and again.
    pub fn with_head_unpacked(mut self, n: usize) -> OfferList {
        for at in 0..n.min(self.hits.len()) {
            if let OfferRef::Packed(_) = self.hits[at] {
                self.hits[at] = OfferRef::Whole(self.get(at));
            }
        }
        self
    }

    /// The offers whose summary passes `keep`, in order.
    pub fn select(&self, keep: impl Fn(&OfferSummary) -> bool) -> OfferList {
        OfferList {
            hits: self
                .hits
                .iter()
                .filter(|h| keep(&self.summary_of(h)))
                .cloned()
                .collect(),
            packed: self.packed.clone(),
        }
    }

    /// The offers of `n` selections at once, each in order, from one pass
    /// over the list: `each` names, through its callback, the selections an
    /// offer's summary belongs to. An offer named twice by one selection is
    /// in it once.
    pub fn select_each(
        &self,
        n: usize,
        mut each: impl FnMut(&OfferSummary, &mut dyn FnMut(usize)),
    ) -> Vec<OfferList> {
        let mut hits: Vec<Vec<OfferRef>> = vec![Vec::new(); n];
        // The position of the offer each selection took last.
        let mut last = vec![usize::MAX; n];
        for (at, hit) in self.hits.iter().enumerate() {
            each(&self.summary_of(hit), &mut |i| {
                if last[i] != at {
                    last[i] = at;
                    hits[i].push(hit.clone());
                }
            });
        }
        hits.into_iter()
            .map(|hits| OfferList {
                hits,
                packed: self.packed.clone(),
            })
            .collect()
    }

    /// The first position whose summary does not pass `before`, the list being
    /// partitioned by it.
    pub fn partition_point(&self, before: impl Fn(&OfferSummary) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(&self.summary(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// How much memory the list holds, roughly, in bytes: its hits, and
    /// the whole offers it keeps alive (a live exchange's answer may leave
    /// its cache before the list does).
    pub fn weight(&self) -> usize {
        let whole = self
            .hits
            .iter()
            .filter(|h| matches!(h, OfferRef::Whole(_)))
            .count();
        self.hits.len() * std::mem::size_of::<OfferRef>() + whole * WHOLE_OFFER_BYTES
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
        let ids = |l: &OfferList| -> Vec<String> {
            l.summaries().map(|h| h.partner_id.to_owned()).collect()
        };
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
}
