//! The working-day calendar: legal deadlines count 工作日 — weekdays that are not public
//! holidays, plus the make-up weekend working days (调休上班). Years without a published
//! calendar count weekends only (and the caller warns).

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct YearFile {
    year: i32,
    holidays: Vec<NaiveDate>,
    makeup_workdays: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    holidays: HashSet<NaiveDate>,
    makeup_workdays: HashSet<NaiveDate>,
    years: BTreeSet<i32>,
}

/// Calendars shipped with Probity.
const SHIPPED: &[&str] = &[include_str!("../../config/calendar/2026.toml")];

impl WorkingCalendar {
    pub fn shipped() -> WorkingCalendar {
        let mut calendar = WorkingCalendar::default();
        for text in SHIPPED {
            calendar
                .add_year(text)
                .expect("shipped calendars are valid");
        }
        calendar
    }

    /// Adds one year's calendar (TOML: `year`, `holidays`, `makeup_workdays`).
    pub fn add_year(&mut self, toml_text: &str) -> Result<i32, String> {
        let file: YearFile = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        for d in file.holidays.iter().chain(&file.makeup_workdays) {
            if d.year() != file.year {
                return Err(format!("{d} is not in {}", file.year));
            }
        }
        self.holidays.extend(file.holidays);
        self.makeup_workdays.extend(file.makeup_workdays);
        self.years.insert(file.year);
        Ok(file.year)
    }

    /// Whether the official calendar of `year` is known.
    pub fn knows(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The date `n` working days after `start` (the start day itself does not count).
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekends_holidays_and_makeup_days() {
        let c = WorkingCalendar::shipped();
        assert!(c.knows(2026) && !c.knows(2027));
        assert!(!c.is_working_day(d("2026-10-01")), "National Day");
        assert!(c.is_working_day(d("2026-10-10")), "make-up Saturday");
        assert!(!c.is_working_day(d("2026-11-28")), "ordinary Saturday");
        assert!(c.is_working_day(d("2026-11-30")), "ordinary Monday");
        assert!(c.is_working_day(d("2026-01-04")), "make-up Sunday");
    }

    #[test]
    fn deadlines_skip_the_golden_week() {
        let c = WorkingCalendar::shipped();
        // Submitted Wed 30 Sep: 1 Oct–7 Oct are holidays, Thu 8, Fri 9, Sat 10 (make-up), Mon 12, Tue 13.
        assert_eq!(c.add_working_days(d("2026-09-30"), 5), d("2026-10-13"));
        // Ordinary week: Monday + 5 working days = next Monday.
        assert_eq!(c.add_working_days(d("2026-11-23"), 5), d("2026-11-30"));
        // Spring Festival: Fri 13 Feb + 1 = Sat 14 Feb (make-up day).
        assert_eq!(c.add_working_days(d("2026-02-13"), 1), d("2026-02-14"));
        // 15 working days from Fri 11 Dec 2026 crosses into 2027 (weekends only there).
        assert_eq!(c.add_working_days(d("2026-12-11"), 15), d("2027-01-01"));
    }

    #[test]
    fn a_year_file_with_a_date_of_another_year_is_refused() {
        let mut c = WorkingCalendar::default();
        let bad = "year = 2027\nholidays = [\"2026-01-01\"]\nmakeup_workdays = []\n";
        assert!(c.add_year(bad).is_err());
    }
}
