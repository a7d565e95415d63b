//! Mobility of apprentices abroad in the API: counts and totals, and for one
//! CFA the mobilities themselves, never a name.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::domain::mobility::{Figures, MobilityFilter, MobilityReport};
use crate::graphql::common::connection::b64_of;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::errors::{report_partner_errors, report_stale, ErrorCode};
use crate::graphql::common::inputs;
use crate::graphql::common::scalars::{Date, Money};
use crate::graphql::common::written::{resolved, Planned, Writer, Written};
use crate::graphql::common::ApiState;

/// The mobility part of the root of queries.
#[derive(Default)]
pub struct MobilityQuery;

/// A programme funding apprentices' mobility, or an Erasmus+ activity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::MobilityProgram")]
pub enum MobilityProgram {
    /// The Région's Pass Monde grant.
    PassMonde,
    /// Erasmus+ short-term mobility (10 to 89 days).
    ErasmusShortTerm,
    /// Erasmus+ long-term mobility, ErasmusPro (90 days and more).
    ErasmusPro,
    /// Erasmus+ group mobility.
    ErasmusGroup,
    /// Erasmus+ participation in a skills competition.
    ErasmusSkillsCompetition,
}

/// Which mobilities to count; every field given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "MobilityFilter")]
pub struct MobilityFilterInput {
    /// Departing in this year.
    year: Option<i32>,
    /// Sent by the CFA with this UAI.
    cfa: Option<String>,
    /// To this country (ISO 3166-1 alpha-2, `IE`).
    country: Option<String>,
    /// Under this programme.
    program: Option<MobilityProgram>,
    /// Sent by CFAs of this département.
    departement: Option<String>,
}

impl MobilityFilterInput {
    /// Checks the filter.
    pub fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<MobilityFilter> {
        let country = self.country.map(|c| c.trim().to_ascii_uppercase());
        if let Some(c) = &country {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(inputs::invalid(
                    "filter.country",
                    "an ISO 3166-1 alpha-2 code such as IE",
                ));
            }
        }
        Ok(MobilityFilter {
            year: self.year,
            cfa: inputs::uai("filter.cfa", self.cfa)?,
            country,
            program: self.program.map(Into::into),
            departement: inputs::departement(ctx, "filter.departement", self.departement)?,
        })
    }
}

/// Counts and totals of a set of mobilities.
#[derive(SimpleObject)]
pub struct MobilityFigures {
    /// Mobilities.
    mobilities: u64,
    /// Apprentices who went.
    participants: u64,
    /// Days abroad, all apprentices together.
    days: u64,
    /// Grants, exactly.
    amount: Money,
}

impl From<&Figures> for MobilityFigures {
    fn from(f: &Figures) -> Self {
        Self {
            mobilities: f.mobilities,
            participants: f.participants,
            days: f.days,
            amount: Money(f.amount),
        }
    }
}

/// Figures of one programme.
#[derive(SimpleObject)]
pub struct ProgramFigures {
    /// The programme.
    program: MobilityProgram,
    /// Its figures.
    figures: MobilityFigures,
}

/// Figures of one grouping key (a country, a CFA, a month).
#[derive(SimpleObject)]
pub struct KeyFigures {
    /// The key: an ISO country code, a UAI, or a month `2027-03`.
    key: String,
    /// Its figures.
    figures: MobilityFigures,
}

/// One mobility, without the apprentice's name.
#[derive(SimpleObject)]
pub struct MobilityRecord {
    /// The programme's identifier of the activity or grant.
    id: String,
    /// The programme.
    program: MobilityProgram,
    /// The sending CFA's UAI.
    cfa: String,
    /// The destination country.
    country: String,
    /// The destination city.
    city: Option<String>,
    /// Departure.
    start: Date,
    /// Return.
    end: Option<Date>,
    /// Funded days.
    duration_days: u32,
    /// Apprentices.
    participants: u32,
    /// The grant.
    amount: Option<Money>,
}

/// Mobilities counted every way the Région reads them.
pub struct MobilityReportNode {
    /// The counts, shared with the index they may come from.
    pub report: Arc<MobilityReport>,
    pub for_one_cfa: bool,
}

fn keyed<K: ToString>(m: &std::collections::BTreeMap<K, Figures>) -> Vec<KeyFigures> {
    m.iter()
        .map(|(k, f)| KeyFigures {
            key: k.to_string(),
            figures: f.into(),
        })
        .collect()
}

/// Mobilities counted every way the Région reads them.
#[Object(name = "MobilityReport")]
impl MobilityReportNode {
    /// Everything matching.
    async fn total(&self) -> MobilityFigures {
        (&self.report.total).into()
    }

    /// By programme and Erasmus+ activity type.
    async fn by_program(&self) -> Vec<ProgramFigures> {
        self.report
            .by_program
            .iter()
            .map(|(p, f)| ProgramFigures {
                program: (*p).into(),
                figures: f.into(),
            })
            .collect()
    }

    /// By destination country.
    async fn by_country(&self) -> Vec<KeyFigures> {
        keyed(&self.report.by_country)
    }

    /// By sending CFA.
    async fn by_cfa(&self) -> Vec<KeyFigures> {
        keyed(&self.report.by_cfa)
    }

    /// By month of departure.
    async fn by_month(&self) -> Vec<KeyFigures> {
        keyed(&self.report.by_month)
    }

    /// The mobilities themselves, newest first, a page at a time; listed
    /// for one CFA only (set `filter.cfa`).
    async fn records(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50, desc = "How many, at most `limits.max_page_size`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<MobilityRecordConnection> {
        let first = first.unwrap_or(50);
        if !self.for_one_cfa {
            return Err(
                ErrorCode::InvalidInput.error("records are listed for one CFA: set filter.cfa")
            );
        }
        let state = ctx.data::<ApiState>()?;
        let first = crate::graphql::common::inputs::page_size(first, state.limits.max_page_size)?;
        let records = &self.report.records;
        let cursor = |m: &passerelle_schema::Mobility| {
            b64_of(format_args!("m1|{:?}|{}", m.program, m.partner_id))
        };
        let start = match after {
            Some(a) => {
                records.iter().position(|m| cursor(m) == a).ok_or_else(|| {
                    ErrorCode::InvalidCursor.error("after is not a cursor of this list")
                })? + 1
            }
            None => 0,
        };
        let end = (start + first).min(records.len());
        Ok(MobilityRecordConnection::new(
            records.len(),
            start,
            records[start..end].iter().map(|m| MobilityRecord {
                id: m.partner_id.clone(),
                program: m.program.into(),
                cfa: m.cfa.to_string(),
                country: m.country.clone(),
                city: m.city.clone(),
                start: Date(m.start),
                end: m.end.map(Date),
                duration_days: m.duration_days,
                participants: m.participants,
                amount: m.amount.map(Money),
            }),
            |i| cursor(&records[i]),
        ))
    }
}

/// A page of one CFA's mobilities, newest first.
pub type MobilityRecordConnection = crate::graphql::common::connection::Connection<MobilityRecord>;
connection_types!(
    MobilityRecord,
    "MobilityRecordConnection",
    "MobilityRecordEdge"
);

#[Object]
impl MobilityQuery {
    /// Apprentices' mobility abroad (Pass Monde, Erasmus+), as counts and
    /// totals. A programme whose system fails is left out and named in
    /// `errors`.
    async fn mobility(
        &self,
        ctx: &Context<'_>,
        filter: Option<MobilityFilterInput>,
    ) -> async_graphql::Result<MobilityReportNode> {
        let state = ctx.data::<ApiState>()?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let (report, errors) = state.mobility.report(&filter).await;
        report_partner_errors(ctx, &errors);
        let partners: Vec<_> = state
            .sources
            .mobility_feeds
            .iter()
            .map(|f| f.partner())
            .collect();
        report_stale(ctx, &state.health, &partners);
        Ok(MobilityReportNode {
            report: Arc::new(report),
            for_one_cfa: filter.cfa.is_some(),
        })
    }
}

impl Written for MobilityReportNode {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "total" => w.object(&resolved!(w, self.total), f.sub()),
            "byProgram" => w.objects(&resolved!(w, self.by_program), f.sub()),
            "byCountry" => w.objects(&resolved!(w, self.by_country), f.sub()),
            "byCfa" => w.objects(&resolved!(w, self.by_cfa), f.sub()),
            "byMonth" => w.objects(&resolved!(w, self.by_month), f.sub()),
            _ => None,
        }
    }
}

impl Written for MobilityFigures {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "mobilities" => w.put(self.mobilities),
            "participants" => w.put(self.participants),
            "days" => w.put(self.days),
            "amount" => w.leaf(&self.amount, f),
            _ => None,
        }
    }
}

impl Written for ProgramFigures {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "program" => w.leaf(&self.program, f),
            "figures" => w.object(&self.figures, f.sub()),
            _ => None,
        }
    }
}

impl Written for KeyFigures {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "key" => w.str(&self.key),
            "figures" => w.object(&self.figures, f.sub()),
            _ => None,
        }
    }
}
