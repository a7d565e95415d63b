//! CFAs and employers joined across partners, loaded in batches: a page of
//! fifty CFAs makes the same partner calls as a page of one.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, InputObject, Object, ID};
use chrono::{Duration, Utc};
use passerelle_connectors::ConnectorError;
use passerelle_schema::{EventKind, Mobility, Siret, Uai};

use super::errors::{report_partner_errors, ErrorCode};
use super::events::{occurrence_page, EventConnection, EventNode};
use super::formation::FormationConnection;
use super::inputs::{self, page_size};
use super::mobility::MobilityReportNode;
use super::query::OfferConnection;
use super::scalars::DateTime;
use super::types::{Departement, Location};
use super::{ApiState, GlobalId};
use crate::domain::cfas::{directory, CfaInfo};
use crate::domain::events::{occurrences, EventFilter, EventOccurrence, SiteFilter};
use crate::domain::mobility::{report, MobilityFilter, MobilityService};
use crate::domain::offers::{OfferFilter, OfferService};
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

/// Loads the offers a CFA's apprentices could take: offers in its
/// département for the occupations its programmes lead to. One search of
/// every offer serves the whole batch.
pub struct CfaOffersLoader {
    offers: Arc<OfferService>,
    sources: Arc<Sources>,
}

impl Loader<Uai> for CfaOffersLoader {
    type Value = Joined<OfferList>;
    type Error = Arc<String>;

    #[tracing::instrument(name = "cfa.offers.load", skip_all, fields(cfas = keys.len()))]
    async fn load(&self, keys: &[Uai]) -> Result<HashMap<Uai, Self::Value>, Self::Error> {
        let cfas = directory(&self.sources);
        let all = self.offers.search(&OfferFilter::default()).await;
        // The batch's CFAs by the occupations they train for, with their
        // département: one pass over every offer serves them all.
        let mut by_rome: HashMap<
            &passerelle_schema::RomeCode,
            Vec<(Option<passerelle_schema::Departement>, usize)>,
        > = HashMap::new();
        for (i, uai) in keys.iter().enumerate() {
            if let Some(c) = cfas.get(uai) {
                let dep = c.departement();
                for rome in &c.romes {
                    by_rome.entry(rome).or_default().push((dep.clone(), i));
                }
            }
        }
        let lists = all.offers.select_each(keys.len(), |o, take| {
            for rome in o.rome_codes.iter() {
                for (dep, i) in by_rome.get(rome).into_iter().flatten() {
                    if dep
                        .as_ref()
                        .is_none_or(|d| o.commune.departement_code() == d.as_str())
                    {
                        take(*i);
                    }
                }
            }
        });
        Ok(keys
            .iter()
            .cloned()
            .zip(lists)
            .map(|(uai, value)| {
                (
                    uai,
                    Joined {
                        value,
                        errors: all.errors.clone(),
                    },
                )
            })
            .collect())
    }
}

/// Loads the mobilities of CFAs: one call per programme's system for the
/// whole batch.
pub struct CfaMobilityLoader {
    mobility: Arc<MobilityService>,
}

impl Loader<Uai> for CfaMobilityLoader {
    type Value = Joined<Vec<Arc<Mobility>>>;
    type Error = Arc<String>;

    #[tracing::instrument(name = "cfa.mobility.load", skip_all, fields(cfas = keys.len()))]
    async fn load(&self, keys: &[Uai]) -> Result<HashMap<Uai, Self::Value>, Self::Error> {
        let (all, errors) = self.mobility.all().await;
        let mut by_cfa: HashMap<Uai, Vec<Arc<Mobility>>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for m in all {
            if let Some(list) = by_cfa.get_mut(&m.cfa) {
                list.push(m);
            }
        }
        Ok(by_cfa
            .into_iter()
            .map(|(k, value)| {
                (
                    k,
                    Joined {
                        value,
                        errors: errors.clone(),
                    },
                )
            })
            .collect())
    }
}

/// The loaders the schema holds.
pub fn loaders(
    offers: Arc<OfferService>,
    mobility: Arc<MobilityService>,
    sources: Arc<Sources>,
) -> (DataLoader<CfaOffersLoader>, DataLoader<CfaMobilityLoader>) {
    (
        DataLoader::new(CfaOffersLoader { offers, sources }, spawn_in_operation),
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

/// A CFA, gathered from every partner that speaks of it.
pub struct CfaNode(pub CfaInfo);

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
        let mut items = self.programmes(state);
        items.sort_by(|a, b| a.partner_id.cmp(&b.partner_id));
        Ok(FormationConnection::at(items, first, after.as_deref()))
    }

    /// Free places across its programmes.
    async fn vacancies(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        let state = ctx.data::<ApiState>()?;
        Ok(self
            .programmes(state)
            .iter()
            .map(|f| u64::from(f.vacancies))
            .sum())
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
        let first = first.unwrap_or(10);
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
                joined
                    .value
                    .select(|o| o.status == passerelle_schema::OfferStatus::Active)
            }
            None => OfferList::default(),
        };
        OfferConnection::page(Arc::new(open), first, after)
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
        let (records, errors) =
            joined.map_or_else(|| (Vec::new(), Vec::new()), |j| (j.value, j.errors));
        report_partner_errors(ctx, &errors);
        Ok(MobilityReportNode {
            report: report(&records, &MobilityFilter::default()),
            for_one_cfa: true,
        })
    }
}

impl CfaNode {
    /// Its programmes in the training catalogue.
    fn programmes(&self, state: &ApiState) -> Vec<Arc<passerelle_schema::Formation>> {
        crate::partners::sync::records_of(&state.sources.formations, |f| {
            f.cfa.uai.as_ref() == Some(&self.0.uai)
        })
    }

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
pub type CfaConnection = super::connection::Connection<CfaNode>;

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
        Ok(directory(&state.sources).remove(&uai).map(CfaNode))
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
        let items: Vec<CfaInfo> = directory(&state.sources)
            .into_values()
            .filter(|c| {
                departement
                    .as_ref()
                    .is_none_or(|d| c.departement().as_ref() == Some(d))
                    && commune
                        .as_ref()
                        .is_none_or(|x| c.commune.as_ref() == Some(x))
                    && (romes.is_empty() || c.romes.iter().any(|r| romes.contains(r)))
            })
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
            items[start..end].iter().cloned().map(CfaNode),
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
        let loaders = ctx.data::<super::entities::EntityLoaders>()?;
        let Some(joined) = loaders.employer(siret.clone()).await? else {
            return Ok(None);
        };
        report_partner_errors(ctx, &joined.errors);
        Ok((!joined.value.is_empty()).then(|| EmployerProfile::new(siret, Arc::new(joined.value))))
    }
}
