//! What searches, orders and joins read of an offer, whole or packed.

use chrono::{DateTime, NaiveDate, Utc};
use passerelle_schema::{
    DiplomaLevel, InseeCommune, Offer, OfferSource, OfferStatus, Partner, RomeCode, Siret,
};

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
