//! Login throttling, in memory only: failures per account name and per source address. The
//! source address lives in this map for at most the lockout period and is never stored on disk
//! or logged. (Behind a load balancer every source is the balancer, so per-source throttling
//! then acts as a global brake; per-account throttling is unaffected.)

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::login_throttle::ThrottlePolicy;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Too many recent failures: try again after this long.
    Wait(Duration),
    /// The account is locked for this long.
    Locked(Duration),
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

    pub fn check(&self, account: &str, source: Option<IpAddr>) -> Verdict {
        let now = Instant::now();
        let account_verdict = self.verdict(&self.accounts, &account.to_lowercase(), now);
        if account_verdict != Verdict::Allowed {
            return account_verdict;
        }
        match source {
            Some(ip) => match self.verdict(&self.sources, &ip, now) {
                // A source is never "locked"; it waits.
                Verdict::Locked(d) => Verdict::Wait(d),
                v => v,
            },
            None => Verdict::Allowed,
        }
    }

    /// Records a failure; returns the account's failure count and whether it just got locked.
    pub fn record_failure(&self, account: &str, source: Option<IpAddr>) -> (u32, bool) {
        let now = Instant::now();
        let result = self.bump(&self.accounts, account.to_lowercase(), now, true);
        if let Some(ip) = source {
            self.bump(&self.sources, ip, now, false);
        }
        result
    }

    pub fn record_success(&self, account: &str, source: Option<IpAddr>) {
        self.accounts
            .lock()
            .unwrap()
            .remove(&account.to_lowercase());
        if let Some(ip) = source {
            self.sources.lock().unwrap().remove(&ip);
        }
    }

    fn verdict<K: Eq + Hash>(
        &self,
        map: &Mutex<HashMap<K, Failures>>,
        key: &K,
        now: Instant,
    ) -> Verdict {
        let map = map.lock().unwrap();
        let Some(f) = map.get(key) else {
            return Verdict::Allowed;
        };
        if let Some(until) = f.locked_until {
            if until > now {
                return Verdict::Locked(until - now);
            }
        }
        let ready_at = f.last + self.policy.delay(f.count);
        if ready_at > now {
            Verdict::Wait(ready_at - now)
        } else {
            Verdict::Allowed
        }
    }

    fn bump<K: Eq + Hash>(
        &self,
        map: &Mutex<HashMap<K, Failures>>,
        key: K,
        now: Instant,
        may_lock: bool,
    ) -> (u32, bool) {
        let mut map = map.lock().unwrap();
        if map.len() > MAX_ENTRIES {
            let horizon = self.lockout.max(self.policy.max_delay);
            map.retain(|_, f| now.duration_since(f.last) < horizon);
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
            entry.locked_until = Some(now + self.lockout);
        }
        (entry.count, locked_now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn five_failures_make_the_account_wait_and_ten_lock_it() {
        let t = throttle();
        for _ in 0..4 {
            t.record_failure("Alice", None);
        }
        assert_eq!(t.check("alice", None), Verdict::Allowed);
        t.record_failure("alice", None);
        assert!(matches!(t.check("alice", None), Verdict::Wait(_)));
        for _ in 0..4 {
            assert!(!t.record_failure("alice", None).1);
        }
        assert_eq!(t.record_failure("alice", None), (10, true));
        assert!(matches!(t.check("alice", None), Verdict::Locked(_)));
        assert_eq!(t.check("bob", None), Verdict::Allowed);
    }

    #[test]
    fn a_source_with_many_failures_waits_for_any_account() {
        let t = throttle();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for i in 0..5 {
            t.record_failure(&format!("user{i}"), Some(ip));
        }
        assert!(matches!(
            t.check("someone-else", Some(ip)),
            Verdict::Wait(_)
        ));
        assert_eq!(t.check("someone-else", None), Verdict::Allowed);
        t.record_success("someone-else", Some(ip));
        assert_eq!(t.check("someone-else", Some(ip)), Verdict::Allowed);
    }
}
