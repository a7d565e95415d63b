//! CCI Normandie — bourse de l'apprentissage: a REST/JSON API behind OAuth2
//! client credentials, with cursor pagination and filters. Live mode: the
//! gateway's filters are pushed down and answers are cached.
//!
//! The partner is declared (`mappings/cci/partner.toml`, read by
//! [`crate::declared`]): this folder holds its identity, as its simulator
//! and the tests name it, its simulator and the API's JSON it serves.

#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;
pub mod wire;

use passerelle_schema::{Partner, PartnerInfo, PartnerMode};

/// CCI Normandie's exchange of offers.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "cci",
    api_name: "CCI",
    name: "CCI Normandie — bourse de l'apprentissage",
    about: "CCI Normandie — bourse de l'apprentissage.",
    mode: PartnerMode::Live,
});
