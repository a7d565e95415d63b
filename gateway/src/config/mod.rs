//! The gateway's configuration: one TOML file, layered with
//! `PASSERELLE_`-prefixed environment variables and command-line flags.
//!
//! Validation does no IO: whether partners answer is checked at run time
//! and shown by `/readyz` and `partners`.

mod alerts;
mod api;
mod auth;
mod console;
mod federation;
mod limits;
mod load;
mod partners;
mod server;
mod telemetry;

pub use alerts::{AlertSettings, SubscriptionLimits};
pub use api::ApiConfig;
pub use auth::{AuthConfig, ClaimMap, JwksRefresh};
pub use console::ConsoleConfig;
pub use federation::FederationConfig;
pub use limits::{Limits, RateLimits};
pub use load::{Config, ConfigError, Overrides};
pub use partners::{PartnerTables, SandboxConfig};
pub use server::{ClientAddressHeader, ServerConfig};
pub use telemetry::{LogConfig, LogFormat, OtlpProtocol, TelemetryConfig};

#[cfg(test)]
mod tests;
