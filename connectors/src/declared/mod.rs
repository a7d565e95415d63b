//! Partners declared rather than written: an identity and the feeds a
//! partner publishes, read from a `[[partners]]` table with
//! `kind = "declared"` (or shipped with Passerelle as a `partner.toml`
//! beside the partner's mapping files), their records read by the
//! partner's mapping files. A declared partner gets what every partner
//! gets: the sync loop and its history, the call policy (retries, breaker,
//! bulkhead), health, metrics and traces under its identifier, and its
//! value in the API's `PartnerId`.
//!
//! [`Declaration`] is what is written, checked with no IO; [`DeclaredKind`]
//! registers it; [`DeclaredConfig`] is a configured declared partner, whose
//! sources are [`FeedConnector`](crate::feed::FeedConnector)s.

mod declaration;
mod kind;
pub mod live;
mod settings;
pub mod shipped;

pub use declaration::{Declaration, FeedDeclaration, DECLARED};
pub use kind::DeclaredKind;
#[cfg(feature = "sandbox")]
pub use kind::Simulation;
pub use settings::DeclaredConfig;

#[cfg(test)]
mod tests;
