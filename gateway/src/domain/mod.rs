//! What the API answers, built from the partners' sources: offers merged
//! across exchanges (and packed, a hundred thousand of them), programmes,
//! events, mobility, the CFAs that gather them, and the taxe
//! d'apprentissage campaign.

pub mod alerts;
pub mod campaign;
pub mod cfas;
pub mod events;
pub mod facets;
pub mod formations;
pub mod markup;
pub mod mobility;
pub mod occupations;
pub mod offers;
pub mod words;
