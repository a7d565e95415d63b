//! The taxe d'apprentissage campaign in the API: OPCOs push allocations,
//! the Région reads the campaign, a CFA reads its own line.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use base64::Engine;
use passerelle_schema::{AllocationInput, Cents, Departement, Opco, Uai};

use crate::auth::Caller;
use crate::domain::campaign::figures::{self, Line, Order};
use crate::domain::campaign::{self, BatchError, IngestReport};
use crate::domain::cfas::CfaDirectory;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::errors::{store_failure, ErrorCode};
use crate::graphql::common::inputs::{invalid, page_size};
use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::scalars::Money;
use crate::graphql::common::ApiState;

use crate::graphql::common::connection::B64;

/// The most allocations one `pushAllocations` call takes; larger batches
/// go to `POST /ingest/allocations`.
pub const MAX_PUSH: usize = 10_000;

/// One allocation as an OPCO pushes it. Every field is text, checked here
/// record by record: a bad record is rejected alone, with its reason.
#[derive(InputObject)]
pub struct AllocationRecordInput {
    /// The employer's SIRET (14 digits, with its check key).
    employer_siret: String,
    /// The INSEE code of the employer's establishment's commune: it tells
    /// whether the money comes from Normandy.
    employer_commune: String,
    /// The UAI of the establishment receiving the money.
    establishment_uai: String,
    /// The amount in euros, positive, at most two decimals (`1234.50`).
    amount: String,
    /// When it was allocated: RFC 3339, or a date (Paris time).
    allocated_at: String,
    /// The OPCO's reference of the allocation: the same reference is never
    /// counted twice.
    reference: String,
}

/// A batch of allocations.
#[derive(InputObject)]
pub struct PushAllocationsInput {
    /// The campaign year.
    campaign: i32,
    /// The batch's key: a retry with the same key stores nothing more and
    /// returns the first answer.
    idempotency_key: String,
    /// The OPCO pushing; when given it must be the token's.
    opco: Option<String>,
    /// The allocations, at most 10,000.
    allocations: Vec<AllocationRecordInput>,
}

/// A refused record.
#[derive(SimpleObject)]
pub struct RejectedAllocation {
    /// Its position in the batch, from 0.
    index: u64,
    /// The field at fault.
    field: String,
    /// A stable code (`INVALID_CHECK_KEY`, `NOT_POSITIVE`…).
    code: String,
    /// Why, for people.
    reason: String,
}

/// What happened to a batch.
#[derive(SimpleObject)]
pub struct PushReport {
    /// The OPCO.
    opco: String,
    /// The campaign.
    campaign: i32,
    /// The batch's key.
    idempotency_key: String,
    /// Records received.
    received: u64,
    /// Records stored.
    accepted: u64,
    /// Records already stored under the same reference.
    duplicates: u64,
    /// Records refused.
    rejected_count: u64,
    /// The refused records, one by one.
    rejected: Vec<RejectedAllocation>,
    /// True when this answers a retry: nothing was stored this time.
    replayed: bool,
}

impl From<IngestReport> for PushReport {
    fn from(r: IngestReport) -> Self {
        Self {
            opco: r.opco,
            campaign: r.campaign,
            idempotency_key: r.idempotency_key,
            received: r.received,
            accepted: r.accepted,
            duplicates: r.duplicates,
            rejected_count: r.rejected_count,
            rejected: r
                .rejected
                .into_iter()
                .map(|x| RejectedAllocation {
                    index: x.index,
                    field: x.field,
                    code: x.code,
                    reason: x.reason,
                })
                .collect(),
            replayed: r.replayed,
        }
    }
}

fn batch_error(e: &BatchError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    if let BatchError::Ingest(campaign::IngestError::Store(se)) = e {
        tracing::error!(error = %se, "a push could not be stored");
    }
    let message = match e {
        BatchError::Ingest(campaign::IngestError::Store(_)) => {
            "the store is unavailable; nothing of this batch was kept, retry it with the same key"
                .to_owned()
        }
        other => other.to_string(),
    };
    async_graphql::Error::new(message).extend_with(|_, x| x.set("code", e.code()))
}

/// The root of mutations.
#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Pushes allocations of the taxe d'apprentissage for the caller's OPCO.
    ///
    /// Needs the scope `allocations:write` and an `opco` claim; the batch is
    /// stored for that OPCO only. Each record is checked alone; the answer
    /// comes once the batch is committed.
    #[graphql(requires_scopes = "allocations:write")]
    async fn push_allocations(
        &self,
        ctx: &Context<'_>,
        input: PushAllocationsInput,
    ) -> async_graphql::Result<PushReport> {
        let caller = ctx.data_opt::<Caller>().cloned().unwrap_or_default();
        let opco = campaign::pushing_opco(&caller, input.opco.as_deref())
            .map_err(|why| ErrorCode::Forbidden.error(why))?;
        let key = input.idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(invalid("idempotencyKey", "1 to 200 characters"));
        }
        if input.allocations.len() > MAX_PUSH {
            return Err(invalid(
                "allocations",
                format!("at most {MAX_PUSH} a call; upload larger batches to /ingest/allocations"),
            ));
        }
        let state = ctx.data::<ApiState>()?;
        let records = input
            .allocations
            .into_iter()
            .map(|a| AllocationInput {
                employer_siret: a.employer_siret,
                employer_commune: a.employer_commune,
                establishment_uai: a.establishment_uai,
                amount: a.amount,
                allocated_at: a.allocated_at,
                reference: a.reference,
            })
            .collect();
        let started = std::time::Instant::now();
        let result =
            campaign::push(&state.store, &opco, i64::from(input.campaign), key, records).await;
        let outcome = match &result {
            Ok(r) if r.replayed => "replayed",
            Ok(_) => "stored",
            Err(e) => e.code(),
        };
        metrics::counter!("passerelle_ingest_batches_total", "channel" => "graphql", "outcome" => outcome)
            .increment(1);
        metrics::histogram!("passerelle_ingest_batch_duration_seconds", "channel" => "graphql")
            .record(started.elapsed().as_secs_f64());
        result.map(PushReport::from).map_err(|e| batch_error(&e))
    }
}

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

/// The campaign's totals.
#[derive(SimpleObject)]
pub struct CampaignTotals {
    /// Allocated in all.
    amount: Money,
    /// Allocations.
    allocations: i64,
    /// Distinct employers.
    employers: i64,
    /// Establishments allocated to.
    establishments: i64,
    /// Allocated to establishments in Normandy.
    to_normandy: Money,
    /// Allocated to establishments outside Normandy.
    outside_normandy: Money,
    /// Allocated by employers in Normandy.
    from_normandy_employers: Money,
    /// Allocated by employers in Normandy to establishments outside it.
    leaked: Money,
    /// `leaked` over `fromNormandyEmployers`, from 0 to 1 (a ratio, not an
    /// amount); null before any Normandy employer allocated.
    leakage_rate: Option<f64>,
}

/// A line of a breakdown.
#[derive(SimpleObject)]
pub struct CampaignLine {
    /// The key: an OPCO code, a département code or an ISO week (`2026-W23`).
    key: String,
    /// What the key names, when it has a name (OPCO, département).
    label: Option<String>,
    /// Allocated.
    amount: Money,
    /// Allocations.
    allocations: i64,
    /// Distinct employers, for breakdowns by employer département.
    employers: Option<i64>,
}

/// An establishment's line in the campaign.
#[derive(SimpleObject)]
pub struct CampaignEstablishment {
    /// Its UAI.
    uai: String,
    /// Its name, from the training catalogue or the orientation directory.
    name: Option<String>,
    /// Its département, from its UAI.
    departement: Option<crate::graphql::common::place::Departement>,
    /// Whether it is in Normandy.
    in_normandy: bool,
    /// False when neither the training catalogue nor the orientation
    /// directory knows the UAI: the allocation still counts.
    known_to_catalogue: bool,
    /// Allocated to it.
    amount: Money,
    /// Allocations.
    allocations: i64,
    /// Distinct employers.
    employers: i64,
}

/// A page of establishments, sorted as asked.
pub type CampaignEstablishmentConnection =
    crate::graphql::common::connection::Connection<CampaignEstablishment>;
connection_types!(
    CampaignEstablishment,
    "CampaignEstablishmentConnection",
    "CampaignEstablishmentEdge"
);

/// How establishments are sorted.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EstablishmentOrder {
    /// Most allocated first.
    AmountDesc,
    /// Least allocated first.
    AmountAsc,
    /// Most employers first.
    EmployersDesc,
    /// By UAI.
    Uai,
}

/// One stored allocation.
#[derive(SimpleObject)]
pub struct AllocationNode {
    /// The OPCO that pushed it.
    opco: String,
    /// The OPCO's reference.
    reference: String,
    /// The employer's SIRET.
    employer_siret: String,
    /// The employer's commune (INSEE code).
    employer_commune: String,
    /// The receiving establishment.
    establishment_uai: String,
    /// The amount.
    amount: Money,
    /// When it was allocated, RFC 3339.
    allocated_at: String,
}

/// A page of an establishment's allocations, oldest first.
pub type AllocationConnection = crate::graphql::common::connection::Connection<AllocationNode>;
connection_types!(AllocationNode, "AllocationConnection", "AllocationEdge");

fn money(cents: i64) -> Money {
    Money(Cents(cents))
}

fn establishment_node(line: Line, directory: &CfaDirectory) -> CampaignEstablishment {
    let uai = Uai::parse(&line.key).ok();
    let departement = uai
        .as_ref()
        .and_then(|u| Departement::parse(u.departement_code()).ok());
    let known = uai.as_ref().and_then(|u| directory.get(u));
    CampaignEstablishment {
        name: known.map(|c| c.name.clone()),
        known_to_catalogue: known.is_some(),
        in_normandy: departement.as_ref().is_some_and(Departement::is_normandy),
        departement: departement
            .as_ref()
            .map(crate::graphql::common::place::Departement::of),
        uai: line.key,
        amount: money(line.amount_cents),
        allocations: line.allocations,
        employers: line.employers,
    }
}

/// What a search of establishments looks for: a UAI's beginning, when the
/// words can begin one, and the UAIs of the directory whose name holds
/// the words.
fn establishment_search(search: &str, directory: &CfaDirectory) -> (Option<String>, Vec<String>) {
    let prefix = (search.len() <= 8 && search.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| search.to_ascii_uppercase());
    let words = passerelle_schema::reference::fold_name(search);
    let uais = if words.is_empty() {
        Vec::new()
    } else {
        directory
            .iter()
            .filter(|c| passerelle_schema::reference::fold_name(&c.name).contains(&words))
            .map(|c| c.uai.as_str().to_owned())
            .collect()
    };
    (prefix, uais)
}

fn offset_cursor(offset: usize) -> String {
    B64.encode(format!("o:{offset}"))
}

fn decode_offset(after: Option<String>) -> async_graphql::Result<usize> {
    let Some(after) = after else { return Ok(0) };
    B64.decode(&after)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ErrorCode::InvalidCursor.error("after: not a cursor of this list"))
}

fn lines(
    lines: Vec<Line>,
    label: impl Fn(&str) -> Option<String>,
    employers: bool,
) -> Vec<CampaignLine> {
    lines
        .into_iter()
        .map(|l| CampaignLine {
            label: label(&l.key),
            amount: money(l.amount_cents),
            allocations: l.allocations,
            employers: employers.then_some(l.employers),
            key: l.key,
        })
        .collect()
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
            B64.encode(format!(
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
