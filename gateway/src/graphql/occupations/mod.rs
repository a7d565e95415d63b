//! Occupations in the API: the ROME referential's codes with their labels
//! and job titles (`Rome`), the search a portal's box starts with
//! (`occupations`), and how a search's words were read (`Understood`: the
//! occupations they name, the town, the level).

mod query;
mod rome;
mod understood;

pub use query::OccupationQuery;
pub use rome::Rome;
pub use understood::Understood;
