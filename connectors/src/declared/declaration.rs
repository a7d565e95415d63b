//! What a declaration says, and the checks it passes before anything is
//! called: an identity the API can name, and feeds each of one entity.

use std::time::Duration;

use passerelle_mappings::EntityKind;
use passerelle_schema::{Partner, PartnerInfo, PartnerMode};
use serde::Deserialize;

use super::live::LiveDeclaration;
use crate::http::{HttpSettings, ResilienceSettings};
use crate::source::Employers;

/// The `kind` of a `[[partners]]` table that declares its partner.
pub const DECLARED: &str = "declared";

/// A partner, declared: who it is and what it publishes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Its identifier in configuration, URLs, ids and the store: lower-case
    /// ASCII letters, digits, `-` and `_`, a letter first.
    pub id: String,
    /// Its value in the API's `PartnerId` enum: upper-case ASCII letters,
    /// digits and `_`, a letter first.
    pub api_name: String,
    /// Its name for people.
    pub name: String,
    /// What its data is, in a line: the API's description of its value.
    pub about: String,
    /// The feeds it publishes, pulled on a schedule.
    #[serde(default)]
    pub feeds: Vec<FeedDeclaration>,
    /// Its APIs asked at request time.
    #[serde(default)]
    pub live: Vec<LiveDeclaration>,
}

/// A feed a declared partner publishes: one document at one URL, in the
/// format its entity's mapping file reads (JSON, XML, CSV, iCalendar,
/// LHÉO).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedDeclaration {
    /// What its records are: `offer`, `formation`, `mobility`, `event` or
    /// `site`; mapped by the partner's `<entity>.toml`.
    #[serde(deserialize_with = "entity")]
    pub entity: EntityKind,
    /// Its URL.
    pub url: url::Url,
    /// How often it is pulled; an hour unless said.
    #[serde(default = "hourly", with = "humantime_serde")]
    pub sync_interval: Duration,
    /// Whether it is mapped as it is downloaded, never held whole: for a
    /// feed of tens of megabytes.
    #[serde(default)]
    pub streamed: bool,
    /// For offers: whose they are, `private` (the default) or `public`
    /// employers'.
    #[serde(default)]
    pub employers: Option<EmployersDeclared>,
    /// Timeouts; 10 s a call unless said.
    #[serde(default)]
    pub http: HttpSettings,
    /// Retries, circuit breaker and bulkhead.
    #[serde(default)]
    pub resilience: ResilienceSettings,
}

/// Whose offers a feed publishes, as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmployersDeclared {
    /// Private employers'.
    Private,
    /// Public employers'.
    Public,
}

impl From<EmployersDeclared> for Employers {
    fn from(e: EmployersDeclared) -> Self {
        match e {
            EmployersDeclared::Private => Employers::Private,
            EmployersDeclared::Public => Employers::Public,
        }
    }
}

fn hourly() -> Duration {
    Duration::from_secs(3600)
}

pub(crate) fn entity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<EntityKind, D::Error> {
    let name = String::deserialize(d)?;
    EntityKind::parse(&name).map_err(serde::de::Error::custom)
}

/// Reads `value` as a `T`; the error names where in it (`feeds[0].url`).
pub(crate) fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

/// The longest identifier or API name.
const MAX_NAME: usize = 40;

impl Declaration {
    /// Reads a declaration from its table, `kind` removed, and checks it;
    /// the error names the setting at fault.
    pub fn read(table: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let declaration: Declaration = read(serde_json::Value::Object(table))?;
        declaration.check()?;
        Ok(declaration)
    }

    /// Its identity, as the API and the store know it.
    pub fn info(&self) -> PartnerInfo<String> {
        PartnerInfo {
            id: self.id.clone(),
            api_name: self.api_name.clone(),
            name: self.name.clone(),
            about: self.about.clone(),
            mode: if self.live.is_empty() {
                PartnerMode::Synced
            } else {
                PartnerMode::Live
            },
        }
    }

    /// Its partner, declared in this process.
    pub fn partner(&self) -> Result<Partner, String> {
        Partner::declare_read(self.info()).map_err(|e| format!("id: {e}"))
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let named = |s: &str, first: fn(char) -> bool, rest: fn(char) -> bool| {
            let mut chars = s.chars();
            s.len() <= MAX_NAME && chars.next().is_some_and(first) && chars.all(rest)
        };
        if !named(
            &self.id,
            |c| c.is_ascii_lowercase(),
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_',
        ) {
            return Err(format!(
                "id: {:?} is not an identifier (lower-case letters, digits, `-` and `_`, a letter first, at most {MAX_NAME})",
                self.id
            ));
        }
        if !named(
            &self.api_name,
            |c| c.is_ascii_uppercase(),
            |c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_',
        ) {
            return Err(format!(
                "api_name: {:?} is not a GraphQL enum value (upper-case letters, digits and `_`, a letter first, at most {MAX_NAME})",
                self.api_name
            ));
        }
        for (key, value) in [("name", &self.name), ("about", &self.about)] {
            if value.trim().is_empty() {
                return Err(format!("{key}: must not be empty"));
            }
        }
        if self.feeds.is_empty() && self.live.is_empty() {
            return Err(
                "feeds, live: a declared partner publishes at least one feed or live source".into(),
            );
        }
        for (i, feed) in self.feeds.iter().enumerate() {
            let at = |reason: String| format!("feeds[{i}]: {reason}");
            if self.feeds[..i].iter().any(|f| f.entity == feed.entity) {
                return Err(at(format!(
                    "a second feed of {}s (one feed an entity, each read by its mapping file)",
                    feed.entity.name()
                )));
            }
            if !matches!(feed.url.scheme(), "http" | "https") {
                return Err(at(format!("url: {} is not http(s)", feed.url)));
            }
            if feed.employers.is_some() && feed.entity != EntityKind::Offer {
                return Err(at(format!(
                    "employers: only a feed of offers has employers, not one of {}s",
                    feed.entity.name()
                )));
            }
            if feed.sync_interval < Duration::from_secs(1) {
                return Err(at("sync_interval: at least one second".into()));
            }
        }
        for (i, live) in self.live.iter().enumerate() {
            let at = |reason: String| format!("live[{i}]: {reason}");
            let twice = self
                .feeds
                .iter()
                .map(|f| f.entity)
                .chain(self.live[..i].iter().map(|l| l.entity));
            if twice.into_iter().any(|e| e == live.entity) {
                return Err(at(format!(
                    "a second source of {}s (one source an entity, each read by its mapping file)",
                    live.entity.name()
                )));
            }
            live.check().map_err(at)?;
        }
        Ok(())
    }
}
