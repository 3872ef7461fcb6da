//! Login throttling, in memory only: failures per account name and per source address. The
//! source address lives in this map for at most the lockout period and is never stored on disk
//! or logged. (Behind a load balancer every source is the balancer, so per-source throttling
//! then acts as a global brake; per-account throttling is unaffected.)

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::login_throttle::ThrottlePolicy;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Why a sign-in attempt was refused before its password was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many recent failures: try again after this long.
    Wait(Duration),
    /// The account is locked for this long.
    Locked(Duration),
}

/// A reserved attempt: it is already counted as a failure, before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// The account's failure count including this attempt.
    pub failures: u32,
    /// True for the one attempt whose reservation locked the account: if it fails, it records
    /// the lock and sends the lockout email (so that happens exactly once).
    pub locked_now: bool,
}

const MAX_ENTRIES: usize = 50_000;

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    lockout: Duration,
    accounts: Mutex<HashMap<String, Failures>>,
    sources: Mutex<HashMap<IpAddr, Failures>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy, lockout: Duration) -> LoginThrottle {
        LoginThrottle {
            policy,
            lockout,
            accounts: Mutex::new(HashMap::new()),
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// Decides whether a sign-in for `account` from `source` may be evaluated and, if so,
    /// counts it as a failure at once, under the same locks (check and count are one step).
    /// However many attempts arrive together, at most `delay_after` (or `lock_after`, when
    /// there is no delay) are let through before the next is refused. A success then clears
    /// the counts with [`LoginThrottle::record_success`]; a failure needs nothing more.
    ///
    /// Returns the reserved [`Attempt`], or the [`Refusal`] (a source is never locked; it
    /// waits). Rule: issue 7, fault 4 (the gate must not be check-then-act). `now` is the
    /// application's clock, so waits and locks end when a test moves a frozen clock past them.
    pub fn reserve(
        &self,
        account: &str,
        source: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Attempt, Refusal> {
        let account = account.to_lowercase();
        // Lock order: accounts, then sources.
        let mut accounts = self.accounts.lock().unwrap();
        let mut sources = self.sources.lock().unwrap();
        if let Some(refusal) = self.refusal(&accounts, &account, now) {
            return Err(refusal);
        }
        if let Some(ip) = &source {
            if let Some(Refusal::Wait(d) | Refusal::Locked(d)) = self.refusal(&sources, ip, now) {
                return Err(Refusal::Wait(d));
            }
        }
        let (failures, locked_now) = self.bump(&mut accounts, account, now, true);
        if let Some(ip) = source {
            self.bump(&mut sources, ip, now, false);
        }
        Ok(Attempt {
            failures,
            locked_now,
        })
    }

    /// A successful sign-in: forgets the failures of the account and of the source.
    pub fn record_success(&self, account: &str, source: Option<IpAddr>) {
        self.accounts
            .lock()
            .unwrap()
            .remove(&account.to_lowercase());
        if let Some(ip) = source {
            self.sources.lock().unwrap().remove(&ip);
        }
    }

    fn refusal<K: Eq + Hash>(
        &self,
        map: &HashMap<K, Failures>,
        key: &K,
        now: DateTime<Utc>,
    ) -> Option<Refusal> {
        let f = map.get(key)?;
        if let Some(until) = f.locked_until {
            if until > now {
                return Some(Refusal::Locked(between(now, until)));
            }
            // A lock that has run out: the next reservation starts the count afresh.
            return None;
        }
        let ready_at = later(f.last, self.policy.delay(f.count));
        (ready_at > now).then(|| Refusal::Wait(between(now, ready_at)))
    }

    fn bump<K: Eq + Hash>(
        &self,
        map: &mut HashMap<K, Failures>,
        key: K,
        now: DateTime<Utc>,
        may_lock: bool,
    ) -> (u32, bool) {
        if map.len() > MAX_ENTRIES {
            let horizon = self.lockout.max(self.policy.max_delay);
            map.retain(|_, f| between(f.last, now) < horizon);
        }
        let entry = map.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        // A lock that has run out starts the count afresh.
        if entry.locked_until.is_some_and(|u| u <= now) {
            *entry = Failures {
                count: 0,
                last: now,
                locked_until: None,
            };
        }
        entry.count += 1;
        entry.last = now;
        let locked_now = may_lock && entry.locked_until.is_none() && self.policy.locks(entry.count);
        if locked_now {
            entry.locked_until = Some(later(now, self.lockout));
        }
        (entry.count, locked_now)
    }
}

/// `at` plus `by`, saturating at the latest representable time.
fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|by| at.checked_add_signed(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How long from `from` to `to`; zero if `to` is not later (a clock set back).
fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(
            ThrottlePolicy {
                delay_after: 5,
                lock_after: 10,
                base_delay: Duration::from_secs(60),
                max_delay: Duration::from_secs(600),
            },
            Duration::from_secs(900),
        )
    }

    #[test]
    fn five_attempts_pass_then_the_account_waits() {
        let t = throttle();
        for i in 1..=5 {
            assert_eq!(
                t.reserve("Alice", None, now()),
                Ok(Attempt {
                    failures: i,
                    locked_now: false
                })
            );
        }
        // The sixth is refused before it is evaluated, whatever its password.
        assert!(matches!(
            t.reserve("alice", None, now()),
            Err(Refusal::Wait(_))
        ));
        assert!(t.reserve("bob", None, now()).is_ok());
        t.record_success("ALICE", None);
        assert!(t.reserve("alice", None, now()).is_ok());
    }

    #[test]
    fn without_delay_the_tenth_attempt_locks_once() {
        let t = LoginThrottle::new(
            ThrottlePolicy {
                delay_after: 5,
                lock_after: 10,
                base_delay: Duration::ZERO,
                max_delay: Duration::ZERO,
            },
            Duration::from_secs(900),
        );
        let locks: Vec<bool> = (0..10)
            .map(|_| t.reserve("alice", None, now()).unwrap().locked_now)
            .collect();
        assert_eq!(locks.iter().filter(|l| **l).count(), 1);
        assert!(locks[9]);
        assert!(matches!(
            t.reserve("alice", None, now()),
            Err(Refusal::Locked(_))
        ));
        // The lock follows the time passed in: it ends once that passes the lockout.
        let after = now() + chrono::Duration::seconds(901);
        assert_eq!(
            t.reserve("alice", None, after),
            Ok(Attempt {
                failures: 1,
                locked_now: false
            })
        );
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let t = std::sync::Arc::new(throttle());
        let handles: Vec<_> = (0..30)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.reserve("carol", None, now()).is_ok())
            })
            .collect();
        let allowed = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn a_source_with_many_attempts_waits_for_any_account() {
        let t = throttle();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for i in 0..5 {
            assert!(t.reserve(&format!("user{i}"), Some(ip), now()).is_ok());
        }
        assert!(matches!(
            t.reserve("someone-else", Some(ip), now()),
            Err(Refusal::Wait(_))
        ));
        // A refused attempt counts against nobody.
        assert!(t.reserve("someone-else", None, now()).is_ok());
        t.record_success("someone-else", Some(ip));
        assert!(t.reserve("someone-else", Some(ip), now()).is_ok());
    }
}
