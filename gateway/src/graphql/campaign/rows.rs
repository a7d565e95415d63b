//! The rows of the campaign in the API: its totals, lines, establishments
//! and allocations, and their pages.
use async_graphql::{Enum, SimpleObject};
use base64::Engine;
use passerelle_schema::{Cents, Departement, Uai};

use crate::domain::campaign::figures::Line;
use crate::domain::cfas::CfaDirectory;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::scalars::Money;

use crate::graphql::common::connection::{b64_of, B64};

/// The campaign's totals.
#[derive(SimpleObject)]
pub struct CampaignTotals {
    /// Allocated in all.
    pub(super) amount: Money,
    /// Allocations.
    pub(super) allocations: i64,
    /// Distinct employers.
    pub(super) employers: i64,
    /// Establishments allocated to.
    pub(super) establishments: i64,
    /// Allocated to establishments in Normandy.
    pub(super) to_normandy: Money,
    /// Allocated to establishments outside Normandy.
    pub(super) outside_normandy: Money,
    /// Allocated by employers in Normandy.
    pub(super) from_normandy_employers: Money,
    /// Allocated by employers in Normandy to establishments outside it.
    pub(super) leaked: Money,
    /// `leaked` over `fromNormandyEmployers`, from 0 to 1 (a ratio, not an
    /// amount); null before any Normandy employer allocated.
    pub(super) leakage_rate: Option<f64>,
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
    pub(super) opco: String,
    /// The OPCO's reference.
    pub(super) reference: String,
    /// The employer's SIRET.
    pub(super) employer_siret: String,
    /// The employer's commune (INSEE code).
    pub(super) employer_commune: String,
    /// The receiving establishment.
    pub(super) establishment_uai: String,
    /// The amount.
    pub(super) amount: Money,
    /// When it was allocated, RFC 3339.
    pub(super) allocated_at: String,
}

/// A page of an establishment's allocations, oldest first.
pub type AllocationConnection = crate::graphql::common::connection::Connection<AllocationNode>;
connection_types!(AllocationNode, "AllocationConnection", "AllocationEdge");

pub(super) fn money(cents: i64) -> Money {
    Money(Cents(cents))
}

pub(super) fn establishment_node(line: Line, directory: &CfaDirectory) -> CampaignEstablishment {
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
pub(super) fn establishment_search(
    search: &str,
    directory: &CfaDirectory,
) -> (Option<String>, Vec<String>) {
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

pub(super) fn offset_cursor(offset: usize) -> String {
    b64_of(format_args!("o:{offset}"))
}

pub(super) fn decode_offset(after: Option<String>) -> async_graphql::Result<usize> {
    let Some(after) = after else { return Ok(0) };
    B64.decode(&after)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ErrorCode::InvalidCursor.error("after: not a cursor of this list"))
}

pub(super) fn lines(
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
