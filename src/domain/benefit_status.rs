//! Whether a village's benefits are suspended, now or on a county day (SPEC.md rule 4 and
//! "Suspensions"), from its suspension periods. Pure: the periods are read by the caller (one
//! indexed read, `suspensions::status`), the day and "now" are given.
//!
//! - **Now**: a village is suspended while a period is open (not lifted).
//! - **On day D** (a county calendar day, UTC+8): suspended if a period covers any moment of
//!   D, so that no payment dated D slips through: it started before D ended and was not lifted
//!   before D began. The day a suspension starts and the day it is lifted both count.
//! - **Blocking cases**: the filed cases behind that period that held it on the day asked: they
//!   had joined it by the end of the day and their remediation plans had not been verified
//!   complete before the day began (now: joined, and not yet cleared).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::schedule::COUNTY_UTC_OFFSET_SECS;

/// The policies a suspension covers, as the status API names them (SPEC.md → "Suspensions").
pub const POLICIES: &str = "全部涉农优惠政策";

/// A filed case behind a suspension period, as `suspension_periods.cases` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodCase {
    pub case_id: String,
    /// `AJ-2026-000001`.
    pub number: String,
    /// When the case joined the suspension (its filing), UTC.
    #[serde(with = "lenient_time")]
    pub joined_at: NaiveDateTime,
    /// When its remediation plan was verified complete (UTC); `None` while it blocks.
    #[serde(default, with = "lenient_time_opt")]
    pub cleared_at: Option<NaiveDateTime>,
}

/// One suspension period of a village, UTC times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub suspension_id: String,
    pub started_at: NaiveDateTime,
    pub lifted_at: Option<NaiveDateTime>,
    pub cases: Vec<PeriodCase>,
}

/// The instants, UTC, where county day `day` begins (inclusive) and ends (exclusive).
pub fn county_day_bounds(day: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let start = day.and_time(NaiveTime::MIN) - Duration::seconds(COUNTY_UTC_OFFSET_SECS.into());
    (start, start + Duration::days(1))
}

/// When the status is asked for: now, or a county day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Now(NaiveDateTime),
    Day(NaiveDate),
}

impl At {
    /// The window of instants (UTC; start inclusive, end exclusive) a period must touch to count.
    /// Now is the one instant `[now, now]`.
    pub fn window(self) -> (NaiveDateTime, NaiveDateTime) {
        match self {
            At::Now(now) => (now, now),
            At::Day(day) => county_day_bounds(day),
        }
    }
}

impl Period {
    /// Whether the village was suspended by this period at some moment of `at`.
    pub fn covers(&self, at: At) -> bool {
        match at {
            At::Now(now) => self.started_at <= now && self.lifted_at.is_none_or(|l| l > now),
            At::Day(day) => {
                let (start, end) = county_day_bounds(day);
                self.started_at < end && self.lifted_at.is_none_or(|l| l > start)
            }
        }
    }

    /// The case numbers that held this period at `at`, in the order they joined.
    pub fn blocking_cases(&self, at: At) -> Vec<String> {
        let (start, end) = match at {
            At::Now(now) => (now, now + Duration::microseconds(1)),
            At::Day(day) => county_day_bounds(day),
        };
        self.cases
            .iter()
            .filter(|c| c.joined_at < end && c.cleared_at.is_none_or(|cleared| cleared > start))
            .map(|c| c.number.clone())
            .collect()
    }
}

/// A village's status at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub suspended: bool,
    /// The start of the period found (the latest one to start, when several touch the day).
    pub since: Option<DateTime<Utc>>,
    /// That period's lift, if it was lifted.
    pub lifted_at: Option<DateTime<Utc>>,
    pub suspension_id: Option<String>,
    pub blocking_cases: Vec<String>,
}

/// The status at `at` of a village with `periods` (any order).
pub fn status(periods: &[Period], at: At) -> Status {
    let found = periods
        .iter()
        .filter(|p| p.covers(at))
        .max_by_key(|p| p.started_at);
    match found {
        None => Status {
            suspended: false,
            since: None,
            lifted_at: None,
            suspension_id: None,
            blocking_cases: Vec::new(),
        },
        Some(p) => Status {
            suspended: true,
            since: Some(p.started_at.and_utc()),
            lifted_at: p.lifted_at.map(|l| l.and_utc()),
            suspension_id: Some(p.suspension_id.clone()),
            blocking_cases: p.blocking_cases(at),
        },
    }
}

/// A cell of a CSV export made safe for spreadsheets (OWASP "CSV injection"): a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so it is read as
/// text and never as a formula.
pub fn csv_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// Times in `suspension_periods.cases` as chrono writes them (`2026-11-30T02:00:00.123456`), and
/// as the migration's backfill did (`2026-11-30 02:00:00`, SQLite's own text) — both read.
mod lenient_time {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn parse(s: &str) -> Option<NaiveDateTime> {
        let s = s.replace(' ', "T");
        NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f").ok()
    }

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a time: {s:?}")))
    }
}

mod lenient_time_opt {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::lenient_time::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::lenient_time::parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("not a time: {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(day: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
    }

    fn case(number: &str, joined: NaiveDateTime, cleared: Option<NaiveDateTime>) -> PeriodCase {
        PeriodCase {
            case_id: number.to_lowercase(),
            number: number.into(),
            joined_at: joined,
            cleared_at: cleared,
        }
    }

    /// Started 2026-12-02 03:00 UTC (11:00 in the county), lifted 2026-12-10 20:00 UTC
    /// (2026-12-11 04:00 in the county).
    fn period() -> Period {
        Period {
            suspension_id: "s1".into(),
            started_at: t(2, 3, 0),
            lifted_at: Some(t(10, 20, 0)),
            cases: vec![
                case("AJ-1", t(2, 3, 0), Some(t(6, 1, 0))),
                case("AJ-2", t(4, 9, 0), Some(t(10, 20, 0))),
            ],
        }
    }

    #[test]
    fn county_days_run_from_16_00_utc() {
        assert_eq!(county_day_bounds(d(2)), (t(1, 16, 0), t(2, 16, 0)));
    }

    #[test]
    fn before_during_after_and_the_days_of_start_and_lift() {
        let p = [period()];
        assert!(!status(&p, At::Day(d(1))).suspended, "the day before");
        let first = status(&p, At::Day(d(2)));
        assert!(first.suspended, "the day it started");
        assert_eq!(first.since, Some(t(2, 3, 0).and_utc()));
        assert_eq!(first.blocking_cases, ["AJ-1"], "AJ-2 had not joined");
        assert_eq!(status(&p, At::Day(d(5))).blocking_cases, ["AJ-1", "AJ-2"]);
        assert_eq!(
            status(&p, At::Day(d(6))).blocking_cases,
            ["AJ-1", "AJ-2"],
            "AJ-1 cleared during the day: it held the village part of it"
        );
        assert_eq!(status(&p, At::Day(d(7))).blocking_cases, ["AJ-2"]);
        let lift_day = status(&p, At::Day(d(11)));
        assert!(
            lift_day.suspended,
            "lifted at 04:00 on the 11th: suspended that day"
        );
        assert_eq!(lift_day.lifted_at, Some(t(10, 20, 0).and_utc()));
        assert!(!status(&p, At::Day(d(12))).suspended, "the day after");
    }

    #[test]
    fn now_is_one_instant() {
        let p = [period()];
        assert!(status(&p, At::Now(t(10, 19, 59))).suspended);
        assert!(!status(&p, At::Now(t(10, 20, 0))).suspended, "lifted");
        assert!(!status(&p, At::Now(t(2, 2, 59))).suspended, "not yet");
        let mut open = period();
        open.lifted_at = None;
        open.cases[1].cleared_at = None;
        let now = status(&[open], At::Now(t(20, 0, 0)));
        assert!(now.suspended);
        assert_eq!(now.lifted_at, None);
        assert_eq!(now.blocking_cases, ["AJ-2"]);
    }

    #[test]
    fn the_latest_period_touching_the_day_is_named() {
        let mut later = period();
        later.suspension_id = "s2".into();
        later.started_at = t(10, 22, 0);
        later.lifted_at = None;
        later.cases = vec![case("AJ-3", t(10, 22, 0), None)];
        let s = status(&[later, period()], At::Day(d(11)));
        assert_eq!(s.suspension_id.as_deref(), Some("s2"));
        assert_eq!(s.blocking_cases, ["AJ-3"]);
    }

    #[test]
    fn stored_case_times_read_in_both_spellings() {
        let c: PeriodCase = serde_json::from_str(
            r#"{"case_id":"c","number":"AJ-1","joined_at":"2026-12-02 03:00:00","cleared_at":null}"#,
        )
        .unwrap();
        assert_eq!(c.joined_at, t(2, 3, 0));
        let text = serde_json::to_string(&case("AJ-1", t(2, 3, 0), Some(t(3, 1, 0)))).unwrap();
        assert!(text.contains("2026-12-02T03:00:00.000000"), "{text}");
        let back: PeriodCase = serde_json::from_str(&text).unwrap();
        assert_eq!(back.cleared_at, Some(t(3, 1, 0)));
        let sqlite: PeriodCase = serde_json::from_str(
            r#"{"case_id":"c","number":"AJ-1","joined_at":"2026-12-02T03:00:00.000"}"#,
        )
        .unwrap();
        assert_eq!(sqlite.cleared_at, None);
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(csv_cell("上坪村"), "上坪村");
        assert_eq!(csv_cell(""), "");
    }
}
