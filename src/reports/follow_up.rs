//! The reporter's side after submitting: exchange the receipt code for a session, see progress
//! and the thread (never internal notes or staff names), reply, add evidence.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::models::{
    AttachmentRow, MessageRow, NewMessage, ReceiptRow, ReporterObjectionRow, ReporterViewRow,
};
use super::staged::StagedFiles;
use super::submit::insert_attachment;
use super::ReportsState;
use crate::audit::{self, Actor};
use crate::db::schema::identity_disclosures;
use crate::db::schema::{
    attachments, cases, investigations, objections, report_messages, reports, user_roles, users,
};
use crate::db::{self, DbConnection};
use crate::divisions;
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines::{self, DeadlineKind};
use crate::domain::ids::{MessageId, ReportId};
use crate::domain::investigation::{InvestigationKind, InvestigationStatus, Outcome};
use crate::domain::objection::{self, ObjectionRefused};
use crate::domain::receipt_code;
use crate::domain::report as report_rules;
use crate::domain::report::ReportStatus;
use crate::domain::text;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::hashing::Busy;
use crate::notify;

pub use crate::domain::report::MESSAGE_MAX;

/// Why a reporter's follow-up request was not done. Mapped to `ApiError` at the HTTP edge
/// (`From` below) and to Chinese pages in `web::follow_up`.
#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    /// The receipt code is malformed, unknown or wrong: one answer for all three.
    #[error("the receipt code is not valid")]
    WrongCode,
    /// The report the session was opened for no longer exists.
    #[error("the report no longer exists")]
    ReportGone,
    /// A reply broke a text rule; each violation names its field.
    #[error("{} field(s) of the reply are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// The Argon2 pool is full (the receipt code was not checked).
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The database or the server failed; already an `ApiError` (503 or 500).
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for FollowUpError {
    fn from(e: diesel::result::Error) -> FollowUpError {
        FollowUpError::Failed(e.into())
    }
}

impl From<FollowUpError> for ApiError {
    fn from(e: FollowUpError) -> ApiError {
        match e {
            FollowUpError::WrongCode => ApiError::unauthorized(
                "The receipt code is not valid. 回执码无效，请核对后重新输入。",
            )
            .with_code(ErrorCode::InvalidReceiptCode),
            FollowUpError::ReportGone => ApiError::not_found("The report no longer exists."),
            FollowUpError::Invalid(violations) => ApiError::validation(violations),
            FollowUpError::Busy(busy) => busy.into(),
            FollowUpError::Failed(e) => e,
        }
    }
}

/// Checks a receipt code and returns the report id it opens. A malformed code, an unknown code
/// and a wrong code get the same answer after the same work: the Argon2 hash is always computed,
/// and the stored hash is compared in constant time.
///
/// Errors: [`FollowUpError::WrongCode`]; `Busy` when the Argon2 pool is full; `Failed` for
/// database errors.
pub async fn report_for_code(state: &ReportsState, typed: &str) -> Result<String, FollowUpError> {
    let normalised = receipt_code::normalise(typed);
    let candidate = normalised
        .clone()
        .unwrap_or_else(|| "0000000000000000".into());
    // Busy or not does not depend on the code typed, so a 503 tells a guesser nothing.
    let hash = state.receipts.hash(candidate).await?;
    let lookup = hash.clone();
    let found: Option<ReceiptRow> = db::run(&state.pool, move |conn| {
        Ok(reports::table
            .filter(reports::receipt_hash.eq(&lookup))
            .select(ReceiptRow::as_select())
            .first(conn)
            .optional()?)
    })
    .await?;
    match (normalised, found) {
        (Some(_), Some(row)) if bool::from(row.receipt_hash.as_bytes().ct_eq(hash.as_bytes())) => {
            Ok(row.id.into_string())
        }
        _ => Err(FollowUpError::WrongCode),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaceView {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadMessage {
    pub id: String,
    /// `reporter` or `commission` — never a staff member's name.
    pub from: &'static str,
    /// `reply` (the reporter's own) or `question | acknowledgement | feedback` (the commission's).
    pub kind: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceView {
    pub id: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: DateTime<Utc>,
    /// `reporter` or `commission`.
    pub from: &'static str,
    /// The kinds of identifying metadata removed from the file on intake (`exif`, `exif.gps`,
    /// `exif.device`, `exif.owner`, `exif.times`, `xmp`, `iptc`, `office.author`,
    /// `office.company`, `pdf.info` …), never their values. Empty when nothing was found, or
    /// for audio and video, which are stored as sent.
    pub metadata_removed: Vec<String>,
}

/// The stored comma-separated list of removed metadata kinds, as a list.
pub fn removed_kinds(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextDeadline {
    /// `triage` (accept or transfer), `acknowledge` (real-name acknowledgement) or `feedback`
    /// (the result fed back to a real-name reporter).
    pub kind: &'static str,
    pub due: NaiveDate,
    pub description_zh: &'static str,
}

/// What a reporter sees of their report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReporterReportView {
    pub report_number: String,
    pub programme: String,
    pub programme_zh: String,
    pub township: PlaceView,
    pub village: PlaceView,
    pub submitted_at: DateTime<Utc>,
    pub anonymous: bool,
    pub status: String,
    pub status_zh: String,
    pub status_explanation_zh: String,
    /// The reason given when the case was closed without action (予以了结, Art 17); null
    /// otherwise.
    pub closing_reason: Option<String>,
    /// Once the case's primary investigation is concluded: the outcome in plain Chinese, e.g.
    /// 经核查，您反映的问题属实，已依规依纪依法处理。 Never sanctions, document numbers, findings
    /// or names; a false-accusation finding reads as 不属实. Null before.
    pub outcome_zh: Option<String>,
    pub next_deadline: Option<NextDeadline>,
    /// When handling staff first read the reporter's identity (custodian workflow); null when
    /// never. Nobody is named.
    pub identity_disclosed_at: Option<DateTime<Utc>>,
    /// "办理人员已查阅您的身份信息（<time>）" once read; null otherwise.
    pub identity_disclosure_zh: Option<String>,
    pub messages: Vec<ThreadMessage>,
    pub evidence: Vec<EvidenceView>,
    /// Whether the reporter may object now (`POST /api/v1/reporter/objections`): a result was
    /// fed back (a message of kind `feedback`) and not yet objected to.
    pub may_object: bool,
    /// The reporter's objections to the results fed back, oldest first.
    pub objections: Vec<ReporterObjection>,
}

/// An objection as its reporter sees it: what they wrote, where it stands in plain Chinese, and
/// by when it is handled. Never who handles it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReporterObjection {
    pub id: String,
    pub body: String,
    /// `open | decided`.
    pub status: String,
    /// E.g. "县纪委已收到您的异议，将在2026年12月21日前处理。"
    pub status_zh: String,
    /// The county date by which the commission handles it (15 working days).
    pub due_on: NaiveDate,
    pub received_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<ReporterObjectionRow> for ReporterObjection {
    fn from(o: ReporterObjectionRow) -> ReporterObjection {
        ReporterObjection {
            id: o.id.into_string(),
            status_zh: objection::status_zh(o.status, o.outcome.as_deref(), o.due_on),
            status: o.status.as_str().to_string(),
            body: o.body,
            due_on: o.due_on,
            received_at: o.created_at.and_utc(),
            decided_at: o.decided_at.map(|t| t.and_utc()),
        }
    }
}

/// The objections of report `report_id`, oldest first, as its reporter sees them (read from
/// the `objections` table directly: that capability sits above this one).
///
/// Errors: any database error.
pub fn objections_of(
    conn: &mut DbConnection,
    report_id: &str,
) -> QueryResult<Vec<ReporterObjectionRow>> {
    objections::table
        .filter(objections::report_id.eq(report_id))
        .order((objections::created_at.asc(), objections::id.asc()))
        .select(ReporterObjectionRow::as_select())
        .load(conn)
}

/// The feedback message the reporter of `report_id` may object to now: the newest message of
/// kind `feedback` to the report, unless an objection answers it already
/// (`domain::objection::may_object`; one objection per feedback).
///
/// Errors: the outer `QueryResult` for database errors; the inner one says why the reporter may
/// not object ([`ObjectionRefused`]).
pub fn objectable_feedback(
    conn: &mut DbConnection,
    report_id: &str,
) -> QueryResult<Result<MessageId, ObjectionRefused>> {
    let latest: Option<MessageId> = report_messages::table
        .filter(report_messages::report_id.eq(report_id))
        .filter(report_messages::kind.eq("feedback"))
        .order((
            report_messages::created_at.desc(),
            report_messages::id.desc(),
        ))
        .select(report_messages::id)
        .first(conn)
        .optional()?;
    let objected: Vec<MessageId> = objections::table
        .filter(objections::report_id.eq(report_id))
        .select(objections::feedback_message_id)
        .load(conn)?;
    Ok(objection::may_object(latest.as_ref(), &objected)
        .and_then(|()| latest.ok_or(ObjectionRefused::NoFeedback)))
}

fn place(conn: &mut DbConnection, code: &str) -> QueryResult<PlaceView> {
    let name = divisions::find(conn, code)?
        .map(|d| d.name)
        .unwrap_or_default();
    Ok(PlaceView {
        code: code.to_string(),
        name,
    })
}

fn who(kind: &str) -> &'static str {
    if kind == "reporter" {
        "reporter"
    } else {
        "commission"
    }
}

/// What a reporter sees of report `report_id`, or `None` when there is no such report.
///
/// Errors: any database error.
pub fn load_view(
    conn: &mut DbConnection,
    report_id: &str,
) -> QueryResult<Option<ReporterReportView>> {
    let row: Option<ReporterViewRow> = reports::table
        .find(report_id)
        .select(ReporterViewRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let status = row.status;
    // What triage did, and whether the report's case was closed without action: read from the
    // tables directly (the cases capability sits above this one).
    let (to_body, case_id): (Option<String>, Option<String>) = reports::table
        .find(report_id)
        .select((reports::triage_to_body, reports::case_id))
        .first(conn)?;
    let closing_reason: Option<Option<String>> = match &case_id {
        Some(case_id) => cases::table
            .find(case_id)
            .filter(cases::status.eq(CaseStatus::ClosedWithoutAction))
            .select(cases::disposition_reason)
            .first(conn)
            .optional()?,
        None => None,
    };
    let closed_without_action = closing_reason.is_some();
    // The case's primary outcome once concluded, and its feedback date while it runs: read from
    // the tables directly, never the findings, sanctions or anyone's name.
    let (outcome, feedback_due) = match &case_id {
        Some(case_id) => case_outcome(conn, case_id)?,
        None => (None, None),
    };
    // An acknowledged report has no acknowledgement deadline left to show.
    let acknowledge_by = row.acknowledge_by.filter(|_| row.acknowledged_at.is_none());
    let triage_due = row.triage_due;
    let next_deadline = deadlines::next_deadline(status, triage_due, acknowledge_by, feedback_due)
        .map(|d| NextDeadline {
            kind: d.kind.as_str(),
            due: d.due,
            description_zh: match d.kind {
                DeadlineKind::Triage => "县纪委决定受理或转办的期限",
                DeadlineKind::Acknowledge => "实名举报答复期限",
                DeadlineKind::Feedback => "办理结果反馈期限",
            },
        });
    let shown_status = if outcome.is_some() {
        ReportStatus::Concluded
    } else {
        status
    };
    // The first read of the identity (custodian workflow), read from its table directly.
    let identity_disclosed_at: Option<DateTime<Utc>> = identity_disclosures::table
        .filter(identity_disclosures::report_id.eq(report_id))
        .select(diesel::dsl::min(identity_disclosures::at))
        .first::<Option<chrono::NaiveDateTime>>(conn)?
        .map(|t| t.and_utc());
    let messages = report_messages::table
        .filter(report_messages::report_id.eq(report_id))
        .order(report_messages::created_at.asc())
        .select(MessageRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| ThreadMessage {
            id: m.id.into_string(),
            from: who(&m.author_kind),
            kind: m.kind,
            body: m.body,
            sent_at: m.created_at.and_utc(),
        })
        .collect();
    let evidence = attachments::table
        .filter(attachments::report_id.eq(report_id))
        .order(attachments::created_at.asc())
        .select(AttachmentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| EvidenceView {
            id: a.id.into_string(),
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            uploaded_at: a.created_at.and_utc(),
            from: who(&a.uploaded_by),
            metadata_removed: removed_kinds(&a.metadata_removed),
        })
        .collect();
    let may_object = objectable_feedback(conn, report_id)?.is_ok();
    let objections = objections_of(conn, report_id)?
        .into_iter()
        .map(ReporterObjection::from)
        .collect();
    Ok(Some(ReporterReportView {
        report_number: row.number,
        programme: row.programme.as_str().to_string(),
        programme_zh: row.programme.label_zh().to_string(),
        township: place(conn, &row.township_code)?,
        village: place(conn, &row.village_code)?,
        submitted_at: row.submitted_at.and_utc(),
        anonymous: row.anonymous,
        status: shown_status.as_str().to_string(),
        status_zh: report_rules::outcome_zh(
            shown_status,
            to_body.as_deref(),
            closed_without_action,
        ),
        status_explanation_zh: shown_status.explanation_zh().to_string(),
        closing_reason: closing_reason.flatten(),
        outcome_zh: outcome.and_then(Outcome::reporter_zh).map(str::to_string),
        next_deadline,
        identity_disclosed_at,
        identity_disclosure_zh: identity_disclosed_at.map(crate::domain::custody::disclosure_zh),
        messages,
        evidence,
        may_object,
        objections,
    }))
}

/// The primary outcome of case `case_id` once its primary investigation is concluded, and the
/// case's feedback date while it runs. Reads only these two facts.
fn case_outcome(
    conn: &mut DbConnection,
    case_id: &str,
) -> QueryResult<(Option<Outcome>, Option<NaiveDate>)> {
    let outcome: Option<Option<Outcome>> = investigations::table
        .filter(investigations::case_id.eq(case_id))
        .filter(investigations::kind.eq(InvestigationKind::Primary))
        .filter(investigations::status.eq(InvestigationStatus::Concluded))
        .select(investigations::outcome)
        .first(conn)
        .optional()?;
    let feedback_due: Option<Option<NaiveDate>> = cases::table
        .find(case_id)
        .select(cases::feedback_due)
        .first(conn)
        .optional()?;
    Ok((outcome.flatten(), feedback_due.flatten()))
}

/// The reporter's view of `report_id`.
///
/// Errors: [`FollowUpError::ReportGone`] when the report no longer exists; `Failed` for
/// database errors.
pub async fn reporter_view(
    state: &ReportsState,
    report_id: &str,
) -> Result<ReporterReportView, FollowUpError> {
    let id = report_id.to_string();
    db::run(&state.pool, move |conn| Ok(load_view(conn, &id)?))
        .await?
        .ok_or(FollowUpError::ReportGone)
}

/// Staff to tell about reporter activity on a report: until cases are assigned, the intake
/// officers (信访室). Active accounts with an email only.
fn staff_to_notify(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let emails: Vec<Option<String>> = users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq("intake"))
        .filter(users::active.eq(true))
        .select(users::email)
        .distinct()
        .load(conn)?;
    Ok(emails.into_iter().flatten().collect())
}

/// Queues the content-free "the reporter added something" email to each staff member to tell.
fn tell_staff_of_reporter_activity(conn: &mut DbConnection, number: &str) -> Result<(), ApiError> {
    for email in staff_to_notify(conn)? {
        notify::enqueue(
            conn,
            "reporter_message",
            &email,
            serde_json::json!({"report_number": number}),
        )
        .map_err(|e| ApiError::unexpected(e.into()))?;
    }
    Ok(())
}

/// A reply from the reporter. Staff are told by email that there is one — never its content.
/// Returns the message as the thread shows it.
///
/// Errors: [`FollowUpError::Invalid`] naming `body` (controls, length); `Failed` for database
/// errors.
pub async fn add_message(
    state: &ReportsState,
    report_id: &str,
    body: &str,
) -> Result<ThreadMessage, FollowUpError> {
    // The text rules (domain::text): no controls, LF line breaks, visible characters required.
    text::check_controls("body", body).map_err(|e| FollowUpError::Invalid(vec![e]))?;
    let body = text::clean(body);
    crate::domain::report::check_message(&body).map_err(|e| FollowUpError::Invalid(vec![e]))?;
    let id = uuid::Uuid::new_v4().to_string();
    let report_id = report_id.to_string();
    let now = state.clock.now_naive();
    let message = ThreadMessage {
        id: id.clone(),
        from: "reporter",
        kind: "reply".to_string(),
        body: body.clone(),
        sent_at: now.and_utc(),
    };
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let number: String = reports::table
                .find(&report_id)
                .select(reports::number)
                .first(conn)?;
            diesel::insert_into(report_messages::table)
                .values(NewMessage {
                    id: &MessageId::from(id.as_str()),
                    report_id: &ReportId::from(report_id.as_str()),
                    author_kind: "reporter",
                    author_id: None,
                    body: &body,
                    created_at: now,
                    kind: "reply",
                    case_id: None,
                })
                .execute(conn)?;
            audit::record(
                conn,
                now,
                &Actor::Reporter,
                "report.reporter_message",
                "report",
                &report_id,
                serde_json::json!({"number": number, "message": id}),
            )?;
            tell_staff_of_reporter_activity(conn, &number)?;
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(message)
}

/// Evidence added by the reporter after submitting (already staged; kept only if the
/// transaction commits). Returns the new evidence as the reporter sees it.
///
/// Errors: `Failed` for database errors (the staged files are then deleted).
pub async fn add_evidence(
    state: &ReportsState,
    report_id: &str,
    files: StagedFiles,
) -> Result<Vec<EvidenceView>, FollowUpError> {
    let report_id = report_id.to_string();
    let staged = files;
    let uploaded_at = state.clock.now();
    // The guard moves into the blocking task: the files are kept there once the transaction
    // commits, and deleted on any error (or if this request is dropped before it ends).
    let files = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let number: String = reports::table
                .find(&report_id)
                .select(reports::number)
                .first(conn)?;
            for f in &staged {
                insert_attachment(conn, &report_id, f, "reporter", uploaded_at.naive_utc())?;
            }
            audit::record(
                conn,
                uploaded_at.naive_utc(),
                &Actor::Reporter,
                "report.reporter_evidence",
                "report",
                &report_id,
                serde_json::json!({"number": number, "attachments": staged.len()}),
            )?;
            tell_staff_of_reporter_activity(conn, &number)?;
            Ok::<_, ApiError>(())
        })?;
        Ok(staged.commit())
    })
    .await?;
    let now = uploaded_at;
    Ok(files
        .into_iter()
        .map(|f| EvidenceView {
            id: f.attachment_id,
            content_type: f.file.content_type,
            size_bytes: f.file.size as i64,
            uploaded_at: now,
            from: "reporter",
            metadata_removed: f.file.removed,
        })
        .collect())
}
