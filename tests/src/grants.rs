//! A second subgraph for the federation tests and benchmark: the Région's
//! grants to CFAs and its hiring aid to employers, a small Federation 2
//! service that extends Passerelle's `Cfa` and `EmployerProfile` by key.
//! Its figures are made up from the keys it is given, the same each run.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

/// The keys the service knows: the CFAs it granted to, the employers it aided.
#[derive(Debug, Clone, Default)]
pub struct Granted {
    /// UAIs, in the order `grantedCfas` lists them.
    pub uais: Vec<String>,
    /// SIRETs, in the order `aidedEmployers` lists them.
    pub sirets: Vec<String>,
}

/// A grant of the Région to a CFA.
#[derive(SimpleObject, Clone)]
pub struct Grant {
    /// The year it was voted.
    year: i32,
    /// What it pays for.
    purpose: &'static str,
    /// The amount, in euros.
    amount_euros: f64,
}

/// A CFA, as the grants system knows it: by UAI.
pub struct Cfa {
    uai: String,
    rank: usize,
}

#[Object(name = "Cfa")]
impl Cfa {
    /// Its UAI.
    async fn uai(&self) -> &str {
        &self.uai
    }

    /// The Région's grants to it; none for a CFA it does not know.
    async fn grants(&self) -> Vec<Grant> {
        if self.rank == usize::MAX {
            return Vec::new();
        }
        let purposes = ["équipement", "investissement", "qualité"];
        (0..=self.rank % 3)
            .map(|i| Grant {
                year: 2024 + i as i32,
                purpose: purposes[(self.rank + i) % 3],
                amount_euros: 10_000.0 + 1_250.0 * ((self.rank * 7 + i) % 40) as f64,
            })
            .collect()
    }
}

/// The Région's hiring aid to an employer of apprentices.
#[derive(SimpleObject, Clone)]
pub struct HiringAid {
    /// The year it was paid.
    year: i32,
    /// The amount, in euros.
    amount_euros: f64,
}

/// An employer, as the grants system knows it: by SIRET.
pub struct EmployerProfile {
    siret: String,
    rank: usize,
}

#[Object(name = "EmployerProfile")]
impl EmployerProfile {
    /// Its SIRET.
    async fn siret(&self) -> &str {
        &self.siret
    }

    /// The aid it received; null for an employer it does not know.
    async fn hiring_aid(&self) -> Option<HiringAid> {
        (self.rank != usize::MAX).then_some(HiringAid {
            year: 2026,
            amount_euros: 6_000.0 - 500.0 * (self.rank % 4) as f64,
        })
    }
}

/// The service's queries, and its entities.
pub struct Query;

#[Object]
impl Query {
    /// The CFAs the Région granted to, at most `first`.
    async fn granted_cfas(&self, ctx: &Context<'_>, first: Option<usize>) -> Vec<Cfa> {
        let granted = ctx.data_unchecked::<Arc<Granted>>();
        let n = first.unwrap_or(granted.uais.len());
        granted
            .uais
            .iter()
            .take(n)
            .enumerate()
            .map(|(rank, uai)| Cfa {
                uai: uai.clone(),
                rank,
            })
            .collect()
    }

    /// The employers the Région aided.
    async fn aided_employers(&self, ctx: &Context<'_>) -> Vec<EmployerProfile> {
        let granted = ctx.data_unchecked::<Arc<Granted>>();
        (granted.sirets.iter().enumerate())
            .map(|(rank, siret)| EmployerProfile {
                siret: siret.clone(),
                rank,
            })
            .collect()
    }

    #[graphql(entity)]
    async fn cfa_by_uai(&self, ctx: &Context<'_>, uai: String) -> Cfa {
        let granted = ctx.data_unchecked::<Arc<Granted>>();
        let rank = granted.uais.iter().position(|u| *u == uai);
        Cfa {
            uai,
            rank: rank.unwrap_or(usize::MAX),
        }
    }

    #[graphql(entity)]
    async fn employer_by_siret(&self, ctx: &Context<'_>, siret: String) -> EmployerProfile {
        let granted = ctx.data_unchecked::<Arc<Granted>>();
        let rank = granted.sirets.iter().position(|s| *s == siret);
        EmployerProfile {
            siret,
            rank: rank.unwrap_or(usize::MAX),
        }
    }
}

/// The service's schema.
pub type GrantsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema over `granted`.
pub fn schema(granted: Granted) -> GrantsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(Arc::new(granted))
        .finish()
}

/// Its SDL as a subgraph, for composition.
pub fn sdl() -> String {
    schema(Granted::default()).sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}

/// Serves the subgraph at `POST /graphql` on `listener`.
pub async fn serve(listener: tokio::net::TcpListener, granted: Granted) -> std::io::Result<()> {
    let schema = schema(granted);
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(
            move |axum::Json(request): axum::Json<async_graphql::Request>| {
                let schema = schema.clone();
                async move { axum::Json(schema.execute(request).await) }
            },
        ),
    );
    axum::serve(listener, app).await
}

/// Starts the subgraph on a free port of the loopback; its address.
pub async fn spawn(granted: Granted) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(serve(listener, granted));
    addr
}
