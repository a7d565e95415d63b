//! How many connections a client address holds open: a slot each,
//! given back when its connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::Response;

use crate::graphql::common::errors::ErrorCode;
use crate::graphql::transports::answer::{refuse_with, MediaType};

/// Connections open per client address.
#[derive(Debug, Default)]
pub struct Connections {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection counted against its address; dropped, it is not.
pub struct Slot {
    owner: Arc<Connections>,
    address: IpAddr,
}

impl Connections {
    /// Counts a connection from `address`, unless `limit` are open.
    pub fn take(self: &Arc<Self>, address: IpAddr, limit: usize) -> Option<Slot> {
        let mut open = self.open.lock().expect("connections lock");
        let n = open.entry(address).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().expect("connections lock");
        if let Some(n) = open.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.address);
            }
        }
    }
}

pub(super) fn too_many_connections(media: MediaType, limit: usize) -> Response {
    refuse_with(
        StatusCode::TOO_MANY_REQUESTS,
        media,
        ErrorCode::RateLimited,
        &format!("{limit} subscription connections are open from this address already"),
    )
}
