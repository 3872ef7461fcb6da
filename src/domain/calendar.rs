//! The working-day calendar: legal deadlines count 工作日 — weekdays that are not public
//! holidays, plus the make-up weekend working days (调休上班). Years without a published
//! calendar count weekends only; the calendar says which years it knows so callers can report
//! the missing ones (SPEC.md, "The rules that govern the commission's handling": deadlines are
//! working days, e.g. triage within 5 under Art 14 and 16; issue 9, item 1).
//!
//! One year is one TOML file (`config/calendar/<year>.toml`, see `docs/calendar.md`):
//! `year`, `holidays` and `makeup_workdays`, dates as `YYYY-MM-DD` in the county's calendar.
//! All arithmetic here is on county dates ([`NaiveDate`]); turning an instant into the county's
//! date is [`super::deadlines::today_in_county`].

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    holidays: Vec<NaiveDate>,
    makeup_workdays: Vec<NaiveDate>,
}

/// Why one year's file was refused: the reason, and the 1-based line it concerns when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearError {
    /// The line of the file the problem is on (1-based), when it can be placed.
    pub line: Option<usize>,
    /// What is wrong, in English.
    pub reason: String,
}

impl std::fmt::Display for YearError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for YearError {}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line where the date `day` is written (`"YYYY-MM-DD"`), if it is written plainly.
fn line_of_date(text: &str, day: NaiveDate) -> Option<usize> {
    text.find(&day.to_string()).map(|at| line_of(text, at))
}

/// The working-day calendar of the years it was given, immutable once built (a running server
/// swaps a whole new one in, see `crate::calendar::CalendarHandle`).
#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    holidays: HashSet<NaiveDate>,
    makeup_workdays: HashSet<NaiveDate>,
    years: BTreeSet<i32>,
}

/// Calendars shipped with Probity: the fallback when the calendar folder is missing.
const SHIPPED: &[&str] = &[include_str!("../../config/calendar/2026.toml")];

impl WorkingCalendar {
    /// The calendars compiled into the binary (2026).
    pub fn shipped() -> WorkingCalendar {
        let mut calendar = WorkingCalendar::default();
        for text in SHIPPED {
            calendar
                .add_year(text)
                .expect("shipped calendars are valid");
        }
        calendar
    }

    /// Adds one year's calendar from its TOML text (`year`, `holidays`, `makeup_workdays`, and
    /// nothing else) and returns the year.
    ///
    /// Errors ([`YearError`], with the line when it can be placed): the TOML does not parse or
    /// has other keys; a date is not in `year`; a date is both a holiday and a make-up day; a
    /// make-up day is not a Saturday or Sunday; the year is already known.
    pub fn add_year(&mut self, toml_text: &str) -> Result<i32, YearError> {
        let file: YearFile = toml::from_str(toml_text).map_err(|e| YearError {
            line: e.span().map(|s| line_of(toml_text, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        let at = |day: NaiveDate, reason: String| YearError {
            line: line_of_date(toml_text, day),
            reason,
        };
        for d in file.holidays.iter().chain(&file.makeup_workdays) {
            if d.year() != file.year {
                return Err(at(*d, format!("{d} is not in {}", file.year)));
            }
        }
        let holidays: HashSet<NaiveDate> = file.holidays.iter().copied().collect();
        for d in &file.makeup_workdays {
            if holidays.contains(d) {
                return Err(at(
                    *d,
                    format!("{d} is both a holiday and a make-up working day"),
                ));
            }
            if !is_weekend(*d) {
                return Err(at(
                    *d,
                    format!(
                        "{d} is a {}: make-up working days are Saturdays or Sundays",
                        d.weekday()
                    ),
                ));
            }
        }
        if self.years.contains(&file.year) {
            return Err(YearError {
                line: None,
                reason: format!("the calendar of {} is already loaded", file.year),
            });
        }
        self.holidays.extend(holidays);
        self.makeup_workdays.extend(file.makeup_workdays);
        self.years.insert(file.year);
        Ok(file.year)
    }

    /// Whether the official calendar of `year` is known.
    pub fn knows(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years with a calendar, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// The years deadlines counted from county date `today` may reach without a calendar: this
    /// year and the next (deadlines from December reach January), ascending. Empty when both
    /// are known.
    pub fn missing_years(&self, today: NaiveDate) -> Vec<i32> {
        [today.year(), today.year() + 1]
            .into_iter()
            .filter(|y| !self.knows(*y))
            .collect()
    }

    /// Whether county date `day` is a working day: a make-up day, or a weekday that is not a
    /// holiday. In a year without a calendar: any weekday.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        !is_weekend(day)
    }

    /// The county date `n` working days after `start` (the start day itself does not count;
    /// `n = 0` gives `start`). For `n ≥ 1` the result is always a working day.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// The number of working days after `start` up to and including `end` (counting back from
    /// `end`): the inverse of [`Self::add_working_days`], so
    /// `working_days_between(a, add_working_days(a, n)) == n`. Zero when `end <= start`.
    pub fn working_days_between(&self, start: NaiveDate, end: NaiveDate) -> u32 {
        let mut count = 0;
        let mut day = end;
        while day > start {
            if self.is_working_day(day) {
                count += 1;
            }
            day -= Duration::days(1);
        }
        count
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deadlines::today_in_county;
    use chrono::{NaiveTime, TimeZone, Utc};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The shipped 2026 file's own lists, read independently of `WorkingCalendar`.
    fn shipped_lists() -> (HashSet<NaiveDate>, HashSet<NaiveDate>) {
        let file: YearFile = toml::from_str(SHIPPED[0]).unwrap();
        (
            file.holidays.into_iter().collect(),
            file.makeup_workdays.into_iter().collect(),
        )
    }

    #[test]
    fn weekends_holidays_and_makeup_days() {
        let c = WorkingCalendar::shipped();
        assert!(c.knows(2026) && !c.knows(2027));
        assert_eq!(c.years(), vec![2026]);
        assert!(!c.is_working_day(d("2026-10-01")), "National Day");
        assert!(c.is_working_day(d("2026-10-10")), "make-up Saturday");
        assert!(!c.is_working_day(d("2026-11-28")), "ordinary Saturday");
        assert!(c.is_working_day(d("2026-11-30")), "ordinary Monday");
        assert!(c.is_working_day(d("2026-01-04")), "make-up Sunday");
        assert!(
            !c.is_working_day(d("2027-01-02")),
            "a Saturday of an unknown year"
        );
        assert!(
            c.is_working_day(d("2027-01-01")),
            "New Year 2027 is a Friday: unknown year, weekends only"
        );
    }

    #[test]
    fn golden_week_2026() {
        let c = WorkingCalendar::shipped();
        // 1–7 October are holidays, though 5–7 are weekdays.
        for day in 1..=7 {
            let date = NaiveDate::from_ymd_opt(2026, 10, day).unwrap();
            assert!(!c.is_working_day(date), "{date} is in the Golden Week");
        }
        // Submitted Wed 30 Sep: Thu 8, Fri 9, Sat 10 (make-up), Mon 12, Tue 13.
        assert_eq!(c.add_working_days(d("2026-09-30"), 5), d("2026-10-13"));
        assert_eq!(c.working_days_between(d("2026-09-30"), d("2026-10-13")), 5);
        // The whole week, and its weekend, count nothing.
        assert_eq!(c.working_days_between(d("2026-09-30"), d("2026-10-07")), 0);
        // 25–27 Sep (Mid-Autumn) too: Thu 24 Sep + 1 = Mon 28 Sep.
        assert_eq!(c.add_working_days(d("2026-09-24"), 1), d("2026-09-28"));
        // Ordinary week: Monday + 5 working days = next Monday.
        assert_eq!(c.add_working_days(d("2026-11-23"), 5), d("2026-11-30"));
    }

    #[test]
    fn makeup_days_2026() {
        let c = WorkingCalendar::shipped();
        let (_, makeup) = shipped_lists();
        assert_eq!(makeup.len(), 6);
        for day in &makeup {
            assert!(is_weekend(*day) && c.is_working_day(*day), "{day}");
        }
        // Spring Festival: Fri 13 Feb + 1 = Sat 14 Feb (make-up day); the next working day
        // after it is Tue 24 Feb (15–23 Feb are holidays).
        assert_eq!(c.add_working_days(d("2026-02-13"), 1), d("2026-02-14"));
        assert_eq!(c.add_working_days(d("2026-02-14"), 1), d("2026-02-24"));
        // Sat 28 Feb counts: Fri 27 + 1.
        assert_eq!(c.add_working_days(d("2026-02-27"), 1), d("2026-02-28"));
        // Sun 20 Sep counts: Fri 18 + 1.
        assert_eq!(c.add_working_days(d("2026-09-18"), 1), d("2026-09-20"));
        // May Day: 1–5 May are holidays, so Thu 30 Apr + 1 = Wed 6 May; Sat 9 May counts, so
        // from Fri 8 to Mon 11 May are two working days.
        assert_eq!(c.add_working_days(d("2026-04-30"), 1), d("2026-05-06"));
        assert_eq!(c.working_days_between(d("2026-05-08"), d("2026-05-11")), 2);
    }

    #[test]
    fn december_deadlines_reach_an_unknown_january() {
        let c = WorkingCalendar::shipped();
        // 15 working days from Fri 11 Dec 2026 crosses into 2027 (weekends only there).
        assert_eq!(c.add_working_days(d("2026-12-11"), 15), d("2027-01-01"));
        // 5 from Thu 31 Dec: Fri 1 Jan (no calendar, so a working day), Mon 4 … Thu 7 Jan.
        assert_eq!(c.add_working_days(d("2026-12-31"), 5), d("2027-01-07"));
        assert_eq!(c.missing_years(d("2026-12-01")), vec![2027]);
        assert_eq!(c.missing_years(d("2027-03-01")), vec![2027, 2028]);
    }

    #[test]
    fn the_county_date_decides_where_counting_starts() {
        let c = WorkingCalendar::shipped();
        // Fri 9 Oct 2026 23:30 UTC is Sat 10 Oct 07:30 in the county: a make-up Saturday, so
        // the report arrived on a working day and 1 working day later is Mon 12 Oct, where
        // counting from the UTC date would give Sat 10 Oct.
        let at = Utc.with_ymd_and_hms(2026, 10, 9, 23, 30, 0).unwrap();
        let today = today_in_county(at);
        assert_eq!(today, d("2026-10-10"));
        assert_eq!(c.add_working_days(today, 1), d("2026-10-12"));
        assert_eq!(c.add_working_days(at.date_naive(), 1), d("2026-10-10"));
    }

    #[test]
    fn a_bad_year_file_is_refused_with_its_line() {
        let mut c = WorkingCalendar::default();
        let other_year = "year = 2027\nholidays = [\n  \"2026-01-01\",\n]\nmakeup_workdays = []\n";
        let e = c.add_year(other_year).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.reason.contains("not in 2027"), "{e}");

        let syntax =
            "year = 2027\nholidays = [\"2027-01-01\"]\nmakeup_workdays = [\"2027-02-30\"]\n";
        let e = c.add_year(syntax).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");

        let unknown_key = "year = 2027\nholidays = []\nmakeup_days = []\n";
        assert!(c.add_year(unknown_key).is_err());

        let weekday_makeup = "year = 2027\nholidays = []\nmakeup_workdays = [\"2027-01-06\"]\n";
        let e = c.add_year(weekday_makeup).unwrap_err();
        assert!(e.reason.contains("Saturdays or Sundays"), "{e}");
        assert_eq!(e.line, Some(3));

        let both = "year = 2027\nholidays = [\"2027-01-09\"]\nmakeup_workdays = [\"2027-01-09\"]\n";
        assert!(c.add_year(both).is_err());

        assert!(!c.knows(2027), "nothing of a refused file is kept");
        let good = "year = 2027\nholidays = []\nmakeup_workdays = []\n";
        assert_eq!(c.add_year(good), Ok(2027));
        let e = c.add_year(good).unwrap_err();
        assert!(e.reason.contains("already loaded"), "{e}");
    }

    /// County dates from 2025 to 2028: around the shipped year and the unknown ones.
    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..4 * 366).prop_map(|offset| d("2025-01-01") + Duration::days(offset))
    }

    proptest! {
        /// Adding n working days and counting back gives n.
        #[test]
        fn counting_back_gives_n(start in any_date(), n in 0u32..80) {
            let c = WorkingCalendar::shipped();
            let end = c.add_working_days(start, n);
            prop_assert_eq!(c.working_days_between(start, end), n);
        }

        /// Holidays and (non make-up) weekends never count: the count equals the days that are
        /// neither, read from the file's lists; and adding ≥ 1 day ends on a working day.
        #[test]
        fn holidays_and_weekends_never_count(start in any_date(), n in 1u32..80) {
            let c = WorkingCalendar::shipped();
            let (holidays, makeup) = shipped_lists();
            let end = c.add_working_days(start, n);
            prop_assert!(!holidays.contains(&end));
            prop_assert!(!is_weekend(end) || makeup.contains(&end));
            let mut oracle = 0;
            let mut day = start + Duration::days(1);
            while day <= end {
                if makeup.contains(&day) || (!holidays.contains(&day) && !is_weekend(day)) {
                    oracle += 1;
                }
                day += Duration::days(1);
            }
            prop_assert_eq!(oracle, n);
        }

        /// A make-up Saturday (or Sunday) counts: counting up to it gives one more than
        /// counting up to the day before.
        #[test]
        fn a_makeup_day_counts(pick in 0usize..6, back in 1i64..40) {
            let c = WorkingCalendar::shipped();
            let (_, makeup) = shipped_lists();
            let mut days: Vec<NaiveDate> = makeup.into_iter().collect();
            days.sort();
            let m = days[pick];
            let start = m - Duration::days(back);
            prop_assert_eq!(
                c.working_days_between(start, m),
                c.working_days_between(start, m - Duration::days(1)) + 1
            );
        }

        /// The county's date is used: from 16:00 UTC on, an instant belongs to the next county
        /// day (UTC+8), so a report at 23:30 UTC on a Friday arrived on Saturday.
        #[test]
        fn the_county_date_is_utc_plus_8(date in any_date(), secs in 0u32..86_400) {
            let at = Utc.from_utc_datetime(
                &date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap()),
            );
            let county = today_in_county(at);
            let expected = if secs >= 16 * 3600 { date + Duration::days(1) } else { date };
            prop_assert_eq!(county, expected);
            if date.weekday() == Weekday::Fri && secs >= 16 * 3600 {
                prop_assert_eq!(county.weekday(), Weekday::Sat);
            }
        }
    }
}
