//! The joins of a CFA, loaded in batches: a page of fifty CFAs makes the
//! same partner calls as a page of one.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use passerelle_connectors::ConnectorError;
use passerelle_schema::{OfferStatus, RomeCode, Uai};

use crate::domain::cfas::{CfaDirectories, CfaInfo};
use crate::domain::mobility::{MobilityReport, MobilityService};
use crate::domain::offers::OfferService;
use crate::graphql::common::errors::ErrorCode;
use crate::partners::packed::OfferList;
use crate::partners::sources::Sources;

/// A value loaded for a key, and the partners that failed meanwhile.
#[derive(Clone)]
pub struct Joined<T> {
    pub(in crate::graphql) value: T,
    pub(in crate::graphql) errors: Vec<ConnectorError>,
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
pub(super) const CFA_OFFERS_PAGE: usize = 10;

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

/// The joins of a page of CFAs, loaded for the whole page before it is
/// answered, one batch per join asked: what its CFAs' `offers` and
/// `mobility` read, and what lets the page be written in one pass.
#[derive(Default)]
pub struct PageJoins {
    offers: HashMap<Uai, Joined<Arc<OfferList>>>,
    mobility: HashMap<Uai, Joined<Arc<MobilityReport>>>,
}

impl PageJoins {
    /// Loads the joins the CFAs `uais` of a page are asked for: their
    /// offers, their mobility, or both.
    pub async fn load(
        ctx: &async_graphql::Context<'_>,
        uais: &[Uai],
        offers: bool,
        mobility: bool,
    ) -> async_graphql::Result<Self> {
        let offers = load_if::<CfaOffersLoader>(ctx, offers, uais);
        let mobility = load_if::<CfaMobilityLoader>(ctx, mobility, uais);
        let (offers, mobility) = futures::try_join!(offers, mobility)?;
        Ok(Self { offers, mobility })
    }

    /// The offers of the CFA `uai`, when loaded.
    pub fn offers(&self, uai: &Uai) -> Option<&Joined<Arc<OfferList>>> {
        self.offers.get(uai)
    }

    /// The mobility of the CFA `uai`, when loaded.
    pub fn mobility(&self, uai: &Uai) -> Option<&Joined<Arc<MobilityReport>>> {
        self.mobility.get(uai)
    }
}

/// What the loader `L` loads for `keys`, when `asked`.
async fn load_if<L: Loader<Uai, Error = Arc<String>>>(
    ctx: &async_graphql::Context<'_>,
    asked: bool,
    keys: &[Uai],
) -> async_graphql::Result<HashMap<Uai, L::Value>> {
    if !asked {
        return Ok(HashMap::new());
    }
    ctx.data::<DataLoader<L>>()?
        .load_many(keys.iter().cloned())
        .await
        .map_err(load_error)
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
pub fn spawn_in_operation<F>(load: F) -> tokio::task::JoinHandle<F::Output>
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

pub(super) fn load_error(e: Arc<String>) -> async_graphql::Error {
    tracing::error!(error = %e, "a batch load failed");
    ErrorCode::Internal.error("a joined field could not be loaded")
}
