//! A declared partner, configured: its feeds and live sources with every
//! setting, and the sources they make.
//!
//! A declaration shipped with Passerelle leaves what a deployment knows to
//! its operator: a string `"${name}"` anywhere in it is the value of
//! `name` in the partner's `[[partners]]` table (`kind = "cma"`,
//! `feed_url = "…"`; a secret as `{ env = "…" }` or `{ file = "…" }`).
//! That table may also set `sync_interval`, `http` and `resilience` for
//! every source, and nothing else.

use std::sync::Arc;
use std::time::Duration;

use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::{Event, Formation, Mobility, Offer, OrientationSite, Partner};
use serde::Deserialize;

use super::declaration::{read, Declaration, FeedDeclaration};
use super::live::DeclaredLive;
use crate::feed::FeedConnector;
use crate::http::{HttpSettings, ResilienceSettings};
use crate::registry::{mapping, Configured, MissingMapping, Table};
use crate::source::{Employers, Source, Synced};

/// A declared partner with its settings.
#[derive(Debug, Clone)]
pub struct DeclaredConfig {
    partner: Partner,
    declaration: Arc<Declaration>,
    /// The table it was configured by, for a shipped declaration: what
    /// reads back as this configuration.
    settings: Option<Table>,
}

/// What the table of a shipped declaration may set beside its settings:
/// for every source of the partner (the cache's and the page's size, for
/// its live ones).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    #[serde(default, with = "humantime_serde")]
    sync_interval: Option<Duration>,
    #[serde(default)]
    http: Option<HttpSettings>,
    #[serde(default)]
    resilience: Option<ResilienceSettings>,
    #[serde(default, with = "humantime_serde")]
    cache_ttl: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    stale_for: Option<Duration>,
    #[serde(default)]
    cache_max_bytes: Option<u64>,
    #[serde(default)]
    page_size: Option<u32>,
}

/// A setting a shipped declaration leaves to operators: `"${name}"`, a
/// key of the partner's table or of a table in it (`credentials.client_id`);
/// `"${name?}"` when it may be left out (the declaration's key is then
/// left out too, and takes its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Its path in the partner's table, dotted.
    pub name: String,
    /// Whether it may be left out.
    pub optional: bool,
}

impl Setting {
    fn of(v: &serde_json::Value) -> Option<Setting> {
        let inner = v.as_str()?.strip_prefix("${")?.strip_suffix('}')?;
        Some(match inner.strip_suffix('?') {
            Some(name) => Setting {
                name: name.to_owned(),
                optional: true,
            },
            None => Setting {
                name: inner.to_owned(),
                optional: false,
            },
        })
    }

    /// Its value in `table`.
    fn in_table<'t>(&self, table: &'t Table) -> Option<&'t serde_json::Value> {
        let mut parts = self.name.split('.');
        let mut value = table.get(parts.next()?)?;
        for part in parts {
            value = value.as_object()?.get(part)?;
        }
        Some(value)
    }
}

/// The settings a shipped declaration leaves to operators, in order.
pub fn settings_of(template: &serde_json::Value) -> Vec<Setting> {
    let mut settings: Vec<Setting> = Vec::new();
    let mut each = |v: &serde_json::Value| {
        if let Some(setting) = Setting::of(v) {
            if !settings.iter().any(|s| s.name == setting.name) {
                settings.push(setting);
            }
        }
    };
    walk(template, &mut each);
    settings
}

fn walk(v: &serde_json::Value, each: &mut impl FnMut(&serde_json::Value)) {
    each(v);
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, each)),
        serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, each)),
        _ => {}
    }
}

/// `template` with each setting replaced by `value(setting)`; a key whose
/// setting has no value is left out.
pub fn substitute(
    template: &serde_json::Value,
    value: &impl Fn(&Setting) -> Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    if let Some(setting) = Setting::of(template) {
        return value(&setting);
    }
    Some(match template {
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().filter_map(|x| substitute(x, value)).collect())
        }
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .filter_map(|(k, x)| Some((k.clone(), substitute(x, value)?)))
                .collect(),
        ),
        other => other.clone(),
    })
}

/// What of `table` is not a setting of `settings`: the overrides; a key
/// of a table of settings that is none of them is unknown.
fn beside_settings(table: &Table, settings: &[Setting]) -> Result<Table, String> {
    let mut rest = table.clone();
    for setting in settings {
        let Some((head, _)) = setting.name.split_once('.') else {
            rest.remove(&setting.name);
            continue;
        };
        if let Some(inner) = rest.remove(head) {
            let Some(inner) = inner.as_object() else {
                return Err(format!("{head}: a table"));
            };
            for key in inner.keys() {
                let known = settings.iter().any(|s| s.name == format!("{head}.{key}"));
                if !known {
                    return Err(format!("unknown field `{head}.{key}`"));
                }
            }
        }
    }
    Ok(rest)
}

impl DeclaredConfig {
    /// A partner declared whole.
    pub fn declared(partner: Partner, declaration: Declaration) -> Self {
        Self {
            partner,
            declaration: Arc::new(declaration),
            settings: None,
        }
    }

    /// A shipped declaration (`template`) configured by `table`: each
    /// setting it leaves, then `sync_interval`, `http` and `resilience`
    /// for every source.
    pub fn by_settings(
        partner: Partner,
        template: &serde_json::Value,
        table: Table,
    ) -> Result<Self, String> {
        let settings = settings_of(template);
        if let Some(missing) = settings
            .iter()
            .find(|s| !s.optional && s.in_table(&table).is_none())
        {
            return Err(format!("missing field `{}`", missing.name));
        }
        let overrides: Overrides = read(serde_json::Value::Object(beside_settings(
            &table, &settings,
        )?))?;
        let filled = substitute(template, &|s| s.in_table(&table).cloned())
            .expect("a declaration is a table");
        let mut declaration: Declaration = read(filled)?;
        declaration.check()?;
        for feed in &mut declaration.feeds {
            if let Some(i) = overrides.sync_interval {
                feed.sync_interval = i;
            }
            if let Some(h) = &overrides.http {
                feed.http = h.clone();
            }
            if let Some(r) = &overrides.resilience {
                feed.resilience = r.clone();
            }
        }
        for live in &mut declaration.live {
            if let Some(h) = &overrides.http {
                live.http = h.clone();
            }
            if let Some(r) = &overrides.resilience {
                live.resilience = r.clone();
            }
            if let Some(t) = overrides.cache_ttl {
                live.cache_ttl = t;
            }
            if let Some(t) = overrides.stale_for {
                live.stale_for = t;
            }
            if let Some(b) = overrides.cache_max_bytes {
                live.cache_max_bytes = b;
            }
            if let Some(n) = overrides.page_size {
                live.pagination.set_size(n);
            }
        }
        Ok(Self {
            partner,
            declaration: Arc::new(declaration),
            settings: Some(table),
        })
    }

    /// The same partner, every source's calls with `resilience`: the
    /// sandbox's.
    pub fn with_resilience(mut self, resilience: &ResilienceSettings) -> Self {
        let d = Arc::make_mut(&mut self.declaration);
        d.feeds
            .iter_mut()
            .for_each(|f| f.resilience = resilience.clone());
        d.live
            .iter_mut()
            .for_each(|l| l.resilience = resilience.clone());
        self
    }

    /// The declaration in force.
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }

    /// The connector to `feed`, its records mapped by the partner's
    /// mapping of its entity in `catalog`.
    pub fn connector(
        &self,
        feed: &FeedDeclaration,
        catalog: &Catalog,
    ) -> Result<FeedConnector, MissingMapping> {
        let mapping = mapping(catalog, self.partner, feed.entity)?;
        Ok(FeedConnector::new(
            self.partner,
            feed.url.clone(),
            &feed.http,
            feed.resilience.clone(),
            feed.streamed,
            mapping,
        ))
    }

    /// The connectors to its live sources, their records mapped by the
    /// partner's mappings in `catalog`.
    pub fn live(&self, catalog: &Catalog) -> Result<Vec<Arc<DeclaredLive>>, MissingMapping> {
        self.declaration
            .live
            .iter()
            .map(|live| {
                let mapping = mapping(catalog, self.partner, live.entity)?;
                Ok(Arc::new(DeclaredLive::new(
                    self.partner,
                    live.clone(),
                    mapping,
                )))
            })
            .collect()
    }

    fn synced<E: passerelle_mappings::Entity>(
        &self,
        feed: &FeedDeclaration,
        catalog: &Catalog,
    ) -> Result<Synced<E>, MissingMapping> {
        let connector = self.connector(feed, catalog)?;
        Ok(Synced::new(connector, feed.sync_interval))
    }
}

impl Configured for DeclaredConfig {
    /// The table it was configured by, for a shipped declaration (secrets
    /// as given); the declaration's identity and sources' URLs for one
    /// declared whole.
    fn table(&self) -> toml::Table {
        if let Some(settings) = &self.settings {
            return toml::Table::try_from(settings)
                .expect("a table read from configuration is TOML");
        }
        let d = &self.declaration;
        let mut table = toml::Table::new();
        for (key, value) in [
            ("id", &d.id),
            ("api_name", &d.api_name),
            ("name", &d.name),
            ("about", &d.about),
        ] {
            table.insert(key.into(), toml::Value::String(value.clone()));
        }
        let feeds = d
            .feeds
            .iter()
            .map(|f| {
                let mut t = toml::Table::new();
                t.insert("entity".into(), f.entity.name().into());
                t.insert("url".into(), f.url.to_string().into());
                toml::Value::Table(t)
            })
            .collect();
        table.insert("feeds".into(), toml::Value::Array(feeds));
        table
    }

    fn sources(&self, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping> {
        let mut sources = Vec::new();
        for feed in &self.declaration.feeds {
            sources.push(match feed.entity {
                EntityKind::Offer => Source::OfferFeed(
                    self.synced::<Offer>(feed, catalog)?,
                    feed.employers.map_or(Employers::Private, Employers::from),
                ),
                EntityKind::Formation => {
                    Source::Formations(self.synced::<Formation>(feed, catalog)?)
                }
                EntityKind::Mobility => {
                    Source::MobilityFeed(self.synced::<Mobility>(feed, catalog)?)
                }
                EntityKind::Event => Source::Events(self.synced::<Event>(feed, catalog)?),
                EntityKind::Site => Source::Sites(self.synced::<OrientationSite>(feed, catalog)?),
            });
        }
        for connector in self.live(catalog)? {
            sources.push(match connector.entity() {
                EntityKind::Mobility => Source::LiveMobility(connector),
                _ => Source::LiveOffers(connector),
            });
        }
        Ok(sources)
    }
}
