//! CCI Normandie — bourse de l'apprentissage: a REST/JSON API behind OAuth2
//! client credentials, with cursor pagination and filters. Live mode: the
//! gateway's filters are pushed down and answers are cached.

mod client;
mod config;
pub mod simulator;
#[cfg(test)]
mod tests;
pub mod wire;

pub use client::{CciAnswer, CciConnector, CciQuery};
pub use config::CciConfig;
