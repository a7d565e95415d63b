//! `[limits]` and `[rate_limits]`: the bounds of a request, and how
//! often a caller may ask.

use serde::Deserialize;

/// Bounds on requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The most items one page of a connection may hold (`first`).
    #[serde(default = "default_max_page")]
    pub max_page_size: usize,
    /// The deepest a query may nest.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// The most fields one query may select, fragments included.
    #[serde(default = "default_max_complexity")]
    pub max_complexity: usize,
    /// The most aliases one document may use.
    #[serde(default = "default_max_aliases")]
    pub max_aliases: usize,
    /// The most root fields one operation may select.
    #[serde(default = "default_max_root_fields")]
    pub max_root_fields: usize,
    /// The most operations one batched request may hold.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// The most representations one operation may give `_entities`, in
    /// all: a router's entity fetch is a page, bounded as pages are.
    #[serde(default = "default_max_representations")]
    pub max_representations: usize,
    /// The most operations one document may define. The whole document is
    /// validated, whichever operation runs.
    #[serde(default = "default_max_operations")]
    pub max_operations: usize,
    /// The most variables one operation may declare.
    #[serde(default = "default_max_variables")]
    pub max_variables: usize,
    /// The most directives on one field, fragment, operation or variable.
    #[serde(default = "default_max_directives")]
    pub max_directives: usize,
    /// The most field selections a document makes with its fragments
    /// expanded where they are spread, over all its operations and
    /// fragments: what validating it costs. Counted before anything else
    /// reads the document, with each fragment counted once.
    #[serde(default = "default_max_selections")]
    pub max_selections: usize,
    /// Requests per second and burst, per client address for anonymous
    /// callers and per token subject for the others.
    #[serde(default)]
    pub rate: RateLimits,
    /// The largest request body, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// The largest allocation upload (`POST /ingest/allocations`), in
    /// bytes; uploads are streamed, so this bounds time, not memory.
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: usize,
    /// How long one GraphQL operation may take: partner calls made for it
    /// give up then, and the fields they feed are answered as failed.
    #[serde(default = "default_operation_timeout", with = "humantime_serde")]
    pub operation_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_page_size: default_max_page(),
            max_depth: default_max_depth(),
            max_complexity: default_max_complexity(),
            max_aliases: default_max_aliases(),
            max_root_fields: default_max_root_fields(),
            max_batch: default_max_batch(),
            max_representations: default_max_representations(),
            max_operations: default_max_operations(),
            max_variables: default_max_variables(),
            max_directives: default_max_directives(),
            max_selections: default_max_selections(),
            rate: RateLimits::default(),
            max_body_bytes: default_max_body(),
            max_upload_bytes: default_max_upload(),
            operation_timeout: default_operation_timeout(),
        }
    }
}

/// Requests allowed per caller.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Requests per second of an anonymous caller (by address).
    #[serde(default = "default_anonymous_rate")]
    pub anonymous_per_second: u32,
    /// Requests per second of a caller with a token (by subject).
    #[serde(default = "default_client_rate")]
    pub client_per_second: u32,
    /// Requests allowed at once above the rate.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            anonymous_per_second: default_anonymous_rate(),
            client_per_second: default_client_rate(),
            burst: default_burst(),
        }
    }
}

fn default_anonymous_rate() -> u32 {
    50
}
fn default_client_rate() -> u32 {
    500
}
fn default_burst() -> u32 {
    100
}

fn default_max_page() -> usize {
    1000
}
fn default_max_depth() -> usize {
    12
}
fn default_operation_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}
fn default_max_representations() -> usize {
    default_max_page()
}
fn default_max_operations() -> usize {
    20
}
fn default_max_variables() -> usize {
    100
}
fn default_max_directives() -> usize {
    10
}
fn default_max_selections() -> usize {
    5000
}
fn default_max_complexity() -> usize {
    1000
}
fn default_max_aliases() -> usize {
    30
}
fn default_max_root_fields() -> usize {
    20
}
fn default_max_batch() -> usize {
    10
}
fn default_max_upload() -> usize {
    2 << 30
}

fn default_max_body() -> usize {
    1024 * 1024
}
