//! CNFPT — public-sector apprenticeship: a SOAP 1.1 web service behind HTTP
//! basic auth, with faults for errors. Live mode: answers cached.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use client::{CnfptConfig, CnfptConnector, CnfptOffers, PublicCounts};
