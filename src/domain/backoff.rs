//! Retry delays for background jobs (email delivery and every other kind): exponential, capped.

use std::time::Duration;

/// Delay before the next try after `attempts` failed tries (1-based): base · 2^(attempts−1),
/// never more than `max`.
pub fn retry_delay(attempts: i32, base: Duration, max: Duration) -> Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 30) as u32;
    base.checked_mul(1u32 << exponent)
        .map_or(max, |d| d.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_each_attempt_and_stops_at_the_cap() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, base, max), Duration::from_secs(30));
        assert_eq!(retry_delay(2, base, max), Duration::from_secs(60));
        assert_eq!(retry_delay(4, base, max), Duration::from_secs(240));
        assert_eq!(retry_delay(8, base, max), Duration::from_secs(3600));
        assert_eq!(retry_delay(500, base, max), Duration::from_secs(3600));
        assert_eq!(retry_delay(0, base, max), Duration::from_secs(30));
    }
}
