//! The partner sandbox: every simulator, started together on loopback.
//!
//! `passerelle serve` with no configuration starts it in-process so that a
//! newcomer has a working gateway in one command; `passerelle sandbox` runs
//! it alone on fixed ports, for benchmarks and for trying a connector.

pub mod campaign;
pub mod cfas;
pub mod document;
pub mod faults;
pub mod generate;
pub mod mobility;
mod running;
mod server;
mod settings;
mod simulated;

pub use faults::{FaultReport, FaultUpdate, Faults};
pub use generate::DatasetSettings;
pub use running::{Sandbox, SandboxData, Simulator};
pub use server::SimServer;
pub use settings::SandboxSettings;
pub use simulated::{FeedSimulator, Simulated};
