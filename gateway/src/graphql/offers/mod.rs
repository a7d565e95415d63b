//! Offers across exchanges: the `Offer` type and what it holds (employer,
//! OPCO, occupations, sources), and `offers` and `offer`, with their
//! filter, order and pages.

mod node;
mod query;

pub use node::{OfferNode, PartnerMode};
pub use query::{OfferConnection, OfferFilterInput, OfferQuery};
