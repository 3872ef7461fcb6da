//! Dates and deadlines of a report, as pure rules over a given instant: what "today" is in the
//! county, when a report is overdue, and which deadline a reporter sees next. The instant comes
//! from the injected [`crate::clock::Clock`], never from the system clock here, so tests freeze
//! and move time.
//!
//! Rules: deadlines count in working days from the county's calendar date (UTC+8, see
//! [`super::schedule::county_date`]); triage (accept or transfer) is due within
//! `reports.triage_working_days`, a real-name report is acknowledged within
//! `reports.acknowledge_working_days` (SPEC.md, "Deadlines").

use chrono::{DateTime, NaiveDate, Utc};

use super::report::ReportStatus;
use super::schedule::county_date;

/// The county's calendar date at instant `now`: the day deadlines count from.
pub fn today_in_county(now: DateTime<Utc>) -> NaiveDate {
    county_date(now)
}

/// Whether a report in `status` with triage due on `triage_due` is overdue on `today`: still
/// `received` (neither accepted nor transferred) after its triage date has passed.
pub fn is_overdue(status: ReportStatus, triage_due: NaiveDate, today: NaiveDate) -> bool {
    status == ReportStatus::Received && triage_due < today
}

/// Which deadline comes next for a reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// The commission accepts or transfers the report.
    Triage,
    /// The commission answers a real-name reporter.
    Acknowledge,
    /// The commission feeds the result back to a real-name reporter (15 working days after
    /// the primary investigation concludes).
    Feedback,
}

impl DeadlineKind {
    /// The stable name clients see (`triage`, `acknowledge`, `feedback`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Triage => "triage",
            DeadlineKind::Acknowledge => "acknowledge",
            DeadlineKind::Feedback => "feedback",
        }
    }
}

/// A deadline and its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub due: NaiveDate,
}

/// The next deadline a reporter sees: triage while the report is `received`; afterwards the
/// case's feedback date while it runs (`feedback_due`, set when the primary investigation
/// concludes), else the acknowledgement date of a real-name report (`acknowledge_by`), and none
/// for an anonymous one.
pub fn next_deadline(
    status: ReportStatus,
    triage_due: NaiveDate,
    acknowledge_by: Option<NaiveDate>,
    feedback_due: Option<NaiveDate>,
) -> Option<Deadline> {
    match (status, feedback_due) {
        (ReportStatus::Received, _) => Some(Deadline {
            kind: DeadlineKind::Triage,
            due: triage_due,
        }),
        (_, Some(due)) => Some(Deadline {
            kind: DeadlineKind::Feedback,
            due,
        }),
        (_, None) => acknowledge_by.map(|due| Deadline {
            kind: DeadlineKind::Acknowledge,
            due,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn today_turns_at_county_midnight_not_utc_midnight() {
        let before = Utc.with_ymd_and_hms(2026, 11, 29, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap();
        assert_eq!(today_in_county(before), d(2026, 11, 29));
        assert_eq!(today_in_county(after), d(2026, 11, 30));
    }

    #[test]
    fn only_an_untriaged_report_past_its_date_is_overdue() {
        let due = d(2026, 12, 4);
        assert!(!is_overdue(ReportStatus::Received, due, due));
        assert!(is_overdue(ReportStatus::Received, due, d(2026, 12, 5)));
        assert!(!is_overdue(ReportStatus::Accepted, due, d(2026, 12, 5)));
        assert!(!is_overdue(ReportStatus::Transferred, due, d(2027, 1, 1)));
    }

    #[test]
    fn triage_comes_first_then_the_acknowledgement_of_a_named_report() {
        let (triage, ack) = (d(2026, 12, 4), d(2026, 12, 18));
        assert_eq!(
            next_deadline(ReportStatus::Received, triage, Some(ack), None),
            Some(Deadline {
                kind: DeadlineKind::Triage,
                due: triage
            })
        );
        assert_eq!(
            next_deadline(ReportStatus::Accepted, triage, Some(ack), None),
            Some(Deadline {
                kind: DeadlineKind::Acknowledge,
                due: ack
            })
        );
        assert_eq!(
            next_deadline(ReportStatus::Accepted, triage, None, None),
            None
        );
        let feedback = d(2027, 3, 1);
        assert_eq!(
            next_deadline(ReportStatus::Accepted, triage, Some(ack), Some(feedback)),
            Some(Deadline {
                kind: DeadlineKind::Feedback,
                due: feedback
            })
        );
        assert_eq!(DeadlineKind::Triage.as_str(), "triage");
    }
}
