//! Login throttling rules: after `delay_after` failures each further try must wait an
//! exponentially growing delay; at `lock_after` failures the account is locked.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub delay_after: u32,
    pub lock_after: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl ThrottlePolicy {
    /// How long after the latest failure the next try is refused, given `failures` so far.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures < self.delay_after {
            return Duration::ZERO;
        }
        let exponent = (failures - self.delay_after).min(20);
        self.base_delay
            .checked_mul(1u32 << exponent)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }

    pub fn locks(&self, failures: u32) -> bool {
        failures >= self.lock_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        delay_after: 5,
        lock_after: 10,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
    };

    #[test]
    fn no_delay_before_five_failures_then_doubling() {
        for n in 0..5 {
            assert_eq!(POLICY.delay(n), Duration::ZERO);
        }
        assert_eq!(POLICY.delay(5), Duration::from_secs(1));
        assert_eq!(POLICY.delay(6), Duration::from_secs(2));
        assert_eq!(POLICY.delay(9), Duration::from_secs(16));
        assert_eq!(POLICY.delay(40), Duration::from_secs(60));
    }

    #[test]
    fn locks_at_ten() {
        assert!(!POLICY.locks(9));
        assert!(POLICY.locks(10));
    }
}
