//! Who is calling: JWT bearer tokens checked against the identity
//! provider's keys, and the scopes and claims they carry.

mod caller;
mod claims;
pub mod issuer;
mod jwks;
mod jwt;
mod keys;

pub use caller::Caller;
pub use claims::ClaimMap;
pub use jwks::{JwksRefresh, KeyFetches};
pub use jwt::{AuthError, Validator};
