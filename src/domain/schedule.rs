//! When recurring jobs run: each schedule cuts time into periods, and a recurring job runs once
//! per period. The period key names the period; the jobs table's UNIQUE (kind, period) makes the
//! "once" hold across any number of instances.
//!
//! Daily periods follow the county's calendar day (China Standard Time, UTC+8, no daylight
//! saving): a daily reminder belongs to the day the staff see on their wall clock. Hourly and
//! minute periods are the same everywhere and are keyed in UTC.

use chrono::{DateTime, Duration, DurationRound, FixedOffset, NaiveDate, Utc};

/// The county's offset from UTC: China Standard Time, UTC+8 all year.
pub const COUNTY_UTC_OFFSET_SECS: i32 = 8 * 3600;

fn county_offset() -> FixedOffset {
    FixedOffset::east_opt(COUNTY_UTC_OFFSET_SECS).expect("UTC+8 is a valid offset")
}

/// The calendar date in the county at instant `at`.
pub fn county_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&county_offset()).date_naive()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Once per county calendar day (midnight to midnight, UTC+8).
    DailyInCounty,
    /// Once per UTC hour.
    Hourly,
    /// Once per slot of this many minutes, slots aligned on UTC midnight. Must divide 1440.
    EveryMinutes(u32),
}

impl Schedule {
    /// The key of the period that contains `at`: `2026-11-29` (daily, county date),
    /// `2026-11-29T09Z` (hourly), `2026-11-29T09:10Z` (minute slots).
    pub fn period_key(self, at: DateTime<Utc>) -> String {
        match self {
            Schedule::DailyInCounty => county_date(at).format("%Y-%m-%d").to_string(),
            Schedule::Hourly => self.period_start(at).format("%Y-%m-%dT%HZ").to_string(),
            Schedule::EveryMinutes(_) => {
                self.period_start(at).format("%Y-%m-%dT%H:%MZ").to_string()
            }
        }
    }

    /// The first instant of the period that contains `at`.
    pub fn period_start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::DailyInCounty => {
                let midnight = county_date(at)
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight exists")
                    .and_local_timezone(county_offset())
                    .single()
                    .expect("a fixed offset has no gaps");
                midnight.with_timezone(&Utc)
            }
            Schedule::Hourly | Schedule::EveryMinutes(_) => {
                at.duration_trunc(self.length()).unwrap_or(at)
            }
        }
    }

    /// The first instant of the period after the one that contains `at`: when the job next
    /// falls due.
    pub fn next_start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.period_start(at) + self.length()
    }

    fn length(self) -> Duration {
        match self {
            Schedule::DailyInCounty => Duration::days(1),
            Schedule::Hourly => Duration::hours(1),
            Schedule::EveryMinutes(minutes) => Duration::minutes(i64::from(minutes.max(1))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn the_county_day_starts_at_16_00_utc_the_day_before() {
        let daily = Schedule::DailyInCounty;
        assert_eq!(daily.period_key(utc(2026, 11, 29, 15, 59)), "2026-11-29");
        assert_eq!(daily.period_key(utc(2026, 11, 29, 16, 0)), "2026-11-30");
        assert_eq!(
            daily.period_start(utc(2026, 11, 29, 20, 0)),
            utc(2026, 11, 29, 16, 0)
        );
        assert_eq!(
            daily.next_start(utc(2026, 11, 29, 20, 0)),
            utc(2026, 11, 30, 16, 0)
        );
        assert_eq!(
            county_date(utc(2026, 12, 31, 16, 0)).to_string(),
            "2027-01-01"
        );
    }

    #[test]
    fn one_key_per_period_and_a_new_key_in_the_next() {
        let daily = Schedule::DailyInCounty;
        let at = utc(2026, 11, 29, 1, 0);
        assert_eq!(
            daily.period_key(at),
            daily.period_key(at + Duration::hours(14))
        );
        assert_ne!(
            daily.period_key(at),
            daily.period_key(at + Duration::hours(15))
        );
    }

    #[test]
    fn hourly_periods_are_utc_hours() {
        let hourly = Schedule::Hourly;
        assert_eq!(
            hourly.period_key(utc(2026, 11, 29, 9, 59)),
            "2026-11-29T09Z"
        );
        assert_eq!(
            hourly.period_key(utc(2026, 11, 29, 10, 0)),
            "2026-11-29T10Z"
        );
        assert_eq!(
            hourly.next_start(utc(2026, 11, 29, 23, 30)),
            utc(2026, 11, 30, 0, 0)
        );
    }

    #[test]
    fn minute_slots_align_on_midnight() {
        let every = Schedule::EveryMinutes(10);
        assert_eq!(
            every.period_key(utc(2026, 11, 29, 9, 19)),
            "2026-11-29T09:10Z"
        );
        assert_eq!(
            every.period_start(utc(2026, 11, 29, 9, 19)),
            utc(2026, 11, 29, 9, 10)
        );
        assert_eq!(
            every.next_start(utc(2026, 11, 29, 23, 55)),
            utc(2026, 11, 30, 0, 0)
        );
    }
}
