//! Building the gateway from its configuration, and running it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use passerelle_connectors::sandbox::Sandbox;
use passerelle_connectors::Registry;
use tokio::net::TcpListener;

use crate::auth::issuer::Issuer;
use crate::auth::Validator;
use crate::config::Config;
use crate::domain::alerts::detect::Detector;
use crate::domain::alerts::live::LiveSubscribers;
use crate::domain::alerts::target::TargetGuard;
use crate::domain::alerts::webhook::Deliverer;
use crate::domain::mobility::MobilityService;
use crate::domain::offers::OfferService;
use crate::graphql::{build_schema, ApiState};
use crate::http::{router, ServerState};
use crate::partners::health::Health;
use crate::partners::sources::{Sources, Starter};
use crate::store::Store;

/// A gateway ready to serve: its listener is bound, its store open, its
/// feeds loaded.
pub struct Application {
    listener: TcpListener,
    sdl: String,
    entry: crate::http::entry::Entry,
    /// Kept alive while the gateway runs.
    sandbox: Option<Arc<Sandbox>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Cancelled when the gateway stops.
    shutdown: tokio_util::sync::CancellationToken,
    /// The WebSocket connections open.
    tracker: tokio_util::task::TaskTracker,
    /// Detects new offers.
    detector: Arc<Detector>,
    /// How long a connection may keep the gateway waiting.
    timeouts: crate::http::serve::Timeouts,
}

impl Application {
    /// Builds the gateway: loads the mappings (a bad file stops here, named),
    /// starts the sandbox when configured, opens the store, loads the synced
    /// feeds (pulling them once when the store has none), and binds the
    /// listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Registry::standard()).await
    }

    /// Builds the gateway over the partners of `registry`.
    pub async fn build_with(config: Config, registry: Registry) -> anyhow::Result<Self> {
        // Metrics are recorded from the start, syncs included.
        crate::telemetry::metrics();
        let registry = config.registry(registry)?;
        let catalog = registry
            .catalog(config.mappings_dir.as_deref())
            .context("invalid mapping file")?;

        let sandbox = if config.sandbox.enabled {
            let s = Sandbox::start(&config.sandbox.settings, &registry)
                .await
                .context("the partner sandbox could not start")?;
            Some(Arc::new(s))
        } else {
            None
        };
        let configured = match &sandbox {
            Some(s) => s.configured(),
            None => config.partners(&registry)?,
        };

        let store_url = config.store_url();
        let store = Store::open(&store_url)
            .await
            .with_context(|| format!("the store at {} could not be opened", redact(&store_url)))?;
        let health = Arc::new(Health::default());

        let mut tasks = vec![tokio::spawn(store.watch())];
        let mut sources = Sources::default();
        let mut starter = Starter {
            store: &store,
            health: &health,
            tasks: &mut tasks,
        };
        for partner in &configured {
            sources.partners.push(partner.partner);
            let provided = partner.settings.sources(&catalog)?;
            // A mapping of what the partner does not publish is a mistake
            // to name, not a file to ignore.
            if let Some(m) = catalog
                .for_partner(partner.partner)
                .find(|m| !provided.iter().any(|s| s.entity() == m.entity()))
            {
                anyhow::bail!(
                    "the mapping file {} maps {}s of {}, which it does not publish",
                    m.file(),
                    m.entity().name(),
                    partner.partner
                );
            }
            for source in provided {
                sources.add(source, &mut starter).await?;
            }
        }
        let mobility = Arc::new(MobilityService::new(
            sources.mobility_feeds.clone(),
            sources.live_mobility.clone(),
            health.clone(),
        ));
        let offers = Arc::new(OfferService::new(
            sources.live_offers.clone(),
            sources.offer_feeds.clone(),
            health.clone(),
        ));
        let shutdown = tokio_util::sync::CancellationToken::new();
        let live = Arc::new(LiveSubscribers::new(config.alerts.subscriber_buffer));
        // The sandbox's own receiver is on loopback.
        let allowed = config
            .alerts
            .allow_private_targets
            .clone()
            .unwrap_or_else(|| {
                if config.sandbox.enabled {
                    vec!["127.0.0.0/8".into(), "::1/128".into()]
                } else {
                    Vec::new()
                }
            });
        let guard = TargetGuard::new(&allowed)
            .map_err(|e| anyhow::anyhow!("at alerts.allow_private_targets: {e}"))?;
        let detector = Arc::new(Detector::new(
            offers.clone(),
            store.clone(),
            live.clone(),
            Arc::new(crate::graphql::alerts::webhook_offer),
            config.alerts.digest_hour_utc,
        ));
        detector
            .start_from_now()
            .await
            .context("the batches of new offers could not be read")?;
        let interval = config.alerts.poll_interval;
        if config.alerts.detect {
            tasks.push(tokio::spawn(detector.clone().run(interval)));
            tasks.push(tokio::spawn(kick_on_new_snapshots(
                detector.clone(),
                sources.offer_feeds.iter().map(|(f, _)| f.clone()).collect(),
            )));
        }
        tasks.push(tokio::spawn(detector.clone().follow(interval)));
        let deliverer = Arc::new(Deliverer::new(
            store.clone(),
            guard.clone(),
            config.alerts.clone(),
            detector.deliveries_written.clone(),
        ));
        tasks.push(tokio::spawn(deliverer.run(shutdown.clone())));
        // Each new snapshot's words index is built as soon as it is served.
        for (feed, _) in &sources.offer_feeds {
            tasks.push(tokio::spawn(index_words_of_new_snapshots(
                feed.clone(),
                |s| drop(crate::domain::offers::words_index(s)),
            )));
        }
        for feed in &sources.formations {
            tasks.push(tokio::spawn(index_words_of_new_snapshots(
                feed.clone(),
                |s| drop(crate::domain::formations::words_index(s)),
            )));
        }
        let sources = Arc::new(sources);
        // The occupations' search is ready before the first keystroke, and
        // what building it used on the way is given back.
        tokio::task::spawn_blocking(|| {
            crate::domain::occupations::Occupations::shared().len();
            crate::memory::give_back_freed_memory();
        });
        let schema = build_schema(ApiState {
            cfas: Default::default(),
            alerting: Arc::new(crate::domain::alerts::Alerting {
                live,
                guard,
                max_per_client: config.alerts.max_per_client,
            }),
            registry: registry.clone(),
            offers,
            sources: sources.clone(),
            mobility,
            health: health.clone(),
            store: store.clone(),
            limits: config.limits.clone(),
            introspection: config.api.introspection,
            write_json: config.api.write_json,
        });
        let sdl = schema.sdl();
        let (validator, issuer) = validator(&config)?;
        // The identity provider's keys, fetched at once and then when due.
        if let Some(refresher) = validator.refresher(shutdown.clone()) {
            tasks.push(tokio::spawn(refresher));
        }
        let trusted = match &config.api.trusted_documents {
            Some(path) => Some(Arc::new(trusted_documents(path)?)),
            None => None,
        };
        let tracker = tokio_util::task::TaskTracker::new();
        let webhooks = config
            .sandbox
            .enabled
            .then(|| Arc::new(crate::http::sandbox_webhooks::Inbox::new(store.clone())));
        let console_key = match config.console.enabled {
            true => Some(Arc::new(
                crate::http::console::signed::CookieKey::load(
                    config.console.cookie_key_file.as_deref(),
                    &config.data_dir,
                )
                .context("at console.cookie_key_file: the console's cookie key")?,
            )),
            false => None,
        };
        // Bound first: the sandbox's sign-in is built from the address.
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let listen = listener
            .local_addr()
            .context("the listener has no address")?;
        let router = router(ServerState {
            schema,
            registry: registry.clone(),
            sources,
            health,
            store,
            sandbox: sandbox.clone(),
            max_body_bytes: config.limits.max_body_bytes,
            operation_timeout: config.limits.operation_timeout,
            limits: config.limits.clone(),
            api: config.api.clone(),
            subgraph_scopes: config.federation.requires_scopes,
            trusted,
            validator,
            issuer,
            subscriptions: config.subscriptions.clone(),
            shared: Arc::new(crate::graphql::transports::SharedSubscriptions::new(
                config.alerts.subscriber_buffer,
                config.subscriptions.buffer_bytes,
            )),
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
            webhooks,
            console: config.console.clone(),
            listen,
            console_key,
        });
        let entry = crate::http::entry::Entry::new(
            router,
            crate::http::client::TrustedProxies::new(
                config.server.trusted_networks()?,
                config.server.client_address_header,
            ),
            config.server.body_read_timeout,
        );
        Ok(Self {
            listener,
            sdl,
            entry,
            sandbox,
            tasks,
            shutdown,
            tracker,
            detector,
            timeouts: (&config.server).into(),
        })
    }

    /// The detector of new offers.
    pub fn detector(&self) -> &Arc<Detector> {
        &self.detector
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
        let stopping = self.shutdown.clone();
        crate::http::serve::serve(self.listener, self.entry, self.timeouts, async move {
            shutdown.await;
            // Subscribers are told to reconnect (to another replica).
            stopping.cancel();
        })
        .await;
        self.shutdown.cancel();
        self.tracker.close();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.tracker.wait()).await;
        for t in &self.tasks {
            t.abort();
        }
        drop(self.sandbox);
        tracing::info!("passerelle stopped");
        Ok(())
    }
}

/// Asks for a detection of new offers whenever a feed of offers serves a
/// new snapshot.
async fn kick_on_new_snapshots(
    detector: Arc<Detector>,
    feeds: Vec<Arc<crate::domain::offers::OfferFeed>>,
) {
    let watched = feeds.iter().map(|feed| {
        let mut installed = feed.installed();
        let detector = detector.clone();
        async move {
            while installed.changed().await.is_ok() {
                detector.kick();
            }
        }
    });
    futures::future::join_all(watched).await;
}

/// Builds the words index of each snapshot `feed` serves as soon as it is
/// served, off the requests' way: the first search by words after a sync
/// finds it built rather than waiting for it.
async fn index_words_of_new_snapshots<E: crate::partners::sync::InMemory>(
    feed: Arc<crate::partners::sync::SyncedFeed<E>>,
    index: fn(&crate::partners::sync::Snapshot<E>),
) {
    let mut installed = feed.installed();
    loop {
        let snapshot = feed.snapshot();
        if !snapshot.records.is_empty() {
            // A build that panics is the search's to report, not this task's.
            let _ = tokio::task::spawn_blocking(move || index(&snapshot)).await;
        }
        if installed.changed().await.is_err() {
            return;
        }
    }
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
    )
    .with_refresh(auth.jwks_refresh())
    .with_claims(auth.claims.clone());
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
