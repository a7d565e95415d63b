//! Erasmus+ — the Beneficiary Module's CSV export of the mobility
//! activities of Normandy CFAs' projects. Synced mode.
//!
//! The partner is declared (`mappings/erasmus/partner.toml`, read by
//! [`crate::declared`]): this folder holds its identity, as its simulator
//! and the tests name it, and its simulator.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use passerelle_schema::{Partner, PartnerInfo, PartnerMode};

/// The Erasmus+ export of Normandy CFAs' mobilities.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "erasmus",
    api_name: "ERASMUS",
    name: "Erasmus+ — mobilités des apprentis des CFA normands",
    about: "Erasmus+ — mobilities of Normandy CFAs' apprentices.",
    mode: PartnerMode::Synced,
});
