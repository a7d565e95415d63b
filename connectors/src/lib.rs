//! Partner connectors, their simulators, and the HTTP plumbing they share.
//!
//! One folder per partner holds everything about it: its configuration, its
//! wire types exactly as the partner sends them, its client and its
//! simulator (the executable specification of the partner's protocol, which
//! the sandbox runs on loopback). Connectors hand partner records to the
//! mapping engine and return unified entities; they never build GraphQL
//! values.

pub mod carif;
pub mod cci;
pub mod cma;
pub mod cnfpt;
pub mod declared;
pub mod erasmus;
mod error;
pub mod feed;
pub mod http;
pub mod passmonde;
pub mod registry;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod source;
pub mod spro;

pub use error::ConnectorError;
pub use feed::{
    FeedChunk, FeedClient, FeedConfig, FeedConnector, FeedEnd, FeedPiece, FeedPull, FeedRecords,
    FeedSpec,
};
pub use registry::{Configured, PartnerKind, Registry};
pub use source::{FeedSource, Source, Synced};
