//! Employers by SIRET, with their offers on every exchange, loaded in
//! batches: one search of every offer serves the batch.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Object};
use passerelle_schema::Siret;

use super::joins::{spawn_in_operation, Joined};
use crate::domain::offers::{OfferFilter, OfferService};
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::inputs::page_size;
use crate::graphql::common::ApiState;
use crate::graphql::offers::OfferConnection;
use crate::partners::packed::OfferList;

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

/// Loads employers by SIRET: one search of every offer serves the batch.
pub struct EmployerLoader {
    offers: Arc<OfferService>,
}

impl Loader<Siret> for EmployerLoader {
    type Value = Joined<OfferList>;
    type Error = Arc<String>;

    #[tracing::instrument(name = "entities.employers.load", skip_all, fields(employers = keys.len()))]
    async fn load(&self, keys: &[Siret]) -> Result<HashMap<Siret, Self::Value>, Self::Error> {
        let all = self.offers.search(&OfferFilter::default()).await;
        let at: HashMap<&Siret, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let lists = all.offers.select_each(keys.len(), |o, take| {
            if let Some(&i) = at.get(o.siret) {
                take(i);
            }
        });
        Ok(keys
            .iter()
            .cloned()
            .zip(lists)
            .map(|(k, value)| (k, Joined::new(value, all.errors.clone())))
            .collect())
    }
}

/// The offers of the employer `siret`, loaded with the others asked
/// meanwhile (by `employer` and by a router's `_entities`).
pub async fn employer_offers(
    ctx: &Context<'_>,
    siret: Siret,
) -> async_graphql::Result<Option<Joined<OfferList>>> {
    let loader = ctx.data::<DataLoader<EmployerLoader>>()?;
    loader.load_one(siret).await.map_err(load_error)
}

/// The loader of employers, over every offer.
pub fn employer_loader(offers: Arc<OfferService>) -> DataLoader<EmployerLoader> {
    DataLoader::new(EmployerLoader { offers }, spawn_in_operation)
}

fn load_error(e: Arc<String>) -> async_graphql::Error {
    tracing::error!(error = %e, "a batch of entities failed to load");
    ErrorCode::Internal.error("an entity could not be loaded")
}
