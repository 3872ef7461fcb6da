//! Objections (异议) of a reporter to the result fed back to them (SPEC.md → "Real-name
//! reporters": "Objections and new evidence from the reporter are recorded and handled. They may
//! reopen a case"; issue 10, item 6). Pure rules: when a reporter may object, by when the
//! objection is handled, the statuses and what the reporter reads of them in Chinese.

use chrono::NaiveDate;

use super::calendar::WorkingCalendar;
use super::text::{self, LengthProblem};
use super::violation::FieldViolation;

/// Working days the commission has to handle an objection, counted from the county date it was
/// received (issue 10, item 6: "its own deadline (15 working days)").
pub const OBJECTION_WORKING_DAYS: u32 = 15;

/// The longest objection, in characters (as a follow-up message, `report::MESSAGE_MAX`).
pub const OBJECTION_MAX: usize = super::report::MESSAGE_MAX;

/// Where an objection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
pub enum ObjectionStatus {
    /// Received, not yet handled: its deadline runs.
    Open,
    /// Handled (for now: the case was reopened).
    Decided,
}

impl ObjectionStatus {
    /// The text served and stored: `open | decided`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionStatus::Open => "open",
            ObjectionStatus::Decided => "decided",
        }
    }

    /// The status named `s`, or `None`.
    pub fn parse(s: &str) -> Option<ObjectionStatus> {
        match s {
            "open" => Some(ObjectionStatus::Open),
            "decided" => Some(ObjectionStatus::Decided),
            _ => None,
        }
    }
}

/// How a decided objection was handled. Stored as text in `objections.outcome`.
pub const OUTCOME_CASE_REOPENED: &str = "case_reopened";

/// The county date by which an objection received on county date `received_on` is handled:
/// [`OBJECTION_WORKING_DAYS`] working days later (the day of receipt does not count).
pub fn due_on(calendar: &WorkingCalendar, received_on: NaiveDate) -> NaiveDate {
    calendar.add_working_days(received_on, OBJECTION_WORKING_DAYS)
}

/// Why a reporter may not object now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectionRefused {
    /// No result has been fed back to this report yet (409 `objection_not_open`).
    NoFeedback,
    /// The reporter already objected to the latest feedback (409 `objection_already_made`); a
    /// new feedback opens a new objection.
    AlreadyMade,
}

/// Whether the reporter of a report may object: there is a feedback message (`latest_feedback`,
/// the id of the newest message of kind `feedback` to the report) and no objection answers it
/// yet (`objected` holds the feedback ids earlier objections answered). One objection per
/// feedback.
///
/// Errors: [`ObjectionRefused`].
pub fn may_object<T: PartialEq>(
    latest_feedback: Option<&T>,
    objected: &[T],
) -> Result<(), ObjectionRefused> {
    match latest_feedback {
        None => Err(ObjectionRefused::NoFeedback),
        Some(f) if objected.contains(f) => Err(ObjectionRefused::AlreadyMade),
        Some(_) => Ok(()),
    }
}

/// An objection's text rule: 1 to [`OBJECTION_MAX`] characters, at least one visible
/// (`domain::text`). Takes the cleaned text; returns the violation for field `body`, with its
/// Chinese message.
pub fn check_body(body: &str) -> Result<(), FieldViolation> {
    match text::check_length(body, 1, OBJECTION_MAX) {
        None => Ok(()),
        Some(problem) => {
            let v = FieldViolation::new(
                "body",
                problem.code(),
                format!("an objection has 1–{OBJECTION_MAX} characters, at least one visible"),
            )
            .limit(OBJECTION_MAX);
            Err(match problem {
                LengthProblem::TooLong => v.zh(format!("异议内容不能超过{OBJECTION_MAX}个字。")),
                LengthProblem::Required | LengthProblem::TooShort => {
                    v.zh("请写明您对办理结果有什么异议。")
                }
            })
        }
    }
}

/// What the reporter reads about their objection, in plain Chinese: received and handled by
/// `due_on` while open; handled (and, when the case was reopened, that it is being handled
/// again) once decided. Never names anyone.
pub fn status_zh(status: ObjectionStatus, outcome: Option<&str>, due_on: NaiveDate) -> String {
    use chrono::Datelike;
    match status {
        ObjectionStatus::Open => format!(
            "县纪委已收到您的异议，将在{}年{}月{}日前处理。",
            due_on.year(),
            due_on.month(),
            due_on.day()
        ),
        ObjectionStatus::Decided if outcome == Some(OUTCOME_CASE_REOPENED) => {
            "您的异议已处理：县纪委已重新办理此案，结果会再次告知您。".to_string()
        }
        ObjectionStatus::Decided => "您的异议已处理。".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_objection_is_due_fifteen_working_days_after_its_receipt() {
        let c = WorkingCalendar::shipped();
        // Monday 2026-11-30: three weeks of weekdays later, Monday 2026-12-21.
        assert_eq!(due_on(&c, d("2026-11-30")), d("2026-12-21"));
        // Received on a Saturday: the count starts on Monday.
        assert_eq!(due_on(&c, d("2026-12-05")), d("2026-12-25"));
        // National Day (1–7 October) does not count; the make-up Saturday 10 October does.
        assert_eq!(due_on(&c, d("2026-09-30")), d("2026-10-27"));
    }

    #[test]
    fn one_objection_per_feedback_and_none_before_feedback() {
        assert_eq!(
            may_object::<&str>(None, &[]),
            Err(ObjectionRefused::NoFeedback)
        );
        assert_eq!(may_object(Some(&"f1"), &[]), Ok(()));
        assert_eq!(
            may_object(Some(&"f1"), &["f1"]),
            Err(ObjectionRefused::AlreadyMade)
        );
        // A new feedback after the case was handled again opens a new objection.
        assert_eq!(may_object(Some(&"f2"), &["f1"]), Ok(()));
    }

    #[test]
    fn the_body_is_required_and_bounded_with_chinese_messages() {
        assert!(check_body("我不同意").is_ok());
        let empty = check_body("").unwrap_err();
        assert_eq!(empty.field, "body");
        assert!(empty.message_zh.contains("异议"));
        let long = "异".repeat(OBJECTION_MAX + 1);
        assert!(check_body(&long)
            .unwrap_err()
            .message_zh
            .contains("不能超过"));
    }

    #[test]
    fn statuses_round_trip_and_read_in_chinese() {
        for s in [ObjectionStatus::Open, ObjectionStatus::Decided] {
            assert_eq!(ObjectionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ObjectionStatus::parse("closed"), None);
        let due = d("2026-12-21");
        assert_eq!(
            status_zh(ObjectionStatus::Open, None, due),
            "县纪委已收到您的异议，将在2026年12月21日前处理。"
        );
        assert!(
            status_zh(ObjectionStatus::Decided, Some(OUTCOME_CASE_REOPENED), due)
                .contains("重新办理")
        );
        assert_eq!(
            status_zh(ObjectionStatus::Decided, None, due),
            "您的异议已处理。"
        );
    }
}
