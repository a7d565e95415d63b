//! The `passerelle` command line, a file per command.

mod args;
mod campaign;
mod common;
mod mapping;
mod partner;
mod run;
mod serve;

pub use args::Cli;
pub use run::run;
