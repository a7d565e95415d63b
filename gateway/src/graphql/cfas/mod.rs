//! CFAs and employers joined across partners, loaded in batches: a page of
//! fifty CFAs makes the same partner calls as a page of one.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, InputObject, Object, ID};
use chrono::{Duration, Utc};
use passerelle_connectors::ConnectorError;
use passerelle_schema::{EventKind, OfferStatus, RomeCode, Siret, Uai};

use crate::domain::cfas::{CfaDirectories, CfaDirectory, CfaInfo};
use crate::domain::events::{occurrences, EventFilter, EventOccurrence, SiteFilter};
use crate::domain::mobility::{MobilityReport, MobilityService};
use crate::domain::offers::OfferService;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::errors::{report_partner_errors, ErrorCode};
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::inputs::{self, page_size};
use crate::graphql::common::place::{Departement, Location};
use crate::graphql::common::scalars::DateTime;
use crate::graphql::common::ApiState;
use crate::graphql::events::{occurrence_page, EventConnection, EventNode};
use crate::graphql::mobility::MobilityReportNode;
use crate::graphql::offers::OfferConnection;
use crate::graphql::programmes::FormationConnection;
use crate::partners::packed::OfferList;
use crate::partners::sources::Sources;

/// A value loaded for a key, and the partners that failed meanwhile.
#[derive(Clone)]
pub struct Joined<T> {
    pub(super) value: T,
    pub(super) errors: Vec<ConnectorError>,
}

impl<T> Joined<T> {
    /// `value`, loaded while `errors` failed.
    pub fn new(value: T, errors: Vec<ConnectorError>) -> Self {
        Self { value, errors }
    }
}

/// Loads the offers a CFA's apprentices could take: open offers in its
/// département for the occupations its programmes lead to. Every offer of
/// every exchange is indexed once by occupation and département (again
/// when an exchange's offers change, with the merge of every offer it is
/// kept with), and each CFA's selection is kept with the index: a page of
/// CFAs reads lists, not every offer.
pub struct CfaOffersLoader {
    offers: Arc<OfferService>,
    sources: Arc<Sources>,
    cfas: Arc<CfaDirectories>,
}

/// How many offers a CFA's `offers` answers by default.
const CFA_OFFERS_PAGE: usize = 10;

/// Where a CFA's apprentices look for offers: its département, its
/// programmes' occupations.
type Place = (Option<passerelle_schema::Departement>, Vec<RomeCode>);

/// The open offers of a merged list of every offer, by occupation then
/// département: their positions in the list, in its order.
struct OffersByPlace {
    all: Arc<OfferList>,
    by_rome: HashMap<RomeCode, HashMap<String, Vec<u32>>>,
    /// Each CFA's selection, as asked, by its département and occupations.
    selections: std::sync::Mutex<HashMap<Place, Arc<OfferList>>>,
}

impl OffersByPlace {
    fn of(all: &Arc<OfferList>) -> Self {
        let mut by_rome: HashMap<RomeCode, HashMap<String, Vec<u32>>> = HashMap::new();
        for (at, o) in (0u32..).zip(all.summaries()) {
            if o.status != OfferStatus::Active {
                continue;
            }
            for rome in o.rome_codes.iter() {
                let by_dep = by_rome.entry(rome.clone()).or_default();
                match by_dep.get_mut(o.commune.departement_code()) {
                    Some(list) => list.push(at),
                    None => {
                        by_dep.insert(o.commune.departement_code().to_owned(), vec![at]);
                    }
                }
            }
        }
        for list in by_rome.values_mut().flat_map(HashMap::values_mut) {
            list.shrink_to_fit();
        }
        Self {
            all: all.clone(),
            by_rome,
            selections: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The open offers for `cfa`: in its département (anywhere when it has
    /// none) for any of its occupations, in the list's order.
    fn of_cfa(&self, cfa: &CfaInfo) -> Arc<OfferList> {
        let key = (cfa.departement(), cfa.romes.clone());
        let mut selections = self.selections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = selections.get(&key) {
            return found.clone();
        }
        let mut positions: Vec<u32> = Vec::new();
        for by_dep in cfa.romes.iter().filter_map(|r| self.by_rome.get(r)) {
            match &key.0 {
                Some(d) => positions.extend(by_dep.get(d.as_str()).into_iter().flatten()),
                None => positions.extend(by_dep.values().flatten()),
            }
        }
        // An offer for two of its occupations is listed once.
        positions.sort_unstable();
        positions.dedup();
        // Its first page is read by every page of CFAs: kept unpacked.
        let selected = Arc::new(
            self.all
                .picked(positions)
                .with_head_unpacked(CFA_OFFERS_PAGE),
        );
        selections.insert(key, selected.clone());
        selected
    }
}

impl Loader<Uai> for CfaOffersLoader {
    type Value = Joined<Arc<OfferList>>;
    type Error = Arc<String>;

    #[tracing::instrument(name = "cfa.offers.load", skip_all, fields(cfas = keys.len()))]
    async fn load(&self, keys: &[Uai]) -> Result<HashMap<Uai, Self::Value>, Self::Error> {
        let cfas = self.cfas.of(&self.sources);
        let (every, errors) = self.offers.every_offer().await;
        let index = every.derived(OffersByPlace::of);
        Ok(keys
            .iter()
            .map(|uai| {
                let value = cfas
                    .get(uai)
                    .map_or_else(Default::default, |c| index.of_cfa(c));
                (uai.clone(), Joined::new(value, errors.clone()))
            })
            .collect())
    }
}

/// Loads the mobilities of CFAs, counted: one call per programme's system
/// for the whole batch, the counts made once per state of their answers.
pub struct CfaMobilityLoader {
    mobility: Arc<MobilityService>,
}

impl Loader<Uai> for CfaMobilityLoader {
    type Value = Joined<Arc<MobilityReport>>;
    type Error = Arc<String>;

    #[tracing::instrument(name = "cfa.mobility.load", skip_all, fields(cfas = keys.len()))]
    async fn load(&self, keys: &[Uai]) -> Result<HashMap<Uai, Self::Value>, Self::Error> {
        let (by_cfa, errors) = self.mobility.by_cfa().await;
        Ok(keys
            .iter()
            .map(|k| (k.clone(), Joined::new(by_cfa.of(k), errors.clone())))
            .collect())
    }
}

/// The loaders the schema holds.
pub fn loaders(
    offers: Arc<OfferService>,
    mobility: Arc<MobilityService>,
    sources: Arc<Sources>,
    cfas: Arc<CfaDirectories>,
) -> (DataLoader<CfaOffersLoader>, DataLoader<CfaMobilityLoader>) {
    (
        DataLoader::new(
            CfaOffersLoader {
                offers,
                sources,
                cfas,
            },
            spawn_in_operation,
        ),
        DataLoader::new(CfaMobilityLoader { mobility }, spawn_in_operation),
    )
}

/// Spawns a batch load in the operation that asked for it: under its span,
/// within its deadline.
pub(super) fn spawn_in_operation<F>(load: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use tracing::Instrument;
    let span = tracing::Span::current();
    match passerelle_connectors::http::current_deadline() {
        Some(d) => {
            tokio::spawn(passerelle_connectors::http::within_deadline(d, load).instrument(span))
        }
        None => tokio::spawn(load.instrument(span)),
    }
}

fn load_error(e: Arc<String>) -> async_graphql::Error {
    tracing::error!(error = %e, "a batch load failed");
    ErrorCode::Internal.error("a joined field could not be loaded")
}

/// A CFA, gathered from every partner that speaks of it, and the directory
/// it was found in (read once per request, not once per field).
pub struct CfaNode(pub Arc<CfaInfo>, Arc<CfaDirectory>);

impl CfaNode {
    /// The CFA `uai` of the directory of what the partners serve now.
    pub fn of(state: &ApiState, uai: &Uai) -> Option<Self> {
        let directory = state.cfa_directory();
        let info = directory.get(uai)?.clone();
        Some(Self(info, directory))
    }
}

/// A CFA, gathered from every partner: its programmes and places (training
/// catalogue), the offers its apprentices could take (offer exchanges), its
/// events (orientation sites), its mobility abroad (Pass Monde, Erasmus+).
#[Object(name = "Cfa")]
impl CfaNode {
    /// Its global identifier (`node(id)`).
    pub(crate) async fn id(&self) -> ID {
        ID(GlobalId::Cfa {
            uai: self.0.uai.as_str().to_owned(),
        }
        .encode())
    }

    /// Its UAI.
    async fn uai(&self) -> &str {
        self.0.uai.as_str()
    }

    /// Its SIRET.
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_ref().map(|s| s.as_str())
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Where it is: its commune, as the training catalogue or the
    /// orientation directory gives it; null when neither does.
    async fn location(&self) -> Option<Location<'_>> {
        self.0.commune.as_ref().map(Location::of_commune)
    }

    /// Its département: its commune's, else the one its UAI was issued in.
    async fn departement(&self) -> Option<Departement> {
        self.0.departement().as_ref().map(Departement::of)
    }

    /// Its commune's INSEE code.
    #[graphql(deprecation = "read `location { communeCode }`", inaccessible)]
    async fn commune_code(&self) -> Option<&str> {
        self.0.commune.as_ref().map(|c| c.as_str())
    }

    /// Its commune's name.
    #[graphql(deprecation = "read `location { communeName }`", inaccessible)]
    async fn commune_name(&self) -> Option<&str> {
        self.0.commune.as_ref().map(|c| c.name())
    }

    /// Its programmes, from the training catalogue, by identifier.
    async fn formations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 50,
            desc = "How many programmes, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<FormationConnection> {
        let first = first.unwrap_or(50);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let after = FormationConnection::cursor(after)?;
        let items = self.1.programmes(&self.0.uai).to_vec();
        Ok(FormationConnection::at(items, first, after.as_deref()))
    }

    /// Free places across its programmes.
    async fn vacancies(&self) -> u64 {
        self.1
            .programmes(&self.0.uai)
            .iter()
            .map(|f| u64::from(f.vacancies))
            .sum()
    }

    /// Open offers in its département for the occupations its programmes
    /// lead to, newest first.
    async fn offers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 10,
            desc = "How many offers, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<OfferConnection> {
        let first = first.unwrap_or(CFA_OFFERS_PAGE as i32);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let loader = ctx.data::<DataLoader<CfaOffersLoader>>()?;
        let joined = loader
            .load_one(self.0.uai.clone())
            .await
            .map_err(load_error)?;
        let open = match joined {
            Some(joined) => {
                report_partner_errors(ctx, &joined.errors);
                joined.value
            }
            None => Arc::default(),
        };
        OfferConnection::page(open, first, after)
    }

    /// Its events in the year from `from` (now by default), soonest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime>,
        #[graphql(
            default = 5,
            desc = "How many occurrences, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let first = first.unwrap_or(5);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        occurrence_page(self.coming(state, None, from), first, after)
    }

    /// Its next open day after `from` (now by default).
    async fn next_open_day(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime>,
    ) -> async_graphql::Result<Option<EventNode>> {
        let state = ctx.data::<ApiState>()?;
        Ok(self
            .coming(state, Some(EventKind::OpenDay), from)
            .into_iter()
            .next()
            .map(EventNode))
    }

    /// Its apprentices' mobility abroad, as counts, and the mobilities.
    async fn mobility(&self, ctx: &Context<'_>) -> async_graphql::Result<MobilityReportNode> {
        let loader = ctx.data::<DataLoader<CfaMobilityLoader>>()?;
        let joined = loader
            .load_one(self.0.uai.clone())
            .await
            .map_err(load_error)?;
        let (report, errors) = joined.map_or_else(Default::default, |j| (j.value, j.errors));
        report_partner_errors(ctx, &errors);
        Ok(MobilityReportNode {
            report,
            for_one_cfa: true,
        })
    }
}

impl CfaNode {
    fn coming(
        &self,
        state: &ApiState,
        kind: Option<EventKind>,
        from: Option<DateTime>,
    ) -> Vec<EventOccurrence> {
        let Some(site) = &self.0.site else {
            return Vec::new();
        };
        let now = from.map_or_else(Utc::now, |d| d.0);
        let filter = EventFilter {
            from: now,
            to: now + Duration::days(365),
            kind,
            site: Some(site.clone()),
            sites: SiteFilter::default(),
            include_cancelled: false,
        };
        occurrences(&state.sources.events, &state.sources.sites, &filter)
    }
}

/// Which CFAs to list.
#[derive(InputObject, Default)]
#[graphql(name = "CfaFilter")]
pub struct CfaFilterInput {
    /// In this département.
    departement: Option<String>,
    /// In this commune (INSEE code).
    commune: Option<String>,
    /// Training for any of these occupations.
    rome: Option<Vec<String>>,
}

/// A page of CFAs, by UAI: cursors are UAIs.
pub type CfaConnection = crate::graphql::common::connection::Connection<CfaNode>;
connection_types!(CfaNode, "CfaConnection", "CfaEdge");

/// An employer and its offers on every exchange.
pub struct EmployerProfile {
    siret: Siret,
    offers: Arc<OfferList>,
}

impl EmployerProfile {
    /// The employer `siret`, publishing `offers`.
    pub fn new(siret: Siret, offers: Arc<OfferList>) -> Self {
        Self { siret, offers }
    }
}

/// An employer and its offers on every exchange.
#[Object]
impl EmployerProfile {
    /// Its SIRET.
    async fn siret(&self) -> &str {
        self.siret.as_str()
    }

    /// Its name, as its offers give it.
    async fn name(&self) -> Option<String> {
        (!self.offers.is_empty()).then(|| self.offers.get(0).employer.name.to_string())
    }

    /// How many offers it publishes.
    async fn offer_count(&self) -> usize {
        self.offers.len()
    }

    /// Its offers, newest first.
    async fn offers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 20,
            desc = "How many offers, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<OfferConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        OfferConnection::page(self.offers.clone(), first, after)
    }
}

/// The CFA and employer part of the root of queries.
#[derive(Default)]
pub struct CfaQuery;

#[Object]
impl CfaQuery {
    /// A CFA by UAI, gathered from every partner.
    async fn cfa(&self, ctx: &Context<'_>, uai: String) -> async_graphql::Result<Option<CfaNode>> {
        let uai =
            Uai::parse(&uai).map_err(|e| ErrorCode::InvalidInput.error(format!("uai: {e}")))?;
        let state = ctx.data::<ApiState>()?;
        Ok(CfaNode::of(state, &uai))
    }

    /// The CFAs of Normandy, by UAI.
    async fn cfas(
        &self,
        ctx: &Context<'_>,
        filter: Option<CfaFilterInput>,
        #[graphql(default = 20)] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<CfaConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let f = filter.unwrap_or_default();
        let departement = inputs::departement(ctx, "filter.departement", f.departement)?;
        let commune = inputs::commune("filter.commune", f.commune)?;
        let romes = inputs::romes("filter.rome", f.rome)?;
        let directory = state.cfa_directory();
        let items: Vec<Arc<CfaInfo>> = directory
            .iter()
            .filter(|c| {
                departement
                    .as_ref()
                    .is_none_or(|d| c.departement().as_ref() == Some(d))
                    && commune
                        .as_ref()
                        .is_none_or(|x| c.commune.as_ref() == Some(x))
                    && (romes.is_empty() || c.romes.iter().any(|r| romes.contains(r)))
            })
            .cloned()
            .collect();
        let start = match after {
            Some(a) => {
                let uai = Uai::parse(&a).map_err(|_| {
                    ErrorCode::InvalidCursor.error("after is not a cursor of this list")
                })?;
                items.partition_point(|c| c.uai <= uai)
            }
            None => 0,
        };
        let end = (start + first).min(items.len());
        Ok(CfaConnection::new(
            items.len(),
            start,
            items[start..end]
                .iter()
                .map(|c| CfaNode(c.clone(), directory.clone())),
            |i| items[i].uai.to_string(),
        ))
    }

    /// An employer by SIRET, with its offers on every exchange; null when no
    /// exchange publishes an offer of it.
    async fn employer(
        &self,
        ctx: &Context<'_>,
        siret: String,
    ) -> async_graphql::Result<Option<EmployerProfile>> {
        let siret = Siret::parse(&siret)
            .map_err(|e| ErrorCode::InvalidInput.error(format!("siret: {e}")))?;
        let loaders = ctx.data::<crate::graphql::entities::EntityLoaders>()?;
        let Some(joined) = loaders.employer(siret.clone()).await? else {
            return Ok(None);
        };
        report_partner_errors(ctx, &joined.errors);
        Ok((!joined.value.is_empty()).then(|| EmployerProfile::new(siret, Arc::new(joined.value))))
    }
}
