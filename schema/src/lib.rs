//! The unified domain model of Passerelle.
//!
//! Partner systems speak of the same employers, training centres and places in
//! their own words; this crate fixes the one vocabulary the gateway answers in.
//! Identifiers are newtypes that check their format and check key when they are
//! built ("parse, don't validate"): once a value has the type, nobody checks it
//! again. Wire types of partners never appear here.

pub mod allocation;
pub mod event;
pub mod geo;
pub mod ids;
pub mod level;
pub mod mobility;
pub mod money;
pub mod offer;
pub mod partner;
pub mod reference;
pub mod training;

pub use allocation::{Allocation, AllocationInput, Rejection};
pub use event::{
    Event, EventDuration, EventKind, EventPeriod, EventStatus, EventTime, Occurrence,
    OrientationSite, ReadRule, SiteKind,
};
pub use geo::{CommuneCode, Departement, GeoPoint, InseeCommune, Near, Postcode};
pub use ids::{Cfd, IdError, Naf, Opco, Rncp, RomeCode, Siren, Siret, Uai};
pub use level::DiplomaLevel;
pub use mobility::{Mobility, MobilityProgram};
pub use money::Cents;
pub use offer::{
    dedup_hash, merge_duplicates, DedupKey, Employer, Location, Offer, OfferSource, OfferStatus,
    PublicEmployerType,
};
pub use partner::{Partner, PartnerInfo, PartnerMode};
pub use training::{Contact, Formation, Place, Session, TrainingOrg};
