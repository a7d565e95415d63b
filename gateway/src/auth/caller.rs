//! The caller of an operation: who, with which scopes, for which OPCO or CFA.

/// The caller of an operation, as its token says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The token's subject.
    pub subject: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The OPCO the caller acts for (`opco` claim, or as `[auth.claims]`
    /// says).
    pub opco: Option<String>,
    /// The CFA the caller is (a UAI: `cfa` claim, or as `[auth.claims]`
    /// says).
    pub cfa: Option<String>,
    /// When the token stops being accepted (the second after its `exp`
    /// plus the clock skew tolerated, seconds since the Unix epoch): what
    /// it grants ends then, on an open connection too.
    pub expires: Option<u64>,
}

impl Caller {
    /// Whether the caller was granted `scope`.
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// How long until the token expires, from now; `None` for an
    /// anonymous caller or a token without expiry.
    pub fn expires_in(&self) -> Option<std::time::Duration> {
        let exp = std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.expires?);
        Some(
            exp.duration_since(std::time::SystemTime::now())
                .unwrap_or_default(),
        )
    }
}
