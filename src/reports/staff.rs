//! The staff side of reports before triage: the intake queue and one report's details. A
//! reporter's identity is never part of these views: only the custodian workflow (approved,
//! audited requests) will show it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::follow_up::{load_view, EvidenceView, ThreadMessage};
use super::models::{ReportContentRow, ReportSummaryRow};
use crate::db::schema::{attachments, reports};
use crate::db::DbConnection;
use crate::domain::deadlines;
use crate::domain::report::{AccusedPerson, ReportStatus};
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportSummary {
    pub id: String,
    pub report_number: String,
    pub channel: String,
    pub programme: String,
    pub township_code: String,
    pub village_code: String,
    pub status: String,
    pub anonymous: bool,
    pub submitted_at: DateTime<Utc>,
    /// Accept or transfer by this date (5 working days).
    pub triage_due: NaiveDate,
    pub overdue: bool,
    pub attachments: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffReportView {
    #[serde(flatten)]
    pub summary: ReportSummary,
    pub misconduct: Vec<String>,
    pub accused: Vec<AccusedPerson>,
    pub description: String,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_to: Option<NaiveDate>,
    /// Real-name reports are acknowledged by this date.
    pub acknowledge_by: Option<NaiveDate>,
    /// The thread with the reporter.
    pub messages: Vec<ThreadMessage>,
    /// Download with `GET /api/v1/attachments/{id}`.
    pub evidence: Vec<EvidenceView>,
}

fn summary(
    conn: &mut DbConnection,
    row: ReportSummaryRow,
    today: NaiveDate,
) -> QueryResult<ReportSummary> {
    let count: i64 = attachments::table
        .filter(attachments::report_id.eq(&row.id))
        .count()
        .get_result(conn)?;
    Ok(ReportSummary {
        overdue: deadlines::is_overdue(row.status, row.triage_due, today),
        id: row.id.into_string(),
        report_number: row.number,
        channel: row.channel.as_str().to_string(),
        programme: row.programme.as_str().to_string(),
        township_code: row.township_code,
        village_code: row.village_code,
        status: row.status.as_str().to_string(),
        anonymous: row.anonymous,
        submitted_at: row.submitted_at.and_utc(),
        triage_due: row.triage_due,
        attachments: count,
    })
}

/// Reports in `status` (all when `None`), oldest first, after the report number `after`; only the
/// report numbered `number` when given (already folded by the caller).
pub fn queue(
    conn: &mut DbConnection,
    status: Option<&str>,
    number: Option<&str>,
    after: Option<&str>,
    limit: i64,
    today: NaiveDate,
) -> Result<Vec<ReportSummary>, ApiError> {
    let mut query = reports::table
        .select(ReportSummaryRow::as_select())
        .order(reports::number.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        let Some(status) = ReportStatus::parse(status) else {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                ErrorCode::UnknownValue,
                "status is one of received, accepted, transferred, merged, escalated, concluded",
            )]));
        };
        query = query.filter(reports::status.eq(status));
    }
    if let Some(number) = number {
        query = query.filter(reports::number.eq(number.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(reports::number.gt(after.to_string()));
    }
    let rows: Vec<ReportSummaryRow> = query.load(conn)?;
    rows.into_iter()
        .map(|r| summary(conn, r, today).map_err(ApiError::from))
        .collect()
}

pub fn details(
    conn: &mut DbConnection,
    id: &str,
    today: NaiveDate,
) -> Result<StaffReportView, ApiError> {
    let row: Option<(ReportSummaryRow, ReportContentRow)> = reports::table
        .find(id)
        .select((ReportSummaryRow::as_select(), ReportContentRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((head, content)) = row else {
        return Err(ApiError::not_found("No report has this id."));
    };
    let thread = load_view(conn, id)?.ok_or(super::follow_up::FollowUpError::ReportGone)?;
    Ok(StaffReportView {
        summary: summary(conn, head, today)?,
        misconduct: content.misconduct.split(',').map(str::to_string).collect(),
        accused: serde_json::from_str(&content.accused).unwrap_or_default(),
        description: content.description,
        occurred_from: content.occurred_from,
        occurred_to: content.occurred_to,
        acknowledge_by: content.acknowledge_by,
        messages: thread.messages,
        evidence: thread.evidence,
    })
}

/// How many reports wait for triage, and how many of them are past their triage deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TriageBacklog {
    /// Reports in status `received` (the intake queue, `GET /reports?status=received`).
    pub received: i64,
    /// Of those, the ones whose `triage_due` is before `today` (`deadlines::is_overdue`).
    pub overdue: i64,
}

/// The size of the intake queue on `today` (county date): the reports [`queue`] lists with
/// status `received`, and how many of them are overdue by the rule of `deadlines::is_overdue`
/// (still received, `triage_due < today`). For the console's 工作台 (issue 13).
///
/// Errors: any database error.
pub fn triage_backlog(conn: &mut DbConnection, today: NaiveDate) -> QueryResult<TriageBacklog> {
    let received: i64 = reports::table
        .filter(reports::status.eq(ReportStatus::Received))
        .count()
        .get_result(conn)?;
    let overdue: i64 = reports::table
        .filter(reports::status.eq(ReportStatus::Received))
        .filter(reports::triage_due.lt(today))
        .count()
        .get_result(conn)?;
    Ok(TriageBacklog { received, overdue })
}
