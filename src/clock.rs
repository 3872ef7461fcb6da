//! The clock: where "now" comes from. Production reads the system clock; tests freeze it and move
//! it (`set`, `advance`), so deadline, reminder and job-scheduling tests never sleep.
//!
//! One `Clock` is built per application (`ApplicationBuilder::clock`, system by default), shared
//! by the handlers (`web::Data<Clock>`) and the jobs worker. Clones share the same time: a test
//! hands one frozen clock to several instances and moves them all at once.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    frozen: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { frozen: None }
    }

    /// A clock that stands at `at` (truncated to microseconds) until `set` or `advance` moves it.
    pub fn frozen(at: DateTime<Utc>) -> Clock {
        Clock {
            frozen: Some(Arc::new(Mutex::new(truncate(at)))),
        }
    }

    /// Whether this clock is frozen (test) rather than the system clock.
    pub fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Now, truncated to microseconds: what both database backends store exactly, so values
    /// read back compare equal (and audit hashes recompute).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.frozen {
            Some(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
            None => truncate(Utc::now()),
        }
    }

    /// [`Clock::now`] as the naive UTC value stored in `TIMESTAMP` columns.
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Moves a frozen clock to `at`. Panics on the system clock: only tests move time.
    pub fn set(&self, at: DateTime<Utc>) {
        let frozen = self
            .frozen
            .as_ref()
            .expect("only a frozen clock can be set");
        *frozen.lock().unwrap_or_else(|e| e.into_inner()) = truncate(at);
    }

    /// Moves a frozen clock forward by `by`. Panics on the system clock: only tests move time.
    pub fn advance(&self, by: chrono::Duration) {
        let frozen = self
            .frozen
            .as_ref()
            .expect("only a frozen clock can be advanced");
        let mut at = frozen.lock().unwrap_or_else(|e| e.into_inner());
        *at = truncate(*at + by);
    }
}

fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_frozen_clock_stands_still_until_moved() {
        let start = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
        let clock = Clock::frozen(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        clock.advance(chrono::Duration::hours(25));
        assert_eq!(clock.now(), start + chrono::Duration::hours(25));
        let shared = clock.clone();
        shared.set(start);
        assert_eq!(clock.now(), start, "clones share one time");
    }

    #[test]
    fn times_are_truncated_to_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(1_234_567);
        let clock = Clock::frozen(at);
        assert_eq!(clock.now().nanosecond(), 1_234_000);
        assert_eq!(Clock::system().now().nanosecond() % 1_000, 0);
        assert!(!Clock::system().is_frozen());
    }
}
