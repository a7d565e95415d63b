//! The taxe d'apprentissage campaign in the API: OPCOs push allocations,
//! the Région reads the campaign, a CFA reads its own line.

mod push;
mod query;
mod rows;

pub use push::CampaignMutation;
pub use query::CampaignQuery;
