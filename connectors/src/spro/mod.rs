//! The SPRO's orientation sites: a JSON directory of sites (CIO, Missions
//! locales, the Cité des métiers, CFAs) and one iCalendar feed of events per
//! site. Synced mode: the directory and the calendars are pulled on a
//! schedule.

mod client;
#[cfg(feature = "sandbox")]
pub mod simulator;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{OrientationSite, Partner, PartnerInfo, PartnerMode};

pub use client::{SproEvents, SproSites};

use crate::feed::{FeedConfig, FeedSpec};
use crate::http::CallPolicy;
use crate::registry::{mapping, Kind, MissingMapping};
use crate::source::{Source, Synced};

/// The SPRO's orientation sites and their calendars.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "spro",
    api_name: "SPRO",
    name: "SPRO Normandie — sites d'orientation et agendas",
    about: "The SPRO's orientation sites and calendars.",
    mode: PartnerMode::Synced,
});

/// The SPRO's directory of sites, from which every site's calendar is
/// read.
pub struct Spro;

impl FeedSpec for Spro {
    type Entity = OrientationSite;
    const PARTNER: Partner = PARTNER;
    const URL_KEY: &'static str = "directory_url";
    const INTERVAL: Duration = Duration::from_secs(3600);
    const MAPPINGS: &'static [(&'static str, &'static str)] = &[
        (
            "spro/site.toml",
            include_str!("../../../mappings/spro/site.toml"),
        ),
        (
            "spro/event.toml",
            include_str!("../../../mappings/spro/event.toml"),
        ),
    ];
    /// The directory, and the events of every site's calendar, their calls
    /// through one policy: one system.
    fn sources(config: &SproConfig, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        let sites = mapping(catalog, PARTNER, EntityKind::Site)?;
        let events = mapping(catalog, PARTNER, EntityKind::Event)?;
        let policy = Arc::new(CallPolicy::new(PARTNER, config.resilience.clone()));
        let interval = config.sync_interval;
        let directory = SproSites::new(config, sites.clone(), policy.clone());
        let calendars = SproEvents::new(config, sites, events, policy);
        Ok(vec![
            Source::Sites(Synced::new(directory, interval).directory()),
            Source::Events(Synced::new(calendars, interval)),
        ])
    }
}

/// Where the SPRO's directory is, and how often to pull it and the calendars.
pub type SproConfig = FeedConfig<Spro>;
/// The SPRO's registration.
pub const KIND: Kind<Spro> = Kind::new();
