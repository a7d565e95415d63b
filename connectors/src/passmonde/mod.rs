//! Région Normandie — Pass Monde: mobility grants, a REST/JSON API behind an
//! API key, with page-number pagination. Live mode: filters pushed down,
//! answers cached.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use client::{PassMondeConfig, PassMondeConnector, PassMondeQuery};
