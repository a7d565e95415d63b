//! Public-sector apprenticeship in the API, as counts.

use async_graphql::{Context, Object, SimpleObject};
use chrono::Datelike;

use crate::graphql::common::errors::{report_partner_errors, ErrorCode};
use crate::graphql::common::ApiState;

/// The public-sector part of the root of queries.
#[derive(Default)]
pub struct PublicSectorQuery;

/// Public-sector apprenticeship (CNFPT).
pub struct PublicSector;

/// Apprentices of the public sector in a year, by employer type.
#[derive(SimpleObject)]
pub struct PublicApprentices {
    /// The year.
    year: i32,
    /// The State and its establishments.
    etat: u32,
    /// Local authorities.
    territoriale: u32,
    /// Public hospitals.
    hospitaliere: u32,
    /// All three.
    total: u32,
}

/// Public-sector apprenticeship (CNFPT).
#[Object]
impl PublicSector {
    /// Apprentices by employer type in `year` (this year by default), from
    /// 2016 on; null with an error naming the CNFPT when it fails.
    async fn apprentices(
        &self,
        ctx: &Context<'_>,
        year: Option<i32>,
    ) -> async_graphql::Result<Option<PublicApprentices>> {
        let state = ctx.data::<ApiState>()?;
        let year = year.unwrap_or_else(|| chrono::Utc::now().year());
        if !(2016..=2100).contains(&year) {
            return Err(ErrorCode::InvalidInput.error("year: from 2016 on"));
        }
        let Some(source) = state.sources.public_counts.first() else {
            return Ok(None);
        };
        let mut errors = Vec::new();
        let counts = state.health.observe_cached(
            source.partner(),
            source.clone().counts(year).await,
            |_| None,
            &mut errors,
        );
        report_partner_errors(ctx, &errors);
        Ok(counts.map(|c| PublicApprentices {
            year: c.year,
            etat: c.etat,
            territoriale: c.territoriale,
            hospitaliere: c.hospitaliere,
            total: c.etat + c.territoriale + c.hospitaliere,
        }))
    }
}

#[Object]
impl PublicSectorQuery {
    /// Public-sector apprenticeship: counts by employer type. Its offers are
    /// in `offers` (filter `publicSector: true`).
    async fn public_sector(&self) -> PublicSector {
        PublicSector
    }
}
