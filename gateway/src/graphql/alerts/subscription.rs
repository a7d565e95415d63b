//! `offerPublished`: each new offer matching a subscriber's filter, served
//! by the transports one batch a run (see `OfferDelivery`).

use std::sync::Arc;

use async_graphql::{Context, Object, Subscription};
use futures::stream::BoxStream;
use futures::StreamExt;
use passerelle_schema::{Near, Offer};
use tokio_util::sync::CancellationToken;

use super::bounds::bounded;
use crate::domain::alerts::live::LiveSubscription;
use crate::graphql::common::ApiState;
use crate::graphql::offers::OfferFilterInput;
use crate::graphql::offers::OfferNode;

/// The connection a subscription is served on: cancelled to close it
/// (a subscriber too slow to read is cut off).
#[derive(Clone, Default)]
pub struct ConnectionCloser(pub CancellationToken);

/// One run of a subscription served by the transports: the first, with no
/// offers, checks the request and subscribes (the subscription is left
/// here for the transport to keep); each later one answers a batch of the
/// offers it matched. So a subscriber keeps its filter, its request and a
/// queue between deliveries, not an execution.
#[derive(Default)]
pub struct OfferDelivery {
    /// The offers to answer; none for the first run.
    pub offers: Option<Arc<[Arc<Offer>]>>,
    /// The subscription the first run made.
    pub subscribed: std::sync::Mutex<Option<LiveSubscription>>,
}

/// A new offer, as a subscription tells of it.
pub struct OfferPublished {
    offer: Arc<Offer>,
    near: Option<Near>,
}

/// A new offer matching a subscription's filter.
#[Object]
impl OfferPublished {
    /// The offer.
    async fn offer(&self) -> OfferNode {
        OfferNode(self.offer.clone())
    }

    /// The distance from the centre of `filter.near` to the workplace's
    /// commune, in kilometres; null without `near`.
    async fn distance_km(&self) -> Option<f64> {
        self.near
            .and_then(|n| n.distance_to(&self.offer.location.commune))
            .map(|d| (d * 1000.0).round() / 1000.0)
    }
}

/// The root of subscriptions.
#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The new offers matching `filter`, as the gateway detects them: an
    /// offer is told once, when first published on any exchange (an offer
    /// on two exchanges is one offer). Served over graphql-ws on
    /// `/graphql` and over Server-Sent Events (graphql-sse) on
    /// `/graphql/stream`.
    async fn offer_published(
        &self,
        ctx: &Context<'_>,
        filter: Option<OfferFilterInput>,
    ) -> async_graphql::Result<BoxStream<'static, OfferPublished>> {
        let state = ctx.data::<ApiState>()?;
        let filter = filter.unwrap_or_default();
        bounded("filter", &filter)?;
        let filter = filter.parse(ctx)?;
        let near = filter.near;
        let published = move |offer| OfferPublished { offer, near };
        let delivery = ctx.data_opt::<Arc<OfferDelivery>>();
        if let Some(offers) = delivery.and_then(|d| d.offers.clone()) {
            return Ok(futures::stream::iter(offers.to_vec())
                .map(published)
                .boxed());
        }
        let closer = ctx
            .data_opt::<ConnectionCloser>()
            .cloned()
            .unwrap_or_default();
        let subscription = state.alerting.live.subscribe(filter, closer.0);
        match delivery {
            Some(d) => {
                *d.subscribed.lock().unwrap_or_else(|e| e.into_inner()) = Some(subscription);
                Ok(futures::stream::empty().boxed())
            }
            None => Ok(subscription.map(published).boxed()),
        }
    }
}
