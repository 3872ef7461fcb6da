//! When a deadline earns a reminder (issue 9, item 5): 2 working days before it, and on each
//! working day once it has passed. Pure: the county date and the working-day calendar are
//! passed in.

use chrono::NaiveDate;

use super::calendar::WorkingCalendar;

/// How many working days ahead a deadline is announced.
pub const LEAD_WORKING_DAYS: u32 = 2;

/// What a reminder says about one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// The deadline has passed (county date).
    Overdue,
    /// Due today or within [`LEAD_WORKING_DAYS`] working days.
    DueSoon,
}

/// Whether reminders go out on `today` (county date): on working days only, so each overdue
/// working day gets one and weekends and holidays get none.
pub fn sends_on(calendar: &WorkingCalendar, today: NaiveDate) -> bool {
    calendar.is_working_day(today)
}

/// The urgency of a deadline `due` on `today`, or `None` when it is further off than
/// [`LEAD_WORKING_DAYS`] working days.
pub fn urgency(calendar: &WorkingCalendar, due: NaiveDate, today: NaiveDate) -> Option<Urgency> {
    if due < today {
        Some(Urgency::Overdue)
    } else if due <= calendar.add_working_days(today, LEAD_WORKING_DAYS) {
        Some(Urgency::DueSoon)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn two_working_days_ahead_and_every_working_day_after() {
        let cal = WorkingCalendar::shipped();
        // Thursday 2026-12-03: two working days ahead is Monday 12-07 (the weekend skipped).
        let thu = d(12, 3);
        assert_eq!(urgency(&cal, d(12, 2), thu), Some(Urgency::Overdue));
        assert_eq!(urgency(&cal, thu, thu), Some(Urgency::DueSoon));
        assert_eq!(urgency(&cal, d(12, 7), thu), Some(Urgency::DueSoon));
        assert_eq!(urgency(&cal, d(12, 8), thu), None);
        assert!(sends_on(&cal, thu));
        assert!(!sends_on(&cal, d(12, 5)), "Saturday");
    }
}
