//! CMA Normandie — offers of the craft sector: one full XML feed in
//! ISO-8859-1, with a namespace and `ETag`/`If-None-Match`. Synced mode: the
//! gateway pulls it on a schedule into its store and serves it from there.

mod client;
mod config;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use client::CmaConnector;
pub use config::CmaConfig;
