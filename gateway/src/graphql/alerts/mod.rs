//! Offers pushed to candidates in the API: the `offerPublished`
//! subscription, and the saved alerts a partner frontend registers for its
//! candidates (scope `alerts:write`, each client seeing its own alone).

mod bounds;
mod saved;
mod subscription;

pub use saved::{webhook_offer, AlertMutation, AlertQuery};
pub use subscription::{ConnectionCloser, OfferDelivery, Subscription};
