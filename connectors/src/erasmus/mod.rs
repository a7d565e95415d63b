//! Erasmus+ — the Beneficiary Module's CSV export of the mobility
//! activities of Normandy CFAs' projects. Synced mode.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use client::{ErasmusConfig, ErasmusConnector};
