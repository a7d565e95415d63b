//! `taxCampaign`: the campaign as its reader may see it (the Région all of
//! it, a CFA its own line), its totals, lines, establishments and
//! allocations.

use async_graphql::{Context, Object};
use base64::Engine;
use passerelle_schema::{Departement, Opco, Uai};

use super::rows::{
    decode_offset, establishment_node, establishment_search, lines, money, offset_cursor,
    AllocationConnection, AllocationNode, CampaignEstablishment, CampaignEstablishmentConnection,
    CampaignLine, CampaignTotals, EstablishmentOrder,
};
use crate::auth::Caller;
use crate::domain::campaign::figures::{self, Order};
use crate::domain::campaign::{self};
use crate::graphql::common::errors::{store_failure, ErrorCode};
use crate::graphql::common::inputs::{invalid, page_size};
use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::ApiState;

use crate::graphql::common::connection::{b64_of, B64};

/// Who reads the campaign: the Région sees all, a CFA its own line.
#[derive(Clone)]
enum Reader {
    Region,
    Cfa(Uai),
}

impl Reader {
    fn of(ctx: &Context<'_>) -> async_graphql::Result<Self> {
        let caller = ctx.data_opt::<Caller>();
        if caller.is_some_and(|c| c.has("region:bi")) {
            return Ok(Reader::Region);
        }
        if let Some(uai) = caller
            .and_then(|c| c.cfa.as_deref())
            .and_then(|u| Uai::parse(u).ok())
        {
            return Ok(Reader::Cfa(uai));
        }
        Err(ErrorCode::Forbidden
            .error("the campaign needs the scope region:bi, or a cfa claim for a CFA's own line"))
    }

    fn region(&self) -> async_graphql::Result<()> {
        match self {
            Reader::Region => Ok(()),
            Reader::Cfa(_) => Err(ErrorCode::Forbidden
                .error("this figure needs the scope region:bi; a CFA reads its own line only")),
        }
    }

    /// Checks the caller may read `uai`'s line.
    fn may_read(&self, uai: &Uai) -> async_graphql::Result<()> {
        match self {
            Reader::Cfa(own) if own != uai => {
                Err(ErrorCode::Forbidden.error("a CFA reads its own allocations only"))
            }
            _ => Ok(()),
        }
    }
}

/// The campaign part of the root of queries.
#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// The taxe d'apprentissage campaign of `year`, as pushed so far.
    ///
    /// Needs the scope `region:bi`; with a `cfa` claim (a UAI), a CFA reads
    /// its own line and allocations only. Amounts are exact.
    async fn tax_campaign(
        &self,
        ctx: &Context<'_>,
        year: i32,
    ) -> async_graphql::Result<TaxCampaign> {
        let reader = Reader::of(ctx)?;
        let year = campaign::campaign_year(i64::from(year)).map_err(|e| invalid("year", e))?;
        Ok(TaxCampaign { year, reader })
    }
}

/// A taxe d'apprentissage campaign.
pub struct TaxCampaign {
    year: i32,
    reader: Reader,
}

#[Object]
impl TaxCampaign {
    /// The campaign year.
    async fn year(&self) -> i32 {
        self.year
    }

    /// The campaign's totals (scope `region:bi`).
    #[graphql(requires_scopes = "region:bi")]
    async fn totals(&self, ctx: &Context<'_>) -> async_graphql::Result<CampaignTotals> {
        self.reader.region()?;
        let state = ctx.data::<ApiState>()?;
        let t = figures::totals(&state.store, self.year)
            .await
            .map_err(store_failure(&state.store, "the campaign's figures"))?;
        let from = t.from_normandy();
        Ok(CampaignTotals {
            amount: money(t.all.amount_cents),
            allocations: t.all.allocations,
            employers: t.all.employers,
            establishments: t.establishments,
            to_normandy: money(t.to_normandy()),
            outside_normandy: money(t.outside_normandy()),
            from_normandy_employers: money(from),
            leaked: money(t.leaked()),
            leakage_rate: (from > 0).then(|| t.leaked() as f64 / from as f64),
        })
    }

    /// By OPCO (scope `region:bi`).
    #[graphql(requires_scopes = "region:bi")]
    async fn by_opco(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CampaignLine>> {
        self.reader.region()?;
        let state = ctx.data::<ApiState>()?;
        let l = figures::breakdown(&state.store, self.year, "opco")
            .await
            .map_err(store_failure(&state.store, "the campaign's figures"))?;
        Ok(lines(
            l,
            |k| Opco::parse(k).ok().map(|o| o.name().to_owned()),
            false,
        ))
    }

    /// By the employers' département (scope `region:bi`).
    #[graphql(requires_scopes = "region:bi")]
    async fn by_employer_departement(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<CampaignLine>> {
        self.reader.region()?;
        let state = ctx.data::<ApiState>()?;
        let l = figures::breakdown(&state.store, self.year, "employer_departement")
            .await
            .map_err(store_failure(&state.store, "the campaign's figures"))?;
        Ok(lines(
            l,
            |k| {
                Departement::parse(k)
                    .ok()
                    .and_then(|d| d.name().map(str::to_owned))
            },
            true,
        ))
    }

    /// By ISO week of the allocation, Paris time (scope `region:bi`).
    #[graphql(requires_scopes = "region:bi")]
    async fn by_week(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CampaignLine>> {
        self.reader.region()?;
        let state = ctx.data::<ApiState>()?;
        let l = figures::breakdown(&state.store, self.year, "week")
            .await
            .map_err(store_failure(&state.store, "the campaign's figures"))?;
        Ok(lines(l, |_| None, false))
    }

    /// The establishments allocated to, sorted, a page at a time; a CFA
    /// sees its own line only.
    async fn establishments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50, desc = "How many, at most `limits.max_page_size`.")] first: Option<
            i32,
        >,
        after: Option<String>,
        #[graphql(default_with = "EstablishmentOrder::AmountDesc")] order_by: EstablishmentOrder,
        #[graphql(desc = "Only establishments whose UAI was issued in this département.")]
        departement: Option<String>,
        #[graphql(
            desc = "Only establishments whose name holds these words (case and accents \
                    ignored) or whose UAI starts with them."
        )]
        search: Option<String>,
    ) -> async_graphql::Result<CampaignEstablishmentConnection> {
        let first = first.unwrap_or(50);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let offset = decode_offset(after)?;
        let departement =
            crate::graphql::common::inputs::any_departement("departement", departement)?;
        let directory = state.cfa_directory();
        let search = search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > 100) {
            return Err(invalid("search", "at most 100 characters"));
        }
        let (page, total) = match &self.reader {
            Reader::Region => {
                let order = match order_by {
                    EstablishmentOrder::AmountDesc => Order::AmountDesc,
                    EstablishmentOrder::AmountAsc => Order::AmountAsc,
                    EstablishmentOrder::EmployersDesc => Order::EmployersDesc,
                    EstablishmentOrder::Uai => Order::Uai,
                };
                let filter = figures::EstablishmentFilter {
                    departement: departement.as_ref().map(|d| d.as_str().to_owned()),
                    search: search.map(|s| establishment_search(s, &directory)),
                };
                figures::establishments(
                    &state.store,
                    self.year,
                    order,
                    &filter,
                    first as i64,
                    offset as i64,
                )
                .await
                .map_err(store_failure(&state.store, "the campaign's figures"))?
            }
            Reader::Cfa(own) => {
                let line = figures::establishment(&state.store, self.year, own.as_str())
                    .await
                    .map_err(store_failure(&state.store, "the campaign's figures"))?
                    .filter(|_| {
                        departement
                            .as_ref()
                            .is_none_or(|d| own.departement_code() == d.as_str())
                    })
                    .filter(|_| {
                        search.is_none_or(|s| {
                            let (prefix, uais) = establishment_search(s, &directory);
                            prefix.is_some_and(|p| own.as_str().starts_with(&p))
                                || uais.iter().any(|u| u == own.as_str())
                        })
                    });
                let n = i64::from(line.is_some());
                (line.into_iter().skip(offset).take(first).collect(), n)
            }
        };
        Ok(CampaignEstablishmentConnection::new(
            usize::try_from(total).unwrap_or(0),
            offset,
            page.into_iter().map(|l| establishment_node(l, &directory)),
            |i| offset_cursor(i + 1),
        ))
    }

    /// One establishment's line; a CFA reads its own only.
    async fn establishment(
        &self,
        ctx: &Context<'_>,
        uai: String,
    ) -> async_graphql::Result<Option<CampaignEstablishment>> {
        let uai = Uai::parse(&uai).map_err(|e| invalid("uai", e))?;
        self.reader.may_read(&uai)?;
        let state = ctx.data::<ApiState>()?;
        let directory = state.cfa_directory();
        Ok(
            figures::establishment(&state.store, self.year, uai.as_str())
                .await
                .map_err(store_failure(&state.store, "the campaign's figures"))?
                .map(|l| establishment_node(l, &directory)),
        )
    }

    /// An establishment's allocations, oldest first; a CFA reads its own
    /// (its UAI is the default).
    async fn allocations(
        &self,
        ctx: &Context<'_>,
        uai: Option<String>,
        #[graphql(default = 50, desc = "How many, at most `limits.max_page_size`.")] first: Option<
            i32,
        >,
        after: Option<String>,
    ) -> async_graphql::Result<AllocationConnection> {
        let first = first.unwrap_or(50);
        let uai = match (uai, &self.reader) {
            (Some(u), _) => Uai::parse(&u).map_err(|e| invalid("uai", e))?,
            (None, Reader::Cfa(own)) => own.clone(),
            (None, Reader::Region) => return Err(invalid("uai", "name the establishment")),
        };
        self.reader.may_read(&uai)?;
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let position = match after {
            None => None,
            Some(c) => Some(
                B64.decode(&c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| {
                        let mut p = s.splitn(3, '\u{1f}').map(str::to_owned);
                        Some((p.next()?, p.next()?, p.next()?))
                    })
                    .ok_or_else(|| {
                        ErrorCode::InvalidCursor.error("after: not a cursor of this list")
                    })?,
            ),
        };
        let had_position = position.is_some();
        let mut rows = figures::allocations(
            &state.store,
            self.year,
            uai.as_str(),
            position,
            first as i64 + 1,
        )
        .await
        .map_err(store_failure(&state.store, "the campaign's figures"))?;
        let has_next_page = rows.len() > first;
        rows.truncate(first);
        let cursor = |a: &figures::StoredAllocation| {
            b64_of(format_args!(
                "{}\u{1f}{}\u{1f}{}",
                a.allocated_at, a.opco, a.reference
            ))
        };
        let page_info = PageInfo {
            has_next_page,
            has_previous_page: had_position,
            start_cursor: rows.first().map(cursor),
            end_cursor: rows.last().map(cursor),
        };
        // Counted from the campaign's figures, not from the allocations.
        let total = figures::establishment(&state.store, self.year, uai.as_str())
            .await
            .map_err(store_failure(&state.store, "the campaign's figures"))?
            .map_or(0, |l| usize::try_from(l.allocations).unwrap_or(0));
        let edges = rows
            .into_iter()
            .map(|a| {
                (
                    cursor(&a),
                    AllocationNode {
                        opco: a.opco,
                        reference: a.reference,
                        employer_siret: a.employer_siret,
                        employer_commune: a.employer_commune,
                        establishment_uai: a.establishment_uai,
                        amount: money(a.amount_cents),
                        allocated_at: a.allocated_at,
                    },
                )
            })
            .collect();
        Ok(AllocationConnection::of_edges(total, page_info, edges))
    }
}
