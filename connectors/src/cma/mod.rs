//! CMA Normandie — offers of the craft sector: one full XML feed in
//! ISO-8859-1, with a namespace and `ETag`/`If-None-Match`. Synced mode: the
//! gateway pulls it on a schedule into its store and serves it from there.
//!
//! The partner is declared (`mappings/cma/partner.toml`, read by
//! [`crate::declared`]): this folder holds its identity, as its simulator
//! and the tests name it, and its simulator.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use passerelle_schema::{Partner, PartnerInfo, PartnerMode};

/// CMA Normandie's exchange of offers.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cma",
    api_name: "CMA",
    name: "CMA Normandie — offres de l'artisanat",
    about: "CMA Normandie — offers of the craft sector.",
    mode: PartnerMode::Synced,
});
