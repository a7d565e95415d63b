//! An offer of a synced feed, packed: what searches read inline, the rest
//! encoded in one allocation and unpacked for the offers a page answers.

use super::summary::{OfferSummary, OrderKey, Sources};

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
    pub(super) published_at: DateTime<Utc>,
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
