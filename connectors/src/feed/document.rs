//! The configuration of a compiled partner whose sync starts from one
//! document at one URL (the SPRO's directory, a test's partner): the same
//! for every such partner but for a few defaults (see [`FeedSpec`]).

use std::marker::PhantomData;
use std::time::Duration;

use passerelle_mappings::{Catalog, Entity};
use passerelle_schema::Partner;
use serde::Deserialize;

use super::FeedConnector;
use crate::http::{HttpSettings, ResilienceSettings};
use crate::registry::{mapping, toml_table, Configured, MissingMapping, PartnerSpec, Table};
use crate::source::{Source, Synced};

/// What sets a partner's feed apart from the others: its entity, the key
/// its URL is configured under, and its defaults.
pub trait FeedSpec: Send + Sync + 'static {
    /// The records it holds.
    type Entity: Entity;
    /// The partner.
    const PARTNER: Partner;
    /// The configuration key of the feed's URL (`feed_url`).
    const URL_KEY: &'static str;
    /// How often it is pulled unless configured.
    const INTERVAL: Duration;
    /// How long one pull may take unless configured.
    const TIMEOUT: Duration = Duration::from_secs(10);
    /// Whether it is mapped as it is downloaded, never held whole: for a
    /// feed of tens of megabytes.
    const STREAMED: bool = false;
    /// The mapping files shipped with the partner: each a path under
    /// `mappings/` and its text.
    const MAPPINGS: &'static [(&'static str, &'static str)];
    /// What the partner provides, from its configuration: for most, the
    /// feed alone, as [`FeedConfig::synced`] builds it.
    fn sources(config: &FeedConfig<Self>, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping>
    where
        Self: Sized;
}

/// How to reach a feed, and how often to pull it.
pub struct FeedConfig<S> {
    /// The feed's URL.
    pub url: url::Url,
    /// How often it is pulled.
    pub sync_interval: Duration,
    /// Timeouts.
    pub http: HttpSettings,
    /// Retries, circuit breaker and bulkhead.
    pub resilience: ResilienceSettings,
    spec: PhantomData<fn() -> S>,
}

/// The settings of a feed beside its URL, as configured.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default, with = "humantime_serde")]
    sync_interval: Option<Duration>,
    #[serde(default)]
    http: Option<HttpSettings>,
    #[serde(default)]
    resilience: Option<ResilienceSettings>,
}

impl<S: FeedSpec> FeedConfig<S> {
    /// A configuration with the partner's defaults for a feed at `url`.
    pub fn new(url: url::Url) -> Self {
        Self {
            url,
            sync_interval: S::INTERVAL,
            http: HttpSettings {
                timeout: S::TIMEOUT,
                ..HttpSettings::default()
            },
            resilience: ResilienceSettings::default(),
            spec: PhantomData,
        }
    }

    /// Reads a configuration table: the URL under the partner's key, and
    /// `sync_interval`, `http` and `resilience`, each optional.
    pub fn read(mut table: Table) -> Result<Self, serde_json::Error> {
        use serde::de::Error as _;
        let url = table
            .remove(S::URL_KEY)
            .ok_or_else(|| serde_json::Error::missing_field(S::URL_KEY))?;
        let url = url::Url::deserialize(url)
            .map_err(|e| serde_json::Error::custom(format!("{}: {e}", S::URL_KEY)))?;
        let settings = Settings::deserialize(serde_json::Value::Object(table))?;
        let mut config = Self::new(url);
        if let Some(i) = settings.sync_interval {
            config.sync_interval = i;
        }
        if let Some(h) = settings.http {
            config.http = h;
        }
        if let Some(r) = settings.resilience {
            config.resilience = r;
        }
        Ok(config)
    }
}

impl<S: FeedSpec> FeedConfig<S> {
    /// The feed's connector, mapped by the partner's mapping of its
    /// entity in `catalog`, pulled every `sync_interval`.
    pub fn synced(&self, catalog: &Catalog) -> Result<Synced<S::Entity>, MissingMapping> {
        let mapping = mapping(catalog, S::PARTNER, <S::Entity as Entity>::KIND)?;
        let connector = FeedConnector::new(
            S::PARTNER,
            self.url.clone(),
            &self.http,
            self.resilience.clone(),
            S::STREAMED,
            mapping,
        );
        Ok(Synced::new(connector, self.sync_interval))
    }
}

impl<S: FeedSpec> Configured for FeedConfig<S> {
    /// The URL alone: the other settings are the defaults.
    fn table(&self) -> toml::Table {
        toml_table([(S::URL_KEY, self.url.as_str().into())])
    }

    fn sources(&self, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        S::sources(self, catalog)
    }
}

/// A partner whose data is one feed is registered as any other: its
/// settings are a [`FeedConfig`].
impl<S: FeedSpec> PartnerSpec for S {
    type Config = FeedConfig<S>;
    const PARTNER: Partner = <S as FeedSpec>::PARTNER;
    const MAPPINGS: &'static [(&'static str, &'static str)] = <S as FeedSpec>::MAPPINGS;
}

impl<'de, S: FeedSpec> Deserialize<'de> for FeedConfig<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = Table::deserialize(d)?;
        Self::read(table).map_err(serde::de::Error::custom)
    }
}

impl<S> Clone for FeedConfig<S> {
    fn clone(&self) -> Self {
        Self {
            url: self.url.clone(),
            sync_interval: self.sync_interval,
            http: self.http.clone(),
            resilience: self.resilience.clone(),
            spec: PhantomData,
        }
    }
}

impl<S> std::fmt::Debug for FeedConfig<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedConfig")
            .field("url", &self.url.as_str())
            .field("sync_interval", &self.sync_interval)
            .field("http", &self.http)
            .field("resilience", &self.resilience)
            .finish()
    }
}
