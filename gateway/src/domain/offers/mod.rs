//! Offers from every exchange, merged into one list.
//!
//! Filters go to the partners that can apply them (the CCI API filters by
//! ROME, département and level itself); the records of synced feeds are
//! filtered in memory. Copies of one position on two exchanges are merged
//! (see `passerelle_schema::merge_duplicates`), then the filter is applied to
//! the merged offers and they are ordered newest first. A partner that fails
//! is reported beside the offers the others gave.

mod filter;
mod index;
mod service;

pub use filter::OfferFilter;
pub use service::{words_index, EveryOffer, OfferFeed, OfferLookup, OfferResults, OfferService};

#[cfg(test)]
mod tests;
