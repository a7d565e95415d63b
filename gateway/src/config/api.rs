//! `[api]`: what the API exposes besides answers, and its response cache.

use super::load::yes;
use std::path::PathBuf;

use serde::Deserialize;

/// What the API exposes besides answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Whether the schema may be introspected (turn off in production).
    #[serde(default = "yes")]
    pub introspection: bool,
    /// Whether a browser gets GraphiQL at `/graphql`.
    #[serde(default = "yes")]
    pub graphiql: bool,
    /// The web origins allowed to call the API from a browser
    /// (`https://www.apprentissage-normandie.fr`); `*` for any.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// A manifest of trusted documents (JSON: SHA-256 hex → document);
    /// when set, only these documents run, sent whole or by hash.
    #[serde(default)]
    pub trusted_documents: Option<PathBuf>,
    /// How long a complete answer to a query is served again to the same
    /// request from callers who may see the same things, unless the data
    /// changes first; `0s` turns the response cache off.
    #[serde(default = "default_response_cache_ttl", with = "humantime_serde")]
    pub response_cache_ttl: std::time::Duration,
    /// The most bytes of answers the response cache keeps.
    #[serde(default = "default_response_cache_bytes")]
    pub response_cache_max_bytes: u64,
    /// Whether the pages that can be (CFAs, with their programmes,
    /// offers, events and mobility) are written to JSON in one pass rather
    /// than field by field by the engine: the same answer, for a fraction
    /// of the CPU. `false` runs every field through the engine.
    #[serde(default = "yes")]
    pub write_json: bool,
}

fn default_response_cache_ttl() -> std::time::Duration {
    std::time::Duration::from_secs(2)
}
fn default_response_cache_bytes() -> u64 {
    8 << 20
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            introspection: true,
            graphiql: true,
            cors_origins: Vec::new(),
            trusted_documents: None,
            response_cache_ttl: default_response_cache_ttl(),
            response_cache_max_bytes: default_response_cache_bytes(),
            write_json: true,
        }
    }
}
