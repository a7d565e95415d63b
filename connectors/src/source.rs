//! What a partner provides, whatever the partner: the sources of each
//! unified entity, synced or live, behind a few traits the gateway is
//! written against.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use passerelle_mappings::{Entity, EntityKind, RecordError};
use passerelle_schema::{
    Departement, DiplomaLevel, Event, Formation, Mobility, MobilityProgram, Offer, OrientationSite,
    Partner, RomeCode,
};

use crate::http::unchanged::{Last, PagedAnswer};
use crate::http::{Cached, LiveAnswer, PagesRead};
use crate::{ConnectorError, FeedPull};

/// A partner's feed of entities `E`, which the gateway pulls on a schedule.
pub trait FeedSource<E: Entity>: Send + Sync + 'static {
    /// The partner.
    fn partner(&self) -> Partner;
    /// Pulls the feed, conditionally on `etag` when one is given.
    fn pull<'a>(
        &'a self,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FeedPull<E>, ConnectorError>>;
}

/// A synced source: a feed and how often it is pulled.
#[derive(Clone)]
pub struct Synced<E: Entity> {
    /// The feed.
    pub feed: Arc<dyn FeedSource<E>>,
    /// How often it is pulled.
    pub interval: Duration,
    /// Whether its records are the partner's directory, which its other
    /// records refer to, rather than what it serves: a directory is neither
    /// counted as the partner's records nor needed for readiness.
    pub directory: bool,
}

impl<E: Entity> Synced<E> {
    /// A feed pulled every `interval`.
    pub fn new(feed: impl FeedSource<E>, interval: Duration) -> Self {
        Self {
            feed: Arc::new(feed),
            interval,
            directory: false,
        }
    }

    /// The same feed, as the partner's directory.
    pub fn directory(self) -> Self {
        Self {
            directory: true,
            ..self
        }
    }
}

/// Whose offers a source publishes: a search for public or private
/// employers' offers asks only the sources that may have some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Employers {
    /// Private employers only.
    Private,
    /// Public employers only.
    Public,
}

impl Employers {
    /// Whether a search for public employers' offers (`Some(true)`), private
    /// ones' (`Some(false)`) or any may find some here.
    pub fn admit(self, public_sector: Option<bool>) -> bool {
        public_sector.is_none_or(|p| p == (self == Employers::Public))
    }
}

/// The filters a live exchange of offers may apply itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OfferQuery {
    /// Any of these occupations.
    pub rome: Vec<RomeCode>,
    /// In this département.
    pub departement: Option<Departement>,
    /// At this diploma level.
    pub level: Option<DiplomaLevel>,
}

/// A live exchange's offers for one query, shared while cached.
#[derive(Debug, Clone, Default)]
pub struct OfferAnswer {
    /// The offers that mapped.
    pub offers: Vec<Arc<Offer>>,
    /// The records that did not, with reasons.
    pub rejected: Vec<RecordError>,
    /// How many offers the exchange says match.
    pub total: u64,
    /// Whether the query was for every offer: `total` is then how many
    /// the exchange holds.
    pub whole: bool,
    /// What was read from each page the exchange sent, so that pages sent
    /// again unchanged are not read again.
    pub pages: PagesRead,
}

impl OfferAnswer {
    /// How many offers the exchange holds, when this answer tells.
    pub fn held(&self) -> Option<u64> {
        self.whole.then_some(self.total)
    }
}

impl PagedAnswer for OfferAnswer {
    type Record = Offer;
    fn last(&self) -> Last<'_, Offer> {
        Last {
            records: &self.offers,
            rejected: &self.rejected,
            pages: &self.pages,
        }
    }
}

impl LiveAnswer for OfferAnswer {
    fn records(&self) -> usize {
        self.offers.len()
    }
    fn rejected(&self) -> &[RecordError] {
        &self.rejected
    }
}

/// An exchange of offers asked at request time.
pub trait LiveOffers: Send + Sync + 'static {
    /// The partner.
    fn partner(&self) -> Partner;
    /// Whose offers it publishes.
    fn employers(&self) -> Employers;
    /// The offers matching `query` (the exchange may answer more: the
    /// gateway filters them again).
    fn search(
        self: Arc<Self>,
        query: OfferQuery,
    ) -> BoxFuture<'static, Result<Cached<OfferAnswer>, ConnectorError>>;
    /// One offer by its identifier at the exchange.
    fn offer(
        self: Arc<Self>,
        partner_id: String,
    ) -> BoxFuture<'static, Result<Option<Arc<Offer>>, ConnectorError>>;
}

/// The filters a live mobility system may apply itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MobilityQuery {
    /// The apprentice's CFA (UAI).
    pub uai: Option<String>,
    /// The year of departure.
    pub year: Option<i32>,
    /// The destination (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

/// A live mobility system's mobilities for one query.
#[derive(Debug, Default)]
pub struct MobilityAnswer {
    /// The mobilities that mapped.
    pub mobilities: Vec<Arc<Mobility>>,
    /// The records that did not.
    pub rejected: Vec<RecordError>,
    /// What was read from each page, as for offers.
    pub pages: PagesRead,
}

impl PagedAnswer for MobilityAnswer {
    type Record = Mobility;
    fn last(&self) -> Last<'_, Mobility> {
        Last {
            records: &self.mobilities,
            rejected: &self.rejected,
            pages: &self.pages,
        }
    }
}

impl LiveAnswer for MobilityAnswer {
    fn records(&self) -> usize {
        self.mobilities.len()
    }
    fn rejected(&self) -> &[RecordError] {
        &self.rejected
    }
}

/// A mobility programme's system asked at request time.
pub trait LiveMobility: Send + Sync + 'static {
    /// The partner.
    fn partner(&self) -> Partner;
    /// The programme whose mobilities it holds.
    fn program(&self) -> MobilityProgram;
    /// The mobilities matching `query`.
    fn mobilities(
        self: Arc<Self>,
        query: MobilityQuery,
    ) -> BoxFuture<'static, Result<Cached<MobilityAnswer>, ConnectorError>>;
}

/// Apprentices in the public sector in a year, by employer type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicCounts {
    /// The year.
    pub year: i32,
    /// The State.
    pub etat: u32,
    /// Local authorities.
    pub territoriale: u32,
    /// Public hospitals.
    pub hospitaliere: u32,
}

impl LiveAnswer for PublicCounts {
    fn records(&self) -> usize {
        1
    }
}

/// A system that counts the public sector's apprentices, asked at request
/// time.
pub trait LivePublicCounts: Send + Sync + 'static {
    /// The partner.
    fn partner(&self) -> Partner;
    /// The counts of `year`.
    fn counts(
        self: Arc<Self>,
        year: i32,
    ) -> BoxFuture<'static, Result<Cached<PublicCounts>, ConnectorError>>;
}

/// One source of a partner.
#[derive(Clone)]
pub enum Source {
    /// A feed of offers, and whose offers it publishes.
    OfferFeed(Synced<Offer>, Employers),
    /// An exchange of offers asked live.
    LiveOffers(Arc<dyn LiveOffers>),
    /// A training catalogue.
    Formations(Synced<Formation>),
    /// A feed of mobilities.
    MobilityFeed(Synced<Mobility>),
    /// A mobility system asked live.
    LiveMobility(Arc<dyn LiveMobility>),
    /// A directory of orientation sites.
    Sites(Synced<OrientationSite>),
    /// A feed of events.
    Events(Synced<Event>),
    /// Counts of the public sector's apprentices, asked live.
    PublicCounts(Arc<dyn LivePublicCounts>),
}

impl Source {
    /// The entity it provides.
    pub fn entity(&self) -> EntityKind {
        match self {
            Source::OfferFeed(..) | Source::LiveOffers(_) | Source::PublicCounts(_) => {
                EntityKind::Offer
            }
            Source::Formations(_) => EntityKind::Formation,
            Source::MobilityFeed(_) | Source::LiveMobility(_) => EntityKind::Mobility,
            Source::Sites(_) => EntityKind::Site,
            Source::Events(_) => EntityKind::Event,
        }
    }

    /// Whether it is pulled on a schedule.
    pub fn is_synced(&self) -> bool {
        matches!(
            self,
            Source::OfferFeed(..)
                | Source::Formations(_)
                | Source::MobilityFeed(_)
                | Source::Sites(_)
                | Source::Events(_)
        )
    }
}
