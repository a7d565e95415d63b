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

mod list;
mod offer;
mod summary;

pub use list::{DatedPosition, OfferList, OfferRef, PackedRecords};
pub use offer::{PackedOffer, Packer};
pub use summary::{OfferSummary, OrderKey, Sources};

#[cfg(test)]
pub(crate) mod tests;
