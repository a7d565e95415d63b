//! The SPRO's orientation sites: a JSON directory of sites (CIO, Missions
//! locales, the Cité des métiers, CFAs) and one iCalendar feed of events per
//! site. Synced mode: the directory and the calendars are pulled on a
//! schedule.

mod client;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use client::{SproConfig, SproEvents, SproSites};
