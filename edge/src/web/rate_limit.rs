//! Per-API-key request rates, so one caller's flood (a retry loop, a script, an attacker with a
//! stolen key) slows only that caller, never the other keys or tenants.
//!
//! Keys are counted after authentication, by key ID, so the table holds at most one entry per
//! real key; unauthenticated floods are bounded by the in-flight limit instead.

use crate::config::RequestLimits;
use crate::web::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use uuid::Uuid;

pub struct KeyRates {
    limiter: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
}

impl std::fmt::Debug for KeyRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRates")
    }
}

impl KeyRates {
    pub fn new(limits: &RequestLimits) -> Self {
        let per_second = NonZeroU32::new(limits.rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.rate_burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from `key`'s allowance, or says how long until it may send again.
    pub fn check(&self, key: Uuid) -> Result<(), ApiError> {
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::RateLimited {
                retry_after_secs: secs.max(1),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_past_its_burst_waits_while_other_keys_do_not() {
        let rates = KeyRates::new(&RequestLimits {
            rate_per_second: 1,
            rate_burst: 3,
            ..RequestLimits::default()
        });
        let (busy, other) = (Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..3 {
            assert!(rates.check(busy).is_ok());
        }
        match rates.check(busy) {
            Err(ApiError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(rates.check(other).is_ok());
    }
}
