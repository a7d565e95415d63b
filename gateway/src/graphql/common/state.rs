//! What every resolver reaches through the context.

use std::sync::Arc;

use crate::config::Limits;
use crate::domain::alerts::Alerting;
use crate::domain::cfas::{CfaDirectories, CfaDirectory};
use crate::domain::mobility::MobilityService;
use crate::domain::offers::OfferService;
use crate::partners::health::Health;
use crate::partners::sources::Sources;
use crate::store::Store;

/// What resolvers reach through the context.
pub struct ApiState {
    /// Offers across exchanges.
    pub offers: Arc<OfferService>,
    /// The partners known: the values of `PartnerId`.
    pub registry: passerelle_connectors::Registry,
    /// Every configured partner's sources.
    pub sources: Arc<Sources>,
    /// Mobility across programmes.
    pub mobility: Arc<MobilityService>,
    /// Partners' health.
    pub health: Arc<Health>,
    /// The store.
    pub store: Store,
    /// Request bounds.
    pub limits: Limits,
    /// Whether the schema may be introspected.
    pub introspection: bool,
    /// Whether pages may be written to JSON directly (`written`).
    pub write_json: bool,
    /// Live subscribers and webhook targets.
    pub alerting: Arc<Alerting>,
    /// The directory of CFAs, kept per state of the sources it reads.
    pub cfas: Arc<CfaDirectories>,
}

impl ApiState {
    /// The directory of CFAs for what the partners serve now.
    pub fn cfa_directory(&self) -> Arc<CfaDirectory> {
        self.cfas.of(&self.sources)
    }
}
