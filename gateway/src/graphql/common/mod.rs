//! What every room of the API shares: its errors and their codes, global
//! identifiers, scalars, inputs' checks, places, the shape of a page and
//! where a page stands, the facets beside a search, the values of
//! `PartnerId`, distances from a centre, the notices of an answer, the
//! writer of pages answered in JSON directly, and the state resolvers
//! reach.

pub mod connection;
pub mod errors;
pub mod facets;
pub mod ids;
pub mod inputs;
pub mod near;
pub mod notices;
pub mod page_info;
pub mod partner_id;
pub mod place;
pub mod scalars;
mod state;
pub mod written;

pub use state::ApiState;
