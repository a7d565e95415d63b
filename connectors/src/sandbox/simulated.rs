//! What the sandbox needs of a partner's folder: its simulator's routes, and
//! for a synced feed, the document its simulator serves.

use super::faults::Faults;
use super::running::SandboxData;
use super::settings::SandboxSettings;
use crate::feed::{FeedConfig, FeedSpec};

/// A partner's simulator: what the sandbox needs of a partner's folder.
pub trait Simulated: crate::registry::PartnerSpec {
    /// Its simulator's routes, serving the sandbox's data with `faults`.
    fn simulator(data: &SandboxData, faults: Faults) -> axum::Router;
    /// Its connection settings against its simulator at `base`.
    fn sandboxed(base: &url::Url, settings: &SandboxSettings) -> Self::Config;
}

/// The simulator of a partner whose data is one feed: the feed's path and
/// its routes; its settings against it are the feed's defaults at that
/// path.
pub trait FeedSimulator: FeedSpec {
    /// Where the simulator serves the feed.
    const PATH: &'static str;
    /// Its routes, serving the sandbox's data with `faults`.
    fn router(data: &SandboxData, faults: Faults) -> axum::Router;
}

impl<S: FeedSimulator> Simulated for S {
    fn simulator(data: &SandboxData, faults: Faults) -> axum::Router {
        S::router(data, faults)
    }

    fn sandboxed(base: &url::Url, settings: &SandboxSettings) -> FeedConfig<S> {
        let url = base
            .join(S::PATH)
            .expect("a simulator's path is a relative URL");
        let mut config = FeedConfig::new(url);
        config.resilience = settings.resilience.clone();
        config
    }
}
