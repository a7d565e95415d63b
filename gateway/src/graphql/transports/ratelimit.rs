//! Rate limits: anonymous callers by address, callers with a token by
//! subject; a refusal says when to come back.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::Caller;
use crate::config::RateLimits;

/// Keys seen between two clean-ups of the limiters' memory.
const CLEAN_EVERY: u64 = 1024;

/// The limiters of anonymous callers and of callers with a token.
pub struct Limiter {
    anonymous: DefaultKeyedRateLimiter<IpAddr>,
    clients: DefaultKeyedRateLimiter<String>,
    seen: AtomicU64,
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).expect("at least 1");
    let burst = NonZeroU32::new(burst.max(1)).expect("at least 1");
    Quota::per_second(rate).allow_burst(burst)
}

impl Limiter {
    /// Limiters with these rates.
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            anonymous: RateLimiter::keyed(quota(limits.anonymous_per_second, limits.burst)),
            clients: RateLimiter::keyed(quota(limits.client_per_second, limits.burst)),
            seen: AtomicU64::new(0),
        }
    }

    /// `Ok` when the caller may make a request now, else how long to wait.
    pub fn check(&self, caller: &Caller, address: IpAddr) -> Result<(), Duration> {
        self.check_n(caller, address, 1)
    }

    /// `Ok` when the caller may make `n` requests now (the operations of a
    /// batch), else how long to wait; a batch larger than the burst waits
    /// as long as the burst takes to refill.
    pub fn check_n(&self, caller: &Caller, address: IpAddr, n: u32) -> Result<(), Duration> {
        let n = NonZeroU32::new(n.max(1)).expect("at least 1");
        if self
            .seen
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(CLEAN_EVERY)
        {
            self.anonymous.retain_recent();
            self.clients.retain_recent();
        }
        let outcome = match &caller.subject {
            Some(subject) => self.clients.check_key_n(subject, n),
            None => self.anonymous.check_key_n(&address, n),
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now())),
            Err(_) => Err(Duration::from_secs(1)),
        }
    }
}
