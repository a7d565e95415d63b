//! The Région's overview: the totals the sources support.

use std::collections::BTreeMap;

use async_graphql::{Context, Object, SimpleObject};

use crate::domain::formations::{
    places_by_commune, places_by_departement, places_in_normandy, search as search_formations,
};
use crate::domain::mobility::MobilityFilter;
use crate::graphql::common::errors::report_partner_errors;
use crate::graphql::common::ApiState;
use crate::graphql::mobility::MobilityReportNode;
use crate::graphql::offers::OfferFilterInput;
use crate::graphql::programmes::FormationFilterInput;

/// The overview part of the root of queries.
#[derive(Default)]
pub struct RegionQuery;

/// Places of a set of programmes.
#[derive(SimpleObject, Default, Clone)]
pub struct TrainingFigures {
    /// The grouping key: a département code or a level.
    key: String,
    /// Programmes.
    programmes: u64,
    /// Places in all.
    capacity: u64,
    /// Places still free.
    vacancies: u64,
}

/// A count under a key.
#[derive(SimpleObject)]
pub struct KeyCount {
    /// The key: a département code or a partner.
    key: String,
    /// How many.
    count: u64,
}

/// Offers counted.
#[derive(SimpleObject)]
pub struct OfferFigures {
    /// Every open offer.
    total: u64,
    /// By exchange (an offer on two exchanges counts for each).
    by_source: Vec<KeyCount>,
    /// By département.
    by_departement: Vec<KeyCount>,
    /// By the workplace's commune (INSEE code).
    by_commune: Vec<KeyCount>,
}

/// Places in training where they are taught.
#[derive(SimpleObject)]
pub struct TrainingMap {
    /// Every programme matching (key `all`).
    total: TrainingFigures,
    /// By département: a programme taught in several counts in each, with
    /// the places it has there.
    by_departement: Vec<TrainingFigures>,
    /// By commune (INSEE code), likewise.
    by_commune: Vec<TrainingFigures>,
}

impl TrainingFigures {
    fn add(&mut self, capacity: u32, vacancies: u32) {
        self.programmes += 1;
        self.capacity += u64::from(capacity);
        self.vacancies += u64::from(vacancies);
    }
}

fn figures_by<K: ToString>(
    groups: &mut BTreeMap<String, TrainingFigures>,
    places: impl IntoIterator<Item = (K, (u32, u32))>,
) {
    for (k, (capacity, vacancies)) in places {
        let k = k.to_string();
        groups
            .entry(k.clone())
            .or_insert_with(|| TrainingFigures {
                key: k,
                ..TrainingFigures::default()
            })
            .add(capacity, vacancies);
    }
}

/// The Région's overview of apprenticeship, from every source.
pub struct RegionOverview;

fn counts(m: BTreeMap<String, u64>) -> Vec<KeyCount> {
    m.into_iter()
        .map(|(key, count)| KeyCount { key, count })
        .collect()
}

/// The Région's overview of apprenticeship, from every source.
#[Object]
impl RegionOverview {
    /// Programmes, capacity and free places, in all and by département and
    /// level (training catalogue).
    async fn formations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TrainingFigures>> {
        let state = ctx.data::<ApiState>()?;
        let mut groups: BTreeMap<String, TrainingFigures> = BTreeMap::new();
        for feed in &state.sources.formations {
            for f in &feed.snapshot().records {
                // Of a programme taught across the border, its places in
                // Normandy.
                let Some(here) = places_in_normandy(f) else {
                    continue;
                };
                let mut keys = vec![("all".to_owned(), here)];
                if let Some(l) = f.level {
                    keys.push((format!("level:{}", l.get()), here));
                }
                // A programme taught in several départements counts in each,
                // with the places it has there.
                keys.extend(
                    places_by_departement(f)
                        .into_iter()
                        .map(|(d, places)| (format!("departement:{d}"), places)),
                );
                figures_by(&mut groups, keys);
            }
        }
        Ok(groups.into_values().collect())
    }

    /// Open offers by exchange, département and commune; those matching
    /// `filter` when given.
    async fn offers(
        &self,
        ctx: &Context<'_>,
        filter: Option<OfferFilterInput>,
    ) -> async_graphql::Result<OfferFigures> {
        let state = ctx.data::<ApiState>()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let all = state.offers.search(&filter).await;
        report_partner_errors(ctx, &all.errors);
        let mut by_source = BTreeMap::new();
        let mut by_departement = BTreeMap::new();
        let mut by_commune = BTreeMap::new();
        let mut total = 0;
        for o in all
            .offers
            .summaries()
            .filter(|o| o.status == passerelle_schema::OfferStatus::Active)
        {
            total += 1;
            for partner in o.sources.partners() {
                *by_source.entry(partner.id().to_owned()).or_insert(0) += 1;
            }
            *by_departement
                .entry(o.commune.departement_code().to_owned())
                .or_insert(0) += 1;
            *by_commune.entry(o.commune.as_str().to_owned()).or_insert(0) += 1;
        }
        Ok(OfferFigures {
            total,
            by_source: counts(by_source),
            by_departement: counts(by_departement),
            by_commune: counts(by_commune),
        })
    }

    /// Programmes, capacity and free places where they are taught, by
    /// département and commune; those matching `filter` when given.
    async fn training(
        &self,
        ctx: &Context<'_>,
        filter: Option<FormationFilterInput>,
    ) -> async_graphql::Result<TrainingMap> {
        let state = ctx.data::<ApiState>()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let mut total = TrainingFigures {
            key: "all".to_owned(),
            ..TrainingFigures::default()
        };
        let mut by_departement = BTreeMap::new();
        let mut by_commune = BTreeMap::new();
        for f in search_formations(&state.sources.formations, &filter).items {
            let Some((capacity, vacancies)) = places_in_normandy(&f) else {
                continue;
            };
            total.add(capacity, vacancies);
            figures_by(&mut by_departement, places_by_departement(&f));
            figures_by(&mut by_commune, places_by_commune(&f));
        }
        Ok(TrainingMap {
            total,
            by_departement: by_departement.into_values().collect(),
            by_commune: by_commune.into_values().collect(),
        })
    }

    /// Apprentices' mobility abroad by programme, country, CFA and month.
    async fn mobility(&self, ctx: &Context<'_>) -> async_graphql::Result<MobilityReportNode> {
        let state = ctx.data::<ApiState>()?;
        let (report, errors) = state.mobility.report(&MobilityFilter::default()).await;
        report_partner_errors(ctx, &errors);
        Ok(MobilityReportNode {
            report: std::sync::Arc::new(report),
            for_one_cfa: false,
        })
    }
}

#[Object]
impl RegionQuery {
    /// The Région's overview: training places by département and level,
    /// offers by exchange and département, mobility by programme. Keys of
    /// `formations` are `all`, `departement:14`, `level:3`.
    async fn region(&self) -> RegionOverview {
        RegionOverview
    }
}
