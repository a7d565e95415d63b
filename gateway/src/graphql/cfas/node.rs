//! The `Cfa` type: a CFA gathered from every partner, with its joined
//! programmes, offers, events and mobility.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, ID};
use chrono::{Duration, Utc};
use passerelle_schema::{EventKind, Uai};

use super::joins::{
    load_error, CfaMobilityLoader, CfaOffersLoader, Joined, PageJoins, CFA_OFFERS_PAGE,
};
use crate::domain::cfas::{CfaDirectory, CfaInfo};
use crate::domain::events::{occurrences, EventFilter, EventOccurrence, SiteFilter};
use crate::domain::mobility::MobilityReport;
use crate::graphql::common::errors::report_partner_errors;
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::inputs::page_size;
use crate::graphql::common::place::{Departement, Location};
use crate::graphql::common::scalars::DateTime;
use crate::graphql::common::written::{resolved, Planned, Writer, Written};
use crate::graphql::common::ApiState;
use crate::graphql::events::{occurrence_page, EventConnection, EventNode};
use crate::graphql::mobility::MobilityReportNode;
use crate::graphql::offers::OfferConnection;
use crate::graphql::programmes::FormationConnection;
use crate::partners::packed::OfferList;

/// A CFA, gathered from every partner that speaks of it, the directory it
/// was found in (read once per request, not once per field), and the
/// joins of the page it is listed in, when they were loaded for the page.
pub struct CfaNode(
    pub Arc<CfaInfo>,
    pub(super) Arc<CfaDirectory>,
    pub(super) Option<Arc<PageJoins>>,
);

impl CfaNode {
    /// The CFA `uai` of the directory of what the partners serve now.
    pub fn of(state: &ApiState, uai: &Uai) -> Option<Self> {
        let directory = state.cfa_directory();
        let info = directory.get(uai)?.clone();
        Some(Self(info, directory, None))
    }

    /// Its offers as loaded for its page, or by the loader.
    async fn joined_offers(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Joined<Arc<OfferList>>>> {
        if let Some(joined) = self.2.as_ref().and_then(|j| j.offers(&self.0.uai)) {
            return Ok(Some(joined.clone()));
        }
        let loader = ctx.data::<DataLoader<CfaOffersLoader>>()?;
        loader
            .load_one(self.0.uai.clone())
            .await
            .map_err(load_error)
    }

    /// Its mobility as loaded for its page, or by the loader.
    async fn joined_mobility(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Joined<Arc<MobilityReport>>>> {
        if let Some(joined) = self.2.as_ref().and_then(|j| j.mobility(&self.0.uai)) {
            return Ok(Some(joined.clone()));
        }
        let loader = ctx.data::<DataLoader<CfaMobilityLoader>>()?;
        loader
            .load_one(self.0.uai.clone())
            .await
            .map_err(load_error)
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
        let joined = self.joined_offers(ctx).await?;
        if let Some(joined) = &joined {
            report_partner_errors(ctx, &joined.errors);
        }
        offers_page(ctx, joined, first, after)
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
        let joined = self.joined_mobility(ctx).await?;
        if let Some(joined) = &joined {
            report_partner_errors(ctx, &joined.errors);
        }
        Ok(mobility_report(joined))
    }
}

/// The page of a CFA's offers.
fn offers_page(
    ctx: &Context<'_>,
    joined: Option<Joined<Arc<OfferList>>>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<OfferConnection> {
    let first = first.unwrap_or(CFA_OFFERS_PAGE as i32);
    let state = ctx.data::<ApiState>()?;
    let first = page_size(first, state.limits.max_page_size)?;
    let open = joined.map(|j| j.value).unwrap_or_default();
    OfferConnection::page(open, first, after)
}

/// A CFA's mobility.
fn mobility_report(joined: Option<Joined<Arc<MobilityReport>>>) -> MobilityReportNode {
    MobilityReportNode {
        report: joined.map(|j| j.value).unwrap_or_default(),
        for_one_cfa: true,
    }
}

/// Written from its page's joins: a CFA whose page did not load them, or
/// whose partners failed (their errors go at the field's path), is the
/// engine's to answer.
impl Written for CfaNode {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        let ctx = w.ctx();
        match f.name() {
            "id" => w.str(&resolved!(w, self.id)),
            "uai" => w.str(resolved!(w, self.uai)),
            "siret" => w.opt_str(resolved!(w, self.siret)),
            "name" => w.str(resolved!(w, self.name)),
            "location" => w.optional(resolved!(w, self.location).as_ref(), f.sub()),
            "departement" => w.optional(resolved!(w, self.departement).as_ref(), f.sub()),
            "communeCode" => w.opt_str(resolved!(w, self.commune_code)),
            "communeName" => w.opt_str(resolved!(w, self.commune_name)),
            "formations" => {
                let (first, after) = (f.arg(ctx, "first")?, f.arg(ctx, "after")?);
                w.object(&resolved!(w, self.formations, first, after), f.sub())
            }
            "vacancies" => w.put(resolved!(w, self.vacancies)),
            "offers" => {
                let joined = self.2.as_ref()?.offers(&self.0.uai)?;
                if !joined.errors.is_empty() {
                    return None;
                }
                let (first, after) = (f.arg(ctx, "first")?, f.arg(ctx, "after")?);
                let page = offers_page(ctx, Some(joined.clone()), first, after).ok()?;
                w.object(&page, f.sub())
            }
            "events" => {
                let from = f.arg(ctx, "from")?;
                let (first, after) = (f.arg(ctx, "first")?, f.arg(ctx, "after")?);
                w.object(&resolved!(w, self.events, from, first, after), f.sub())
            }
            "nextOpenDay" => {
                let next = resolved!(w, self.next_open_day, f.arg(ctx, "from")?);
                w.optional(next.as_ref(), f.sub())
            }
            "mobility" => {
                let joined = self.2.as_ref()?.mobility(&self.0.uai)?;
                if !joined.errors.is_empty() {
                    return None;
                }
                w.object(&mobility_report(Some(joined.clone())), f.sub())
            }
            _ => None,
        }
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
            text: None,
        };
        occurrences(&state.sources.events, &state.sources.sites, &filter)
    }
}
