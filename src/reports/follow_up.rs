//! The reporter's side after submitting: exchange the receipt code for a session, see progress
//! and the thread (never internal notes or staff names), reply, add evidence.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::submit::{insert_attachment, StagedFile};
use super::ReportsState;
use crate::audit::{self, now_micros, Actor};
use crate::db::schema::{attachments, report_messages, reports, user_roles, users};
use crate::db::{self, DbConnection};
use crate::divisions;
use crate::domain::receipt_code;
use crate::domain::report::{Programme, ReportStatus};
use crate::error::{ApiError, FieldError};
use crate::notify;

pub const MESSAGE_MAX: usize = 5_000;

fn wrong_code() -> ApiError {
    ApiError::unauthorized("The receipt code is not valid. 回执码无效，请核对后重新输入。")
        .with_code("invalid_receipt_code")
}

/// Checks a receipt code and returns the report id it opens. A malformed code, an unknown code
/// and a wrong code get the same answer after the same work: the Argon2 hash is always computed,
/// and the stored hash is compared in constant time.
pub async fn report_for_code(state: &ReportsState, typed: &str) -> Result<String, ApiError> {
    let normalised = receipt_code::normalise(typed);
    let candidate = normalised
        .clone()
        .unwrap_or_else(|| "0000000000000000".into());
    // Busy or not does not depend on the code typed, so a 503 tells a guesser nothing.
    let hash = state.receipts.hash(candidate).await?;
    let lookup = hash.clone();
    let found: Option<(String, String)> = db::run(&state.pool, move |conn| {
        Ok(reports::table
            .filter(reports::receipt_hash.eq(&lookup))
            .select((reports::id, reports::receipt_hash))
            .first(conn)
            .optional()?)
    })
    .await?;
    match (normalised, found) {
        (Some(_), Some((id, stored))) if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) => {
            Ok(id)
        }
        _ => Err(wrong_code()),
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
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextDeadline {
    /// `triage` (accept or transfer) or `acknowledge` (real-name acknowledgement).
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
    pub next_deadline: Option<NextDeadline>,
    pub messages: Vec<ThreadMessage>,
    pub evidence: Vec<EvidenceView>,
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

pub fn load_view(conn: &mut DbConnection, report_id: &str) -> Result<ReporterReportView, ApiError> {
    #[allow(clippy::type_complexity)]
    let row: Option<(
        String,
        String,
        String,
        String,
        NaiveDateTime,
        bool,
        String,
        NaiveDate,
        Option<NaiveDate>,
    )> = reports::table
        .find(report_id)
        .select((
            reports::number,
            reports::programme,
            reports::township_code,
            reports::village_code,
            reports::submitted_at,
            reports::anonymous,
            reports::status,
            reports::triage_due,
            reports::acknowledge_by,
        ))
        .first(conn)
        .optional()?;
    let Some((
        number,
        programme,
        township,
        village,
        submitted_at,
        anonymous,
        status,
        triage_due,
        acknowledge_by,
    )) = row
    else {
        return Err(ApiError::not_found("The report no longer exists."));
    };
    let status = ReportStatus::parse(&status).unwrap_or(ReportStatus::Received);
    let next_deadline = match status {
        ReportStatus::Received => Some(NextDeadline {
            kind: "triage",
            due: triage_due,
            description_zh: "县纪委决定受理或转办的期限",
        }),
        _ => acknowledge_by.map(|due| NextDeadline {
            kind: "acknowledge",
            due,
            description_zh: "实名举报答复期限",
        }),
    };
    let messages = report_messages::table
        .filter(report_messages::report_id.eq(report_id))
        .order(report_messages::created_at.asc())
        .select((
            report_messages::id,
            report_messages::author_kind,
            report_messages::body,
            report_messages::created_at,
        ))
        .load::<(String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, kind, body, at)| ThreadMessage {
            id,
            from: who(&kind),
            body,
            sent_at: at.and_utc(),
        })
        .collect();
    let evidence = attachments::table
        .filter(attachments::report_id.eq(report_id))
        .order(attachments::created_at.asc())
        .select((
            attachments::id,
            attachments::content_type,
            attachments::size_bytes,
            attachments::created_at,
            attachments::uploaded_by,
        ))
        .load::<(String, String, i64, NaiveDateTime, String)>(conn)?
        .into_iter()
        .map(|(id, content_type, size_bytes, at, by)| EvidenceView {
            id,
            content_type,
            size_bytes,
            uploaded_at: at.and_utc(),
            from: who(&by),
        })
        .collect();
    let programme_zh = Programme::parse(&programme)
        .map(|p| p.label_zh().to_string())
        .unwrap_or_default();
    Ok(ReporterReportView {
        report_number: number,
        programme,
        programme_zh,
        township: place(conn, &township)?,
        village: place(conn, &village)?,
        submitted_at: submitted_at.and_utc(),
        anonymous,
        status: status.as_str().to_string(),
        status_zh: status.label_zh().to_string(),
        status_explanation_zh: status.explanation_zh().to_string(),
        next_deadline,
        messages,
        evidence,
    })
}

pub async fn reporter_view(
    state: &ReportsState,
    report_id: &str,
) -> Result<ReporterReportView, ApiError> {
    let id = report_id.to_string();
    db::run(&state.pool, move |conn| load_view(conn, &id)).await
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
pub async fn add_message(
    state: &ReportsState,
    report_id: &str,
    body: &str,
) -> Result<ThreadMessage, ApiError> {
    let body = body.trim().to_string();
    let length = body.chars().count();
    if length == 0 || length > MESSAGE_MAX {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            if length == 0 { "required" } else { "too_long" },
            format!("a message has 1–{MESSAGE_MAX} characters"),
        )]));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let report_id = report_id.to_string();
    let now = now_micros();
    let message = ThreadMessage {
        id: id.clone(),
        from: "reporter",
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
                .values((
                    report_messages::id.eq(&id),
                    report_messages::report_id.eq(&report_id),
                    report_messages::author_kind.eq("reporter"),
                    report_messages::body.eq(&body),
                    report_messages::created_at.eq(now),
                ))
                .execute(conn)?;
            audit::record(
                conn,
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

/// Evidence added by the reporter after submitting.
pub async fn add_evidence(
    state: &ReportsState,
    report_id: &str,
    files: Vec<StagedFile>,
) -> Result<Vec<EvidenceView>, ApiError> {
    let report_id = report_id.to_string();
    let staged = files.clone();
    let result = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let number: String = reports::table
                .find(&report_id)
                .select(reports::number)
                .first(conn)?;
            for f in &staged {
                insert_attachment(conn, &report_id, f, "reporter")?;
            }
            audit::record(
                conn,
                &Actor::Reporter,
                "report.reporter_evidence",
                "report",
                &report_id,
                serde_json::json!({"number": number, "attachments": staged.len()}),
            )?;
            tell_staff_of_reporter_activity(conn, &number)?;
            Ok::<_, ApiError>(())
        })
    })
    .await;
    if let Err(e) = result {
        super::submit::discard(state, &files).await;
        return Err(e);
    }
    let now = Utc::now();
    Ok(files
        .into_iter()
        .map(|f| EvidenceView {
            id: f.attachment_id,
            content_type: f.file.content_type,
            size_bytes: f.file.size as i64,
            uploaded_at: now,
            from: "reporter",
        })
        .collect())
}
