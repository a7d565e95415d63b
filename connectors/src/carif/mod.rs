//! Carif-Oref Normandie — the catalogue of apprenticeship programmes, one
//! LHÉO XML document with `ETag`. Synced mode.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use client::{CarifConfig, CarifConnector};
