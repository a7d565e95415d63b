//! The partners shipped with Passerelle as declarations: their
//! `partner.toml` and mapping files beside it under `mappings/`, and in a
//! build with the sandbox, the simulator that plays each.

use super::kind::DeclaredKind;

/// A declaration shipped with Passerelle.
pub struct Shipped {
    /// Its file, under `mappings/`.
    file: &'static str,
    /// Its text.
    text: &'static str,
    /// Its partner's mapping files: each a path under `mappings/` and its
    /// text.
    mappings: &'static [(&'static str, &'static str)],
    /// Its simulator.
    #[cfg(feature = "sandbox")]
    simulation: super::kind::Simulation,
}

impl Shipped {
    /// Its registration.
    pub fn kind(&self) -> DeclaredKind {
        let kind = DeclaredKind::shipped(self.file, self.text, self.mappings);
        #[cfg(feature = "sandbox")]
        let kind = kind.simulated(self.simulation);
        kind
    }

    /// Its file, under `mappings/`.
    pub fn file(&self) -> &'static str {
        self.file
    }
}

/// The CCI's exchange of offers: a REST/JSON API behind OAuth2.
pub const CCI: Shipped = Shipped {
    file: "cci/partner.toml",
    text: include_str!("../../../mappings/cci/partner.toml"),
    mappings: &[(
        "cci/offer.toml",
        include_str!("../../../mappings/cci/offer.toml"),
    )],
    #[cfg(feature = "sandbox")]
    simulation: super::kind::Simulation {
        settings: crate::cci::simulator::settings,
        router: crate::cci::simulator::simulate,
    },
};

/// CMA Normandie's exchange of offers: one full XML feed in ISO-8859-1.
pub const CMA: Shipped = Shipped {
    file: "cma/partner.toml",
    text: include_str!("../../../mappings/cma/partner.toml"),
    mappings: &[(
        "cma/offer.toml",
        include_str!("../../../mappings/cma/offer.toml"),
    )],
    #[cfg(feature = "sandbox")]
    simulation: super::kind::Simulation {
        settings: |base| at(base, "feed_url", crate::cma::simulator::FEED_PATH),
        router: crate::cma::simulator::simulate,
    },
};

/// The Carif-Oref's training catalogue: one LHÉO document.
pub const CARIF: Shipped = Shipped {
    file: "carif/partner.toml",
    text: include_str!("../../../mappings/carif/partner.toml"),
    mappings: &[(
        "carif/formation.toml",
        include_str!("../../../mappings/carif/formation.toml"),
    )],
    #[cfg(feature = "sandbox")]
    simulation: super::kind::Simulation {
        settings: |base| at(base, "feed_url", crate::carif::simulator::FEED_PATH),
        router: crate::carif::simulator::simulate,
    },
};

/// Erasmus+ mobilities: one CSV export.
pub const ERASMUS: Shipped = Shipped {
    file: "erasmus/partner.toml",
    text: include_str!("../../../mappings/erasmus/partner.toml"),
    mappings: &[(
        "erasmus/mobility.toml",
        include_str!("../../../mappings/erasmus/mobility.toml"),
    )],
    #[cfg(feature = "sandbox")]
    simulation: super::kind::Simulation {
        settings: |base| at(base, "export_url", crate::erasmus::simulator::EXPORT_PATH),
        router: crate::erasmus::simulator::simulate,
    },
};

/// The settings of a declaration whose one setting `key` is the URL of
/// `path` on a simulator at `base`.
#[cfg(feature = "sandbox")]
fn at(base: &url::Url, key: &str, path: &str) -> crate::registry::Table {
    let url = base
        .join(path)
        .expect("a simulator's path is a relative URL");
    crate::registry::Table::from_iter([(key.to_owned(), url.as_str().into())])
}

/// The Région's Pass Monde grants: a REST/JSON API behind an API key.
pub const PASS_MONDE: Shipped = Shipped {
    file: "passmonde/partner.toml",
    text: include_str!("../../../mappings/passmonde/partner.toml"),
    mappings: &[(
        "passmonde/mobility.toml",
        include_str!("../../../mappings/passmonde/mobility.toml"),
    )],
    #[cfg(feature = "sandbox")]
    simulation: super::kind::Simulation {
        settings: crate::passmonde::simulator::settings,
        router: crate::passmonde::simulator::simulate,
    },
};

/// Every shipped declaration.
pub const ALL: [&Shipped; 5] = [&CCI, &CMA, &CARIF, &ERASMUS, &PASS_MONDE];

impl Shipped {
    /// The connector to the first feed of this partner at `url`,
    /// configured as an operator configures it (`kind = "<id>"`, the URL
    /// under its one setting), mapped by its shipped mapping: for the
    /// tests of its simulator and mapping.
    pub fn connect(&self, url: url::Url) -> Result<crate::feed::FeedConnector, String> {
        let kind = self.kind();
        let key = kind
            .settings()
            .into_iter()
            .next()
            .ok_or("it has no setting")?;
        let table = crate::registry::Table::from_iter([(key, url.as_str().into())]);
        let config = kind.config(table)?;
        let catalog = crate::Registry::standard()
            .catalog(None)
            .map_err(|e| e.to_string())?;
        let feed = config.declaration().feeds.first().ok_or("it has no feed")?;
        config.connector(feed, &catalog).map_err(|e| e.to_string())
    }

    /// The connector to the first live source of this partner configured
    /// by `settings`, as an operator's table gives them, mapped by its
    /// shipped mapping: for the tests of its simulator and mapping.
    pub fn live(
        &self,
        settings: crate::registry::Table,
    ) -> Result<std::sync::Arc<super::live::DeclaredLive>, String> {
        let config = self.kind().config(settings)?;
        let catalog = crate::Registry::standard()
            .catalog(None)
            .map_err(|e| e.to_string())?;
        config
            .live(&catalog)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or_else(|| "it has no live source".into())
    }

    /// The sources of this partner configured by `settings`, as an
    /// operator's table gives them, mapped by its shipped mappings.
    pub fn sources(&self, settings: crate::registry::Table) -> Result<Vec<crate::Source>, String> {
        use crate::registry::Configured;
        let config = self.kind().config(settings)?;
        let catalog = crate::Registry::standard()
            .catalog(None)
            .map_err(|e| e.to_string())?;
        config.sources(&catalog).map_err(|e| e.to_string())
    }
}
