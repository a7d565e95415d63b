//! Mobility of apprentices abroad, as counts and totals: no record that
//! names an apprentice exists in Passerelle.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Datelike;
use passerelle_connectors::source::{LiveMobility, MobilityAnswer, MobilityQuery};
use passerelle_connectors::ConnectorError;
use passerelle_schema::{Cents, Departement, Mobility, MobilityProgram, Uai};

use crate::partners::derived::{Derived, Same};
use crate::partners::health::Health;
use crate::partners::sync::SyncedFeed;

/// A feed of mobilities.
pub type MobilityFeed = SyncedFeed<Mobility>;

/// Which mobilities to count; every part must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MobilityFilter {
    /// Starting in this year.
    pub year: Option<i32>,
    /// Sent by this CFA.
    pub cfa: Option<Uai>,
    /// To this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Under this programme.
    pub program: Option<MobilityProgram>,
    /// Sent by CFAs of this département.
    pub departement: Option<Departement>,
}

impl MobilityFilter {
    /// Whether a mobility matches.
    pub fn matches(&self, m: &Mobility) -> bool {
        self.year.is_none_or(|y| m.start.year() == y)
            && self.cfa.as_ref().is_none_or(|c| *c == m.cfa)
            && self.country.as_deref().is_none_or(|c| c == m.country)
            && self.program.is_none_or(|p| p == m.program)
            && self
                .departement
                .as_ref()
                .is_none_or(|d| d.as_str() == m.cfa.departement_code())
    }
}

/// Counts and totals of a set of mobilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Mobilities.
    pub mobilities: u64,
    /// Apprentices who went.
    pub participants: u64,
    /// Funded days abroad, all participants together.
    pub days: u64,
    /// Grants, exactly.
    pub amount: Cents,
}

impl Figures {
    fn add(&mut self, m: &Mobility) {
        self.mobilities += 1;
        self.participants += u64::from(m.participants);
        self.days += u64::from(m.duration_days) * u64::from(m.participants);
        self.amount.0 += m.amount.map_or(0, |a| a.0);
    }
}

/// Mobilities counted every way the Région reads them.
#[derive(Debug, Clone, Default)]
pub struct MobilityReport {
    /// Everything matching.
    pub total: Figures,
    /// By programme and activity type.
    pub by_program: BTreeMap<MobilityProgram, Figures>,
    /// By destination country.
    pub by_country: BTreeMap<String, Figures>,
    /// By sending CFA.
    pub by_cfa: BTreeMap<Uai, Figures>,
    /// By month of departure (`2027-03`).
    pub by_month: BTreeMap<String, Figures>,
    /// The mobilities themselves, newest first.
    pub records: Vec<Arc<Mobility>>,
}

/// Counts `mobilities` that match `filter`.
pub fn report<'a>(
    mobilities: impl IntoIterator<Item = &'a Arc<Mobility>>,
    filter: &MobilityFilter,
) -> MobilityReport {
    let mut r = MobilityReport::default();
    for m in mobilities.into_iter().filter(|m| filter.matches(m)) {
        r.total.add(m);
        r.by_program.entry(m.program).or_default().add(m);
        r.by_country.entry(m.country.clone()).or_default().add(m);
        r.by_cfa.entry(m.cfa.clone()).or_default().add(m);
        r.by_month
            .entry(m.start.format("%Y-%m").to_string())
            .or_default()
            .add(m);
        r.records.push(m.clone());
    }
    r.records.sort_by(|a, b| {
        b.start
            .cmp(&a.start)
            .then_with(|| a.partner_id.cmp(&b.partner_id))
    });
    r
}

/// Mobility figures from every programme's system.
pub struct MobilityService {
    feeds: Vec<Arc<MobilityFeed>>,
    live: Vec<Arc<dyn LiveMobility>>,
    health: Arc<Health>,
    by_cfa: Derived<ByCfaInputs, MobilityByCfa>,
}

/// What the counts by CFA are made from: the live systems' answers, the
/// versions of the feeds' snapshots.
type ByCfaInputs = (Vec<Same<MobilityAnswer>>, Vec<u64>);

/// Each CFA's mobilities counted, by UAI.
#[derive(Debug, Default)]
pub struct MobilityByCfa(HashMap<Uai, Arc<MobilityReport>>);

impl MobilityByCfa {
    /// The mobilities of the CFA `uai`, counted; none for a CFA that sent
    /// no one.
    pub fn of(&self, uai: &Uai) -> Arc<MobilityReport> {
        self.0.get(uai).cloned().unwrap_or_default()
    }
}

impl MobilityService {
    /// A service over the configured programmes' systems: those synced and
    /// those asked live.
    pub fn new(
        feeds: Vec<Arc<MobilityFeed>>,
        live: Vec<Arc<dyn LiveMobility>>,
        health: Arc<Health>,
    ) -> Self {
        Self {
            feeds,
            live,
            health,
            by_cfa: Derived::default(),
        }
    }

    /// Every CFA's mobilities counted, from one call per system: what a
    /// page of CFAs reads. The counts are made once per state of the
    /// systems' answers (as their caches hold them) and of the feeds.
    pub async fn by_cfa(&self) -> (Arc<MobilityByCfa>, Vec<ConnectorError>) {
        let (answers, errors) = self.ask_live(&MobilityQuery::default(), None).await;
        let snapshots: Vec<_> = self.feeds.iter().map(|f| f.snapshot()).collect();
        let key = (
            answers.iter().cloned().map(Same).collect(),
            snapshots.iter().map(|s| s.version).collect(),
        );
        let counted = self.by_cfa.get(key, || {
            let mut by_cfa: HashMap<Uai, Vec<Arc<Mobility>>> = HashMap::new();
            let records = answers
                .iter()
                .flat_map(|a| a.mobilities.iter())
                .chain(snapshots.iter().flat_map(|s| s.records.iter()));
            for m in records {
                by_cfa.entry(m.cfa.clone()).or_default().push(m.clone());
            }
            MobilityByCfa(
                by_cfa
                    .into_iter()
                    .map(|(uai, records)| {
                        let counted = report(&records, &MobilityFilter::default());
                        (uai, Arc::new(counted))
                    })
                    .collect(),
            )
        });
        (counted, errors)
    }

    /// Counts the mobilities matching `filter`, across programmes; a
    /// programme whose system fails is left out and named.
    pub async fn report(&self, filter: &MobilityFilter) -> (MobilityReport, Vec<ConnectorError>) {
        let query = MobilityQuery {
            uai: filter.cfa.as_ref().map(ToString::to_string),
            year: filter.year,
            country: filter.country.clone(),
        };
        let (all, errors) = self.gather(&query, filter.program).await;
        (report(&all, filter), errors)
    }

    /// The mobilities matching `query` of the systems asked live (those of
    /// `program` when given), and those of the feeds.
    #[tracing::instrument(name = "mobility.gather", skip_all)]
    async fn gather(
        &self,
        query: &MobilityQuery,
        program: Option<MobilityProgram>,
    ) -> (Vec<Arc<Mobility>>, Vec<ConnectorError>) {
        let (answers, errors) = self.ask_live(query, program).await;
        let mut all: Vec<Arc<Mobility>> = answers
            .iter()
            .flat_map(|a| a.mobilities.iter().cloned())
            .collect();
        for feed in &self.feeds {
            all.extend(feed.snapshot().records.iter().cloned());
        }
        (all, errors)
    }

    /// The answers to `query` of the systems asked live (those of `program`
    /// when given), at once, and the errors of those that failed.
    async fn ask_live(
        &self,
        query: &MobilityQuery,
        program: Option<MobilityProgram>,
    ) -> (Vec<Arc<MobilityAnswer>>, Vec<ConnectorError>) {
        let mut errors = Vec::new();
        let asked =
            self.live
                .iter()
                .filter(|live| program.is_none_or(|p| p == live.program()))
                .map(|live| async move {
                    (live.partner(), live.clone().mobilities(query.clone()).await)
                });
        let mut answers = Vec::new();
        for (partner, answer) in futures::future::join_all(asked).await {
            if let Some(a) = self
                .health
                .observe_cached(partner, answer, |_| None, &mut errors)
            {
                answers.push(a);
            }
        }
        (answers, errors)
    }
}
