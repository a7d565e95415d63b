//! Building the gateway from its configuration, and running it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use passerelle_connectors::carif::{CarifConfig, CarifConnector};
use passerelle_connectors::cci::{CciConfig, CciConnector};
use passerelle_connectors::cma::{CmaConfig, CmaConnector};
use passerelle_connectors::cnfpt::{CnfptConfig, CnfptConnector};
use passerelle_connectors::erasmus::{ErasmusConfig, ErasmusConnector};
use passerelle_connectors::http::CallPolicy;
use passerelle_connectors::passmonde::{PassMondeConfig, PassMondeConnector};
use passerelle_connectors::sandbox::Sandbox;
use passerelle_connectors::spro::{SproConfig, SproEvents, SproSites};
use passerelle_mappings::{Catalog, EntityKind};
use passerelle_schema::Partner;
use tokio::net::TcpListener;

use crate::auth::issuer::Issuer;
use crate::auth::Validator;
use crate::config::{Config, PartnerConfig};
use crate::feeds::Feeds;
use crate::graphql::{build_schema, ApiState};
use crate::health::Health;
use crate::mobility::MobilityService;
use crate::offers::{CmaFeed, OfferService};
use crate::server::{router, ServerState};
use crate::store::Store;
use crate::sync::SyncedFeed;

/// A gateway ready to serve: its listener is bound, its store open, its
/// feeds loaded.
pub struct Application {
    listener: TcpListener,
    sdl: String,
    router: axum::Router,
    /// Kept alive while the gateway runs.
    sandbox: Option<Arc<Sandbox>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Builds the gateway: loads the mappings (a bad file stops here, named),
    /// starts the sandbox when configured, opens the store, loads the synced
    /// feeds (pulling them once when the store has none), and binds the
    /// listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Metrics are recorded from the start, syncs included.
        crate::telemetry::metrics();
        let catalog = match &config.mappings_dir {
            Some(dir) => Catalog::with_overrides(dir),
            None => Catalog::embedded(),
        }
        .context("invalid mapping file")?;

        let sandbox = if config.sandbox.enabled {
            let s = Sandbox::start(&config.sandbox.settings)
                .await
                .context("the partner sandbox could not start")?;
            Some(Arc::new(s))
        } else {
            None
        };
        let partners = partner_configs(&config, sandbox.as_deref());

        let store_url = config.store_url();
        let store = Store::open(&store_url)
            .await
            .with_context(|| format!("the store at {} could not be opened", redact(&store_url)))?;
        let health = Arc::new(Health::default());

        let mapping = |p: Partner| {
            catalog
                .get(p, EntityKind::Offer)
                .with_context(|| format!("no offer mapping for {p}"))
        };

        let cci = match partners.cci {
            Some(c) => Some(Arc::new(CciConnector::new(c, mapping(Partner::Cci)?))),
            None => None,
        };
        let mut tasks = Vec::new();
        let cma: Option<Arc<CmaFeed>> = match partners.cma {
            Some(c) => {
                let interval = c.sync_interval;
                let source = CmaConnector::new(c, mapping(Partner::Cma)?);
                Some(start_feed(source, interval, &store, &health, &mut tasks).await?)
            }
            None => None,
        };
        let mut feeds = Feeds::default();
        if let Some(c) = partners.carif {
            let interval = c.sync_interval;
            let m = catalog
                .get(Partner::Carif, EntityKind::Formation)
                .context("no formation mapping for carif")?;
            feeds.carif = Some(
                start_feed(
                    CarifConnector::new(c, m),
                    interval,
                    &store,
                    &health,
                    &mut tasks,
                )
                .await?,
            );
        }
        if let Some(c) = partners.erasmus {
            let interval = c.sync_interval;
            let m = catalog
                .get(Partner::Erasmus, EntityKind::Mobility)
                .context("no mobility mapping for erasmus")?;
            feeds.erasmus = Some(
                start_feed(
                    ErasmusConnector::new(c, m),
                    interval,
                    &store,
                    &health,
                    &mut tasks,
                )
                .await?,
            );
        }
        if let Some(c) = partners.spro {
            let interval = c.sync_interval;
            let sites = catalog
                .get(Partner::Spro, EntityKind::Site)
                .context("no site mapping for spro")?;
            let events = catalog
                .get(Partner::Spro, EntityKind::Event)
                .context("no event mapping for spro")?;
            let policy = Arc::new(CallPolicy::new(Partner::Spro, c.resilience.clone()));
            let source = SproSites::new(&c, sites.clone(), policy.clone());
            feeds.sites = Some(start_feed(source, interval, &store, &health, &mut tasks).await?);
            let source = SproEvents::new(&c, sites, events, policy);
            feeds.events = Some(start_feed(source, interval, &store, &health, &mut tasks).await?);
        }
        let pass_monde = match partners.pass_monde {
            Some(c) => {
                let m = catalog
                    .get(Partner::PassMonde, EntityKind::Mobility)
                    .context("no mobility mapping for passmonde")?;
                Some(Arc::new(PassMondeConnector::new(c, m)))
            }
            None => None,
        };
        let mobility = Arc::new(MobilityService::new(
            feeds.erasmus.clone(),
            pass_monde,
            health.clone(),
        ));
        let feeds = Arc::new(feeds);

        let cnfpt = match partners.cnfpt {
            Some(c) => Some(Arc::new(CnfptConnector::new(c, mapping(Partner::Cnfpt)?))),
            None => None,
        };
        let offers = Arc::new(OfferService::new(cci, cma, cnfpt, health.clone()));
        let schema = build_schema(ApiState {
            offers: offers.clone(),
            feeds: feeds.clone(),
            mobility: mobility.clone(),
            health: health.clone(),
            store: store.clone(),
            limits: config.limits.clone(),
            introspection: config.api.introspection,
        });
        let sdl = schema.sdl();
        let (validator, issuer) = validator(&config)?;
        let trusted = match &config.api.trusted_documents {
            Some(path) => Some(Arc::new(trusted_documents(path)?)),
            None => None,
        };
        let router = router(ServerState {
            schema,
            offers,
            feeds,
            mobility,
            health,
            store,
            sandbox: sandbox.clone(),
            max_body_bytes: config.limits.max_body_bytes,
            operation_timeout: config.limits.operation_timeout,
            limits: config.limits.clone(),
            api: config.api.clone(),
            trusted,
            validator,
            issuer,
        });
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Ok(Self {
            listener,
            sdl,
            router,
            sandbox,
            tasks,
        })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The port the gateway listens on.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The SDL of the schema the gateway serves.
    pub fn sdl(&self) -> &str {
        &self.sdl
    }

    /// The sandbox, when the gateway runs one.
    pub fn sandbox(&self) -> Option<&Arc<Sandbox>> {
        self.sandbox.as_ref()
    }

    /// Serves until `shutdown` completes, then finishes the requests under
    /// way and stops the sync tasks.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "passerelle listening");
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        for t in &self.tasks {
            t.abort();
        }
        drop(self.sandbox);
        tracing::info!("passerelle stopped");
        served
    }
}

/// The connection settings of every configured partner.
#[derive(Default)]
struct PartnerConfigs {
    cci: Option<CciConfig>,
    cma: Option<CmaConfig>,
    carif: Option<CarifConfig>,
    erasmus: Option<ErasmusConfig>,
    pass_monde: Option<PassMondeConfig>,
    spro: Option<SproConfig>,
    cnfpt: Option<CnfptConfig>,
}

fn partner_configs(config: &Config, sandbox: Option<&Sandbox>) -> PartnerConfigs {
    if let Some(s) = sandbox {
        return PartnerConfigs {
            cci: s.cci_config(),
            cma: s.cma_config(),
            carif: s.carif_config(),
            erasmus: s.erasmus_config(),
            pass_monde: s.pass_monde_config(),
            spro: s.spro_config(),
            cnfpt: s.cnfpt_config(),
        };
    }
    let mut out = PartnerConfigs::default();
    for p in &config.partners {
        match p {
            PartnerConfig::Cci(c) => out.cci = Some(c.clone()),
            PartnerConfig::Cma(c) => out.cma = Some(c.clone()),
            PartnerConfig::Carif(c) => out.carif = Some(c.clone()),
            PartnerConfig::Erasmus(c) => out.erasmus = Some(c.clone()),
            PartnerConfig::PassMonde(c) => out.pass_monde = Some(c.clone()),
            PartnerConfig::Spro(c) => out.spro = Some(c.clone()),
            PartnerConfig::Cnfpt(c) => out.cnfpt = Some(c.clone()),
        }
    }
    out
}

/// Loads a synced feed from the store (pulling it once when the store has
/// none, so the gateway opens with data) and schedules its syncs.
async fn start_feed<E, S>(
    source: S,
    interval: std::time::Duration,
    store: &Store,
    health: &Arc<Health>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> anyhow::Result<Arc<SyncedFeed<E, S>>>
where
    E: crate::sync::InMemory,
    S: passerelle_connectors::FeedSource<E>,
{
    let feed = Arc::new(SyncedFeed::new(source, store.clone(), health.clone()));
    let partner = feed.partner();
    let stored = feed
        .load()
        .await
        .with_context(|| format!("the {partner} feed could not be loaded from the store"))?;
    if stored == 0 {
        // Another replica may be pulling it: this one then waits for that
        // sync and loads its result.
        feed.sync_if_due(crate::sync::fresh_for(interval))
            .await
            .with_context(|| format!("the first {partner} sync could not be stored"))?;
    } else {
        tracing::info!(partner = %partner, records = stored, "feed loaded from the store");
    }
    tasks.push(feed.clone().spawn(interval, stored == 0));
    Ok(feed)
}

/// The checker of callers' tokens: against the identity provider's JWKS
/// when one is configured, else against the sandbox's own issuer.
#[allow(clippy::type_complexity)]
fn validator(config: &Config) -> anyhow::Result<(Arc<Validator>, Option<Arc<Issuer>>)> {
    let auth = &config.auth;
    let algorithms = auth
        .algorithms
        .iter()
        .map(|a| {
            a.parse::<jsonwebtoken::Algorithm>()
                .ok()
                .filter(|a| {
                    !matches!(
                        a,
                        jsonwebtoken::Algorithm::HS256
                            | jsonwebtoken::Algorithm::HS384
                            | jsonwebtoken::Algorithm::HS512
                    )
                })
                .with_context(|| {
                    format!(
                        "at auth.algorithms: {a:?} is not an accepted algorithm (RS256, ES256, …)"
                    )
                })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut keys = std::collections::HashMap::new();
    let issuer = if auth.jwks_url.is_none() && config.sandbox.enabled {
        let issuer = Issuer::load_or_create(&config.data_dir, &auth.issuer, &auth.audience)
            .context("the sandbox token issuer could not start")?;
        keys.insert(
            issuer.kid().to_owned(),
            (jsonwebtoken::Algorithm::ES256, issuer.decoding_key()),
        );
        Some(Arc::new(issuer))
    } else {
        None
    };
    let validator = Validator::new(
        auth.issuer.clone(),
        auth.audience.clone(),
        auth.leeway,
        algorithms,
        keys,
        auth.jwks_url.clone(),
    );
    Ok((Arc::new(validator), issuer))
}

/// Reads a manifest of trusted documents (JSON: SHA-256 hex → document),
/// checking that every hash is its document's.
fn trusted_documents(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    use sha2::{Digest, Sha256};
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: std::collections::HashMap<String, String> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a JSON object of hash → document", path.display()))?;
    let mut out = std::collections::HashMap::new();
    for (hash, document) in manifest {
        let actual = hex::encode(Sha256::digest(document.as_bytes()));
        anyhow::ensure!(
            actual.eq_ignore_ascii_case(&hash),
            "{}: the document registered as {hash} hashes to {actual}",
            path.display()
        );
        out.insert(actual, document);
    }
    tracing::info!(documents = out.len(), "only trusted documents run");
    Ok(out)
}

/// A store URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
