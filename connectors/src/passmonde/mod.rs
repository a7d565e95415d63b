//! Région Normandie — Pass Monde: mobility grants, a REST/JSON API behind an
//! API key, with page-number pagination. Live mode: filters pushed down,
//! answers cached.
//!
//! The partner is declared (`mappings/passmonde/partner.toml`, read by
//! [`crate::declared`]): this folder holds its identity, as its simulator
//! and the tests name it, and its simulator.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use passerelle_schema::{Partner, PartnerInfo, PartnerMode};

/// The Région's Pass Monde grants.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "passmonde",
    api_name: "PASS_MONDE",
    name: "Région Normandie — Pass Monde",
    about: "Région Normandie — Pass Monde grants.",
    mode: PartnerMode::Live,
});
