//! Carif-Oref Normandie — the catalogue of apprenticeship programmes, one
//! LHÉO XML document with `ETag`. Synced mode.
//!
//! The partner is declared (`mappings/carif/partner.toml`, read by
//! [`crate::declared`]): this folder holds its identity, as its simulator
//! and the tests name it, and its simulator.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use passerelle_schema::{Partner, PartnerInfo, PartnerMode};

/// The Carif-Oref's catalogue.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "carif",
    api_name: "CARIF",
    name: "Carif-Oref Normandie — catalogue des formations en apprentissage",
    about: "Carif-Oref Normandie — the training catalogue.",
    mode: PartnerMode::Synced,
});
