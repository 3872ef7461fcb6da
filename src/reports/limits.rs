//! Rate limits for public endpoints, with governor: per source address and for the whole
//! instance. Source addresses live only in these in-memory maps; they are never stored or
//! logged.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;
use crate::error::ErrorCode;

pub struct RateLimit {
    per_source: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
    what: &'static str,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).expect("at least 1")
}

impl RateLimit {
    pub fn new(what: &'static str, per_source_per_hour: u32, global_per_minute: u32) -> RateLimit {
        RateLimit {
            per_source: RateLimiter::keyed(Quota::per_hour(nz(per_source_per_hour))),
            global: RateLimiter::direct(Quota::per_minute(nz(global_per_minute))),
            what,
        }
    }

    /// Counts one request; `Err` is 429 with `Retry-After`.
    pub fn check(&self, source: Option<IpAddr>) -> Result<(), ApiError> {
        // The limiters' own clock: building a new one per request probes the CPU each time.
        let clock = self.global.clock();
        if self.per_source.len() > 100_000 {
            self.per_source.retain_recent();
        }
        let wait = match source.map(|ip| self.per_source.check_key(&ip)) {
            Some(Err(not_until)) => Some(not_until.wait_time_from(clock.now())),
            _ => match self.global.check() {
                Err(not_until) => Some(not_until.wait_time_from(clock.now())),
                Ok(()) => None,
            },
        };
        match wait {
            None => Ok(()),
            Some(wait) => Err(too_many(self.what, wait)),
        }
    }
}

fn too_many(what: &'static str, wait: Duration) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("Too many {what} from here just now; try again later (see Retry-After). 请求过于频繁，请稍后再试。"),
    )
    .with_header(header::RETRY_AFTER, wait.as_secs().max(1).to_string())
}
