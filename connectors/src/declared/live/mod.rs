//! Live sources declared: a partner's API asked at request time, the
//! search's filters put in its request by templates (REST over JSON or
//! XML, or a SOAP envelope), its pages followed, its answer read by the
//! partner's mapping file, cached and guarded as every live partner's.
//!
//! [`LiveDeclaration`] is what is written and checked; [`Template`] fills
//! a request's parts from a search; [`DeclaredLive`] is the connector.

mod auth;
mod client;
mod declaration;
mod template;
mod web;

pub use auth::AuthDeclared;
pub use client::DeclaredLive;
pub use declaration::{LiveDeclaration, Pagination, Param, RequestDeclaration};
pub use template::{Filters, Template};
