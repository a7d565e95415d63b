//! The partners, as the gateway holds them: their health, the sources they
//! provide once configured, and the engine that syncs the synced ones into
//! the store and serves them from memory.

pub mod derived;
pub mod health;
pub mod packed;
pub mod sources;
pub mod sync;
