//! The runs of an admitted operation over a stream: a subscription in the
//! group of the same ones, each batch of new offers answered by a run of
//! its own; a query or mutation alone, answered once.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use futures::stream::BoxStream;
use futures::StreamExt;
use passerelle_connectors::http::within_deadline;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::domain::alerts::live::LiveSubscription;
use crate::graphql::alerts::{ConnectionCloser, OfferDelivery};
use crate::graphql::transports::admit::Admitted;
use crate::graphql::transports::endpoint::Endpoint;
use crate::graphql::transports::execute::{give_codes, request_of, Finish};
use crate::graphql::transports::shared::{key_of, Outcome};

/// Runs an admitted subscription, in the group of the same ones; or a
/// query or mutation, alone and under the operation's deadline, answered
/// once. Every result's fields are in the document's order and its errors
/// carry their codes, as over HTTP.
pub(super) fn subscribe(
    endpoint: &Endpoint,
    admitted: Admitted,
    caller: crate::auth::Caller,
    closer: CancellationToken,
) -> BoxStream<'static, Outcome> {
    let kind = admitted.kind;
    let key = (kind == OperationType::Subscription).then(|| {
        key_of(
            &admitted.params.query,
            admitted.params.operation_name.as_deref(),
            admitted.params.variables.as_ref(),
            &caller,
        )
    });
    let schema = endpoint.schema.clone();
    let deadline = tokio::time::Instant::now() + endpoint.operation_timeout;
    let scopes = endpoint.subgraph_scopes;
    let run = move |closer: CancellationToken| {
        if kind == OperationType::Subscription {
            return deliveries(schema, scopes, admitted, caller, closer);
        }
        let (request, finish) = request_of(scopes, admitted, caller);
        let request = request.data(ConnectionCloser(closer));
        futures::stream::once(async move {
            finished(
                &finish,
                within_deadline(deadline, schema.execute(request)).await,
            )
        })
        .boxed()
    };
    endpoint.shared.subscribe(key.flatten(), run, closer)
}

/// A result in the document's order, its errors with their codes, as over
/// HTTP.
fn finished(finish: &Finish, mut r: async_graphql::Response) -> async_graphql::Response {
    finish.apply(&mut r);
    give_codes(&mut r);
    r
}

/// A subscription's results, each batch of new offers it matches answered
/// by a run of its own (see [`OfferDelivery`]): between deliveries, a
/// subscriber keeps its request, its filter in the index of subscribers
/// and the queue of its batches, not an execution of the engine. The first
/// run checks the request and subscribes; when it answers instead (an
/// error), that answer is the only result.
fn deliveries(
    schema: crate::graphql::schema::PasserelleSchema,
    scopes: bool,
    admitted: Admitted,
    caller: crate::auth::Caller,
    closer: CancellationToken,
) -> BoxStream<'static, async_graphql::Response> {
    /// What a subscriber keeps between deliveries: the request as sent,
    /// its variables and extensions as JSON text (its document is parsed
    /// again for each delivery, not kept parsed).
    struct Subscriber {
        schema: crate::graphql::schema::PasserelleSchema,
        scopes: bool,
        query: String,
        operation_name: Option<String>,
        variables: Option<Box<str>>,
        extensions: Option<Box<str>>,
        kind: OperationType,
        name: Option<String>,
        caller: crate::auth::Caller,
        closer: CancellationToken,
        live: Option<LiveSubscription>,
    }
    impl Subscriber {
        /// One run of the request, with `delivery`: its results.
        async fn run(&self, delivery: &Arc<OfferDelivery>) -> Vec<async_graphql::Response> {
            // The document was admitted, so it parses; the maps were
            // written from maps.
            let Ok(doc) = async_graphql::parser::parse_query(&self.query) else {
                return Vec::new();
            };
            let map = |text: &Option<Box<str>>| {
                text.as_deref().and_then(|t| serde_json::from_str(t).ok())
            };
            let admitted = Admitted {
                params: crate::graphql::transports::negotiate::Params {
                    query: self.query.clone(),
                    operation_name: self.operation_name.clone(),
                    variables: map(&self.variables),
                    extensions: map(&self.extensions),
                },
                doc,
                kind: self.kind,
                name: self.name.clone(),
            };
            let (request, finish) = request_of(self.scopes, admitted, self.caller.clone());
            let request = request
                .data(ConnectionCloser(self.closer.clone()))
                .data(delivery.clone());
            self.schema
                .execute_stream(request)
                .map(|r| finished(&finish, r))
                .collect()
                .await
        }
    }
    let text = |map: Option<serde_json::Map<String, Value>>| {
        map.map(|m| Value::Object(m).to_string().into_boxed_str())
    };
    let params = admitted.params;
    let first = Subscriber {
        schema,
        scopes,
        query: params.query,
        operation_name: params.operation_name,
        variables: text(params.variables),
        extensions: text(params.extensions),
        kind: admitted.kind,
        name: admitted.name,
        caller,
        closer,
        live: None,
    };
    futures::stream::unfold(Some(first), |subscriber| async move {
        let mut s = subscriber?;
        match s.live.as_mut() {
            None => {
                let delivery = Arc::new(OfferDelivery::default());
                // Boxed: the state of a subscriber waiting for offers
                // would otherwise be as large as an execution's.
                let results = Box::pin(s.run(&delivery)).await;
                let subscribed = delivery
                    .subscribed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                match subscribed {
                    Some(live) if results.is_empty() => {
                        s.live = Some(live);
                        Some((results, Some(s)))
                    }
                    _ => Some((results, None)),
                }
            }
            Some(live) => {
                let offers = live.next_batch().await?;
                let delivery = Arc::new(OfferDelivery {
                    offers: Some(offers),
                    ..OfferDelivery::default()
                });
                let results = Box::pin(s.run(&delivery)).await;
                Some((results, Some(s)))
            }
        }
    })
    .flat_map(futures::stream::iter)
    .boxed()
}
