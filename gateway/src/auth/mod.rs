//! Who is calling: JWT bearer tokens checked against the identity
//! provider's keys, and the scopes and claims they carry.

pub mod issuer;
mod jwks;
mod jwt;
mod keys;

pub use jwks::{JwksRefresh, KeyFetches};
pub use jwt::{AuthError, Validator};

/// The caller of an operation, as its token says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The token's subject.
    pub subject: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The OPCO the caller acts for (`opco` claim).
    pub opco: Option<String>,
    /// The CFA the caller is (`cfa` claim, a UAI).
    pub cfa: Option<String>,
}

impl Caller {
    /// Whether the caller was granted `scope`.
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}
