//! The staff side of reports before triage: the intake queue and one report's details. A
//! reporter's identity is never part of these views: only the custodian workflow (approved,
//! audited requests) will show it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::follow_up::{load_view, EvidenceView, ThreadMessage};
use crate::db::schema::{attachments, reports};
use crate::db::DbConnection;
use crate::domain::report::{AccusedPerson, ReportStatus};
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

type SummaryRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    NaiveDateTime,
    NaiveDate,
);

macro_rules! summary_columns {
    () => {
        (
            reports::id,
            reports::number,
            reports::channel,
            reports::programme,
            reports::township_code,
            reports::village_code,
            reports::status,
            reports::anonymous,
            reports::submitted_at,
            reports::triage_due,
        )
    };
}

fn summary(
    conn: &mut DbConnection,
    row: SummaryRow,
    today: NaiveDate,
) -> QueryResult<ReportSummary> {
    let count: i64 = attachments::table
        .filter(attachments::report_id.eq(&row.0))
        .count()
        .get_result(conn)?;
    let status = row.6;
    Ok(ReportSummary {
        overdue: status == ReportStatus::Received.as_str() && row.9 < today,
        id: row.0,
        report_number: row.1,
        channel: row.2,
        programme: row.3,
        township_code: row.4,
        village_code: row.5,
        status,
        anonymous: row.7,
        submitted_at: row.8.and_utc(),
        triage_due: row.9,
        attachments: count,
    })
}

/// Reports in `status` (all when `None`), oldest first, after the report number `after`.
pub fn queue(
    conn: &mut DbConnection,
    status: Option<&str>,
    after: Option<&str>,
    limit: i64,
    today: NaiveDate,
) -> Result<Vec<ReportSummary>, ApiError> {
    let mut query = reports::table
        .select(summary_columns!())
        .order(reports::number.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        if ReportStatus::parse(status).is_none() {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                "unknown_value",
                "status is one of received, accepted, transferred, merged, escalated, concluded",
            )]));
        }
        query = query.filter(reports::status.eq(status.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(reports::number.gt(after.to_string()));
    }
    let rows: Vec<SummaryRow> = query.load(conn)?;
    rows.into_iter()
        .map(|r| summary(conn, r, today).map_err(ApiError::from))
        .collect()
}

pub fn details(
    conn: &mut DbConnection,
    id: &str,
    today: NaiveDate,
) -> Result<StaffReportView, ApiError> {
    #[allow(clippy::type_complexity)]
    let row: Option<(
        SummaryRow,
        (
            String,
            String,
            String,
            Option<NaiveDate>,
            Option<NaiveDate>,
            Option<NaiveDate>,
        ),
    )> = reports::table
        .find(id)
        .select((
            summary_columns!(),
            (
                reports::misconduct,
                reports::accused,
                reports::description,
                reports::occurred_from,
                reports::occurred_to,
                reports::acknowledge_by,
            ),
        ))
        .first(conn)
        .optional()?;
    let Some((
        head,
        (misconduct, accused, description, occurred_from, occurred_to, acknowledge_by),
    )) = row
    else {
        return Err(ApiError::not_found("No report has this id."));
    };
    let thread = load_view(conn, id)?;
    Ok(StaffReportView {
        summary: summary(conn, head, today)?,
        misconduct: misconduct.split(',').map(str::to_string).collect(),
        accused: serde_json::from_str(&accused).unwrap_or_default(),
        description,
        occurred_from,
        occurred_to,
        acknowledge_by,
        messages: thread.messages,
        evidence: thread.evidence,
    })
}
