//! `[federation]`: Passerelle as an Apollo Federation 2 subgraph.

use super::load::yes;

use serde::Deserialize;

/// Passerelle as an Apollo Federation 2 subgraph.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Whether the subgraph SDL (`_service { sdl }`) carries
    /// `@requiresScopes`, so that a router enforcing it refuses unscoped
    /// callers before they reach Passerelle. Off for routers that refuse a
    /// supergraph with it (`@apollo/gateway`): Passerelle checks every
    /// scope itself either way.
    #[serde(default = "yes")]
    pub requires_scopes: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            requires_scopes: true,
        }
    }
}
