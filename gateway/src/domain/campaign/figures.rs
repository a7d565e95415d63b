//! Reading the campaign: from the aggregates that ingestion keeps, never
//! by scanning the allocations, so that an answer costs the same at a
//! thousand allocations and at a million.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::store::{Store, StoreError};

/// One line of a breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// The key: an OPCO, a département, a week, a UAI.
    pub key: String,
    /// Allocated, in cents.
    pub amount_cents: i64,
    /// Allocations.
    pub allocations: i64,
    /// Distinct employers (for the dimensions that count them).
    pub employers: i64,
}

fn line(r: &AnyRow) -> Result<Line, StoreError> {
    Ok(Line {
        key: r.try_get(0)?,
        amount_cents: r.try_get(1)?,
        allocations: r.try_get(2)?,
        employers: r.try_get(3)?,
    })
}

/// The campaign's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Everything.
    pub all: Line,
    /// Establishments allocated to.
    pub establishments: i64,
    /// Flows by origin and destination: `NN`, `NO`, `ON`, `OO` (N for
    /// Normandy, O for elsewhere; the employer first).
    pub flows: Vec<Line>,
}

impl Totals {
    fn flow(&self, key: &str) -> i64 {
        self.flows
            .iter()
            .find(|l| l.key == key)
            .map_or(0, |l| l.amount_cents)
    }

    /// Allocated to establishments in Normandy.
    pub fn to_normandy(&self) -> i64 {
        self.flow("NN") + self.flow("ON")
    }

    /// Allocated to establishments outside Normandy.
    pub fn outside_normandy(&self) -> i64 {
        self.flow("NO") + self.flow("OO")
    }

    /// Allocated by employers in Normandy.
    pub fn from_normandy(&self) -> i64 {
        self.flow("NN") + self.flow("NO")
    }

    /// Allocated by employers in Normandy to establishments elsewhere.
    pub fn leaked(&self) -> i64 {
        self.flow("NO")
    }
}

/// How establishments are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Most allocated first.
    AmountDesc,
    /// Least allocated first.
    AmountAsc,
    /// Most employers first.
    EmployersDesc,
    /// By UAI.
    Uai,
}

impl Order {
    fn sql(self) -> &'static str {
        match self {
            Order::AmountDesc => "amount_cents DESC, key",
            Order::AmountAsc => "amount_cents ASC, key",
            Order::EmployersDesc => "employers DESC, key",
            Order::Uai => "key",
        }
    }
}

const LINE: &str = "SELECT key, amount_cents, allocations, employers FROM campaign_figures";

/// The campaign's totals.
pub async fn totals(store: &Store, campaign: i32) -> Result<Totals, StoreError> {
    let all = sqlx::query(&format!(
        "{LINE} WHERE campaign = $1 AND dimension = 'total'"
    ))
    .bind(i64::from(campaign))
    .fetch_optional(store.pool()?)
    .await?
    .as_ref()
    .map(line)
    .transpose()?
    .unwrap_or_default();
    let flows = breakdown(store, campaign, "flow").await?;
    let establishments: i64 = sqlx::query(
        "SELECT COUNT(*) FROM campaign_figures WHERE campaign = $1 AND dimension = 'establishment'",
    )
    .bind(i64::from(campaign))
    .fetch_one(store.pool()?)
    .await?
    .try_get(0)?;
    Ok(Totals {
        all,
        establishments,
        flows,
    })
}

/// Every line of a dimension (`opco`, `employer_departement`, `week`,
/// `flow`), by key.
pub async fn breakdown(
    store: &Store,
    campaign: i32,
    dimension: &str,
) -> Result<Vec<Line>, StoreError> {
    sqlx::query(&format!(
        "{LINE} WHERE campaign = $1 AND dimension = $2 ORDER BY key"
    ))
    .bind(i64::from(campaign))
    .bind(dimension)
    .fetch_all(store.pool()?)
    .await?
    .iter()
    .map(line)
    .collect()
}

/// Which establishments a page lists.
#[derive(Debug, Clone, Default)]
pub struct EstablishmentFilter {
    /// Those whose UAI was issued in this département (`014`, `14`).
    pub departement: Option<String>,
    /// A search: establishments whose UAI starts with `uai_prefix` or
    /// whose UAI is one of `uais` (those whose name matched); none when
    /// both are empty.
    pub search: Option<(Option<String>, Vec<String>)>,
}

/// A page of establishments, and how many there are in all.
pub async fn establishments(
    store: &Store,
    campaign: i32,
    order: Order,
    filter: &EstablishmentFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Line>, i64), StoreError> {
    let prefix = filter
        .departement
        .as_deref()
        .map_or_else(|| "%".to_owned(), |d| format!("{d:0>3}%"));
    // Parameters $1 and $2 are the campaign and the département's prefix;
    // a search adds the UAI's prefix and the UAIs whose name matched.
    let mut searched = Vec::new();
    let mut condition = String::new();
    if let Some((uai_prefix, uais)) = &filter.search {
        let mut any = Vec::new();
        if let Some(p) = uai_prefix {
            searched.push(format!("{p}%"));
            any.push(format!("key LIKE ${}", searched.len() + 2));
        }
        for u in uais {
            searched.push(u.clone());
            any.push(format!("key = ${}", searched.len() + 2));
        }
        if any.is_empty() {
            return Ok((Vec::new(), 0));
        }
        condition = format!(" AND ({})", any.join(" OR "));
    }
    let n = searched.len() + 2;
    let page_sql = format!(
        "{LINE} WHERE campaign = $1 AND dimension = 'establishment' AND key LIKE $2{condition} \
         ORDER BY {} LIMIT ${} OFFSET ${}",
        order.sql(),
        n + 1,
        n + 2
    );
    let mut page = sqlx::query(&page_sql)
        .bind(i64::from(campaign))
        .bind(&prefix);
    for s in &searched {
        page = page.bind(s);
    }
    let page = page
        .bind(limit)
        .bind(offset)
        .fetch_all(store.pool()?)
        .await?
        .iter()
        .map(line)
        .collect::<Result<_, _>>()?;
    let count_sql = format!(
        "SELECT COUNT(*) FROM campaign_figures \
         WHERE campaign = $1 AND dimension = 'establishment' AND key LIKE $2{condition}"
    );
    let mut count = sqlx::query(&count_sql)
        .bind(i64::from(campaign))
        .bind(&prefix);
    for s in &searched {
        count = count.bind(s);
    }
    let count: i64 = count.fetch_one(store.pool()?).await?.try_get(0)?;
    Ok((page, count))
}

/// One establishment's line.
pub async fn establishment(
    store: &Store,
    campaign: i32,
    uai: &str,
) -> Result<Option<Line>, StoreError> {
    sqlx::query(&format!(
        "{LINE} WHERE campaign = $1 AND dimension = 'establishment' AND key = $2"
    ))
    .bind(i64::from(campaign))
    .bind(uai)
    .fetch_optional(store.pool()?)
    .await?
    .as_ref()
    .map(line)
    .transpose()
}

/// One stored allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAllocation {
    /// The OPCO.
    pub opco: String,
    /// The OPCO's reference.
    pub reference: String,
    /// The employer.
    pub employer_siret: String,
    /// The employer's commune.
    pub employer_commune: String,
    /// The establishment.
    pub establishment_uai: String,
    /// In cents.
    pub amount_cents: i64,
    /// RFC 3339.
    pub allocated_at: String,
}

const ALLOCATION: &str = "SELECT opco, reference, employer_siret, employer_commune, \
     establishment_uai, amount_cents, allocated_at FROM allocations";

fn allocation(r: &AnyRow) -> Result<StoredAllocation, StoreError> {
    Ok(StoredAllocation {
        opco: r.try_get(0)?,
        reference: r.try_get(1)?,
        employer_siret: r.try_get(2)?,
        employer_commune: r.try_get(3)?,
        establishment_uai: r.try_get(4)?,
        amount_cents: r.try_get(5)?,
        allocated_at: r.try_get(6)?,
    })
}

/// A page of an establishment's allocations, oldest first, after a
/// position (`allocated_at`, `opco`, `reference`) of an earlier page.
pub async fn allocations(
    store: &Store,
    campaign: i32,
    uai: &str,
    after: Option<(String, String, String)>,
    limit: i64,
) -> Result<Vec<StoredAllocation>, StoreError> {
    let (at, opco, reference) = after.unwrap_or_default();
    sqlx::query(&format!(
        "{ALLOCATION} WHERE campaign = $1 AND establishment_uai = $2 \
         AND (allocated_at, opco, reference) > ($3, $4, $5) \
         ORDER BY allocated_at, opco, reference LIMIT $6"
    ))
    .bind(i64::from(campaign))
    .bind(uai)
    .bind(at)
    .bind(opco)
    .bind(reference)
    .bind(limit)
    .fetch_all(store.pool()?)
    .await?
    .iter()
    .map(allocation)
    .collect()
}

/// Every allocation of a campaign, in a stable order, a page at a time
/// (for exports): those after `after` (`opco`, `reference`).
pub async fn allocations_page(
    store: &Store,
    campaign: i32,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<StoredAllocation>, StoreError> {
    let (opco, reference) = after.unwrap_or_default();
    sqlx::query(&format!(
        "{ALLOCATION} WHERE (opco, reference) > ($2, $3) AND campaign = $1 \
         ORDER BY opco, reference LIMIT $4"
    ))
    .bind(i64::from(campaign))
    .bind(opco)
    .bind(reference)
    .bind(limit)
    .fetch_all(store.pool()?)
    .await?
    .iter()
    .map(allocation)
    .collect()
}
