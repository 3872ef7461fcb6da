//! Messages from the commission to a case's reporters (SPEC.md → "Case":
//! `POST /cases/{id}/messages`; issue 9, items 5 and 6).
//!
//! One request reaches the reporters of every report of the case, or of the one report named:
//! one row of `report_messages` per report, of kind `question`, `acknowledgement` or
//! `feedback`, all sent in one write transaction with its audit entry (never the text) and
//! the "there is news" email job of each reporter who gave an email (`reporter_news`, which
//! reads the sealed address only when it sends; the job row holds the report id alone).
//!
//! Deadlines that a message answers stop running in the same transaction:
//! - an `acknowledgement` acknowledges the real-name reports it reaches (`reports.acknowledged_at`),
//!   and the case's `acknowledge_by` becomes the earliest date of those still unacknowledged
//!   (the 15 working days of SPEC.md → "The rules that govern the commission's handling");
//! - a `feedback` ends the case's feedback deadline (`feedback_due`) once every real-name
//!   reporter has had one since the primary investigation concluded
//!   (`lifecycle::feedback_recorded`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::models::CaseRow;
use super::view::CaseMessage;
use super::{deadlines_of, due_on_with_objections, required_text, visible_case, CaseError, Viewer};
use crate::audit::{self, Actor};
use crate::db::schema::{cases, investigations, report_messages, reports};
use crate::db::{self, DbConnection};
use crate::domain::ids::{MessageId, ReportId};
use crate::domain::investigation::{InvestigationKind, InvestigationStatus};
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::reports::models::NewMessage;

/// The longest message, in characters.
pub const MESSAGE_MAX: usize = 5000;

/// What a staff message is for (SPEC.md → "Case": `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A question to the reporter (补充材料, 说明情况).
    Question,
    /// The acknowledgement a real-name report is owed within 15 working days.
    Acknowledgement,
    /// The result, fed back once the case is concluded (Art 35 of the rules).
    Feedback,
}

impl MessageKind {
    pub const ALL: [MessageKind; 3] = [
        MessageKind::Question,
        MessageKind::Acknowledgement,
        MessageKind::Feedback,
    ];

    /// The text stored in `report_messages.kind` and served.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Question => "question",
            MessageKind::Acknowledgement => "acknowledgement",
            MessageKind::Feedback => "feedback",
        }
    }

    /// The kind named `s`, or `None`.
    pub fn parse(s: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The body of `POST /cases/{id}/messages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MessageRequest {
    /// 1–5,000 characters; the reporter reads it as written.
    pub body: Option<String>,
    /// `question | acknowledgement | feedback`.
    pub kind: Option<String>,
    /// One report of the case, to reach its reporter alone; null reaches every report's.
    pub report_id: Option<String>,
    /// The case's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// The answer to `POST /cases/{id}/messages`: the message as each report's thread holds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagesSent {
    pub case_id: String,
    pub kind: String,
    /// One entry per report reached, in the case's report order.
    pub messages: Vec<CaseMessage>,
    /// The case's version after the message (it changes when a deadline stopped).
    pub version: i32,
}

struct Checked {
    body: String,
    kind: MessageKind,
    report_id: Option<String>,
}

fn check(request: &MessageRequest) -> Result<Checked, CaseError> {
    let mut problems = Vec::new();
    let body = required_text("body", request.body.as_deref(), MESSAGE_MAX)
        .map_err(|e| problems.push(e))
        .ok();
    let kind = match request.kind.as_deref().map(str::trim) {
        None | Some("") => {
            problems.push(FieldViolation::new(
                "kind",
                ErrorCode::Required,
                "kind is required: question, acknowledgement or feedback",
            ));
            None
        }
        Some(k) => {
            let kind = MessageKind::parse(k);
            if kind.is_none() {
                problems.push(FieldViolation::new(
                    "kind",
                    ErrorCode::UnknownValue,
                    "kind is one of question, acknowledgement, feedback",
                ));
            }
            kind
        }
    };
    let report_id = crate::domain::text::clean_opt(request.report_id.as_deref());
    match (body, kind) {
        (Some(body), Some(kind)) if problems.is_empty() => Ok(Checked {
            body,
            kind,
            report_id,
        }),
        _ => Err(CaseError::Invalid(problems)),
    }
}

/// Sends `request` on case `case_id` as `viewer` (an investigator of the case's team or a
/// supervisor; the handler checks the permission) at `now` (UTC), in one write transaction:
/// the messages, the deadlines they stop, the `case.message_sent` audit entry (kind and report
/// ids, never the text) and one `reporter_news` job per reached report with a reporter email.
///
/// Errors: `Invalid` (422: `body`, `kind`, or `report_id` `report_not_in_case`); `NotFound` /
/// `Forbidden` (404/403); `VersionConflict` (409) when `version` is stale or the case changed
/// meanwhile; database errors.
pub fn send(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    case_id: &str,
    request: &MessageRequest,
    now: NaiveDateTime,
) -> Result<MessagesSent, CaseError> {
    let checked = check(request)?;
    db::write_tx(conn, |conn| {
        let case = visible_case(conn, viewer, case_id)?;
        if let Some(v) = request.version {
            if v != case.version {
                return Err(CaseError::VersionConflict {
                    current: case.version,
                });
            }
        }
        if checked.kind == MessageKind::Feedback && !has_result(conn, &case)? {
            return Err(CaseError::Failed(
                ApiError::conflict(
                    ErrorCode::FeedbackTooEarly,
                    "Feedback gives the reporter the result: it is sent once the primary \
                     investigation is concluded or the case is closed. Use `question` or \
                     `acknowledgement` meanwhile.",
                )
                .with_member("case_status", serde_json::json!(case.status.as_str())),
            ));
        }
        let mut reached: Vec<ReachedReport> = reports::table
            .filter(reports::case_id.eq(case.id.as_str()))
            .order((reports::submitted_at.asc(), reports::number.asc()))
            .select(ReachedReport::as_select())
            .load(conn)?;
        if let Some(only) = &checked.report_id {
            reached.retain(|r| r.id.as_str() == only);
            if reached.is_empty() {
                return Err(CaseError::Invalid(vec![FieldViolation::new(
                    "report_id",
                    ErrorCode::ReportNotInCase,
                    "report_id names no report of this case",
                )]));
            }
        }
        let mut messages = Vec::with_capacity(reached.len());
        for report in &reached {
            let id = MessageId::generate();
            diesel::insert_into(report_messages::table)
                .values(NewMessage {
                    id: &id,
                    report_id: &report.id,
                    author_kind: "staff",
                    author_id: Some(viewer.user_id.as_str()),
                    body: &checked.body,
                    created_at: now,
                    kind: checked.kind.as_str(),
                    case_id: Some(case.id.as_str()),
                })
                .execute(conn)?;
            if report.has_email {
                crate::notify::reporter_news::enqueue(conn, &report.id)?;
            }
            messages.push(CaseMessage {
                id: id.into_string(),
                report_id: report.id.as_str().to_string(),
                from: "staff",
                kind: checked.kind.as_str().to_string(),
                body: checked.body.clone(),
                sent_at: now.and_utc(),
            });
        }
        let version = stop_answered_deadlines(conn, &case, checked.kind, &reached, now)?;
        let report_ids: Vec<&str> = reached.iter().map(|r| r.id.as_str()).collect();
        audit::record(
            conn,
            now,
            actor,
            "case.message_sent",
            "case",
            case.id.as_str(),
            serde_json::json!({
                "kind": checked.kind.as_str(),
                "report_ids": report_ids,
                "message_ids": messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            }),
        )?;
        Ok(MessagesSent {
            case_id: case.id.into_string(),
            kind: checked.kind.as_str().to_string(),
            messages,
            version,
        })
    })
}

/// Whether case `case` has a result to feed back (SPEC.md → "Case handling"): it is concluded
/// or closed (either way), or its primary investigation is concluded.
fn has_result(conn: &mut DbConnection, case: &CaseRow) -> QueryResult<bool> {
    use crate::domain::case_status::CaseStatus;
    if matches!(
        case.status,
        CaseStatus::Concluded | CaseStatus::Closed | CaseStatus::ClosedWithoutAction
    ) {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        investigations::table
            .filter(investigations::case_id.eq(case.id.as_str()))
            .filter(investigations::kind.eq(InvestigationKind::Primary))
            .filter(investigations::status.eq(InvestigationStatus::Concluded)),
    ))
    .get_result(conn)
}

/// A report a message reaches: its id, and whether its reporter left a (sealed) email.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
struct ReachedReport {
    id: ReportId,
    #[diesel(select_expression = reports::reporter_email.is_not_null())]
    #[diesel(select_expression_type = diesel::dsl::IsNotNull<reports::reporter_email>)]
    has_email: bool,
}

/// Stops the deadlines a message of `kind` answers and returns the case's version afterwards
/// (one more when the case row changed). An acknowledgement stamps the real-name reports it
/// reached as acknowledged and recomputes `acknowledge_by` from those left; a feedback clears
/// `feedback_due`. Errors: `VersionConflict` when the case changed since it was read.
fn stop_answered_deadlines(
    conn: &mut DbConnection,
    case: &CaseRow,
    kind: MessageKind,
    reached: &[ReachedReport],
    now: NaiveDateTime,
) -> Result<i32, CaseError> {
    let mut deadlines = deadlines_of(case);
    match kind {
        MessageKind::Question => return Ok(case.version),
        // Feedback acknowledges too: a reporter told the result was heard.
        MessageKind::Acknowledgement | MessageKind::Feedback => {
            let ids: Vec<&str> = reached.iter().map(|r| r.id.as_str()).collect();
            diesel::update(
                reports::table
                    .filter(reports::id.eq_any(&ids))
                    .filter(reports::anonymous.eq(false))
                    .filter(reports::acknowledged_at.is_null()),
            )
            .set(reports::acknowledged_at.eq(now))
            .execute(conn)?;
            deadlines.acknowledge_by = reports::table
                .filter(reports::case_id.eq(case.id.as_str()))
                .filter(reports::anonymous.eq(false))
                .filter(reports::acknowledged_at.is_null())
                .select(diesel::dsl::min(reports::acknowledge_by))
                .first::<Option<chrono::NaiveDate>>(conn)?;
        }
    }
    let version = if deadlines.acknowledge_by == case.acknowledge_by {
        case.version
    } else {
        stop_acknowledgement(conn, case, &deadlines, now)?
    };
    if kind == MessageKind::Feedback {
        // The feedback deadline ends once every real-name reporter has had feedback since the
        // primary investigation's conclusion (the case lifecycle's rule); that adds one to the
        // version when it changes the case.
        super::lifecycle::feedback_recorded(conn, case.id.as_str(), now)?;
        return Ok(cases::table
            .find(case.id.as_str())
            .select(cases::version)
            .first(conn)?);
    }
    Ok(version)
}

/// Stores `deadlines.acknowledge_by` on `case` (read at its current version), with `due_on`
/// recomputed, and returns the new version.
///
/// Errors: `VersionConflict` when the case changed since it was read.
fn stop_acknowledgement(
    conn: &mut DbConnection,
    case: &CaseRow,
    deadlines: &crate::domain::case_status::CaseDeadlines,
    now: NaiveDateTime,
) -> Result<i32, CaseError> {
    let updated = diesel::update(
        cases::table
            .filter(cases::id.eq(case.id.as_str()))
            .filter(cases::version.eq(case.version)),
    )
    .set((
        cases::acknowledge_by.eq(deadlines.acknowledge_by),
        cases::due_on.eq(due_on_with_objections(
            conn,
            case.id.as_str(),
            case.status,
            deadlines,
        )?),
        cases::version.eq(case.version + 1),
        cases::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated != 1 {
        let current: i32 = cases::table
            .find(case.id.as_str())
            .select(cases::version)
            .first(conn)?;
        return Err(CaseError::VersionConflict { current });
    }
    Ok(case.version + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Option<&str>, kind: Option<&str>) -> MessageRequest {
        MessageRequest {
            body: body.map(str::to_string),
            kind: kind.map(str::to_string),
            report_id: None,
            version: None,
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MessageKind::parse("message"), None);
        assert_eq!(MessageKind::parse("reply"), None);
    }

    fn fields(e: CaseError) -> Vec<(String, &'static str)> {
        match e {
            CaseError::Invalid(v) => v
                .into_iter()
                .map(|f| (f.field.to_string(), f.code.as_str()))
                .collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn body_and_kind_are_required_and_every_problem_is_named() {
        let got = fields(check(&request(None, None)).err().unwrap());
        assert_eq!(
            got,
            vec![
                ("body".to_string(), "required"),
                ("kind".to_string(), "required")
            ]
        );
        let got = fields(check(&request(Some("  "), Some("reply"))).err().unwrap());
        assert_eq!(
            got,
            vec![
                ("body".to_string(), "required"),
                ("kind".to_string(), "unknown_value")
            ]
        );
    }

    #[test]
    fn a_valid_request_is_cleaned() {
        let c = check(&request(Some("  请补充材料 "), Some("question"))).unwrap();
        assert_eq!(c.body, "请补充材料");
        assert_eq!(c.kind, MessageKind::Question);
        assert_eq!(c.report_id, None);
    }
}
