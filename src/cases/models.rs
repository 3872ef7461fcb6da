//! The rows of `cases` and the triage columns of `reports`, as diesel sees them: what is read
//! (`CaseRow`), written (`NewCase`), changed (`CaseChanges`, `TriageFacts`). Queries in this
//! capability go through these types, never tuples (docs/architecture.md → "The model layer").

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{case_notes, cases, reports};
use crate::domain::case_status::{CaseStatus, Disposition};
use crate::domain::ids::{CaseId, NoteId, ReportId, TeamId, UserId};
use crate::domain::report::{Programme, ReportStatus};
use crate::domain::subject_level::SubjectLevel;

/// A case as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct CaseRow {
    pub id: CaseId,
    pub number: String,
    pub status: CaseStatus,
    pub version: i32,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    /// `village | township | county` (never one that must be escalated).
    pub subject_level: SubjectLevel,
    /// JSON array of official ids.
    pub accused_official_ids: String,
    pub team_id: TeamId,
    pub assignee_id: Option<UserId>,
    pub disposition: Option<Disposition>,
    pub disposition_reason: Option<String>,
    pub review_on: Option<NaiveDate>,
    pub verification_due: Option<NaiveDate>,
    pub filing_decided_by: Option<UserId>,
    pub filing_decided_at: Option<NaiveDateTime>,
    pub filing_decision_reason: Option<String>,
    pub triage_due: NaiveDate,
    pub acknowledge_by: Option<NaiveDate>,
    pub feedback_due: Option<NaiveDate>,
    /// The earliest open deadline; [`super::no_deadline`] when none.
    pub due_on: NaiveDate,
    pub received_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The earliest recovery deadline of the case's clawbacks with money outstanding (kept by
    /// `clawbacks`); part of `due_on`.
    pub clawback_due: Option<NaiveDate>,
}

/// A new case, made by accepting a report.
#[derive(Debug, Insertable)]
#[diesel(table_name = cases)]
pub struct NewCase {
    pub id: CaseId,
    pub number: String,
    pub status: CaseStatus,
    pub version: i32,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    pub subject_level: SubjectLevel,
    pub accused_official_ids: String,
    pub team_id: TeamId,
    pub assignee_id: Option<UserId>,
    pub triage_due: NaiveDate,
    pub acknowledge_by: Option<NaiveDate>,
    pub due_on: NaiveDate,
    pub received_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A change of status (a disposition or a filing decision). `None` fields are left as they
/// are; the `Option<Option<_>>` fields set or clear.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = cases)]
pub struct CaseChanges {
    pub status: CaseStatus,
    pub version: i32,
    pub disposition: Option<Option<Disposition>>,
    pub disposition_reason: Option<Option<String>>,
    pub review_on: Option<Option<NaiveDate>>,
    pub verification_due: Option<Option<NaiveDate>>,
    pub filing_decided_by: Option<Option<UserId>>,
    pub filing_decided_at: Option<Option<NaiveDateTime>>,
    pub filing_decision_reason: Option<Option<String>>,
    pub due_on: NaiveDate,
    pub updated_at: NaiveDateTime,
}

/// What triage needs to know about a report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct TriageReportRow {
    pub id: ReportId,
    pub number: String,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    pub status: ReportStatus,
    pub submitted_at: NaiveDateTime,
    pub triage_due: NaiveDate,
    pub acknowledge_by: Option<NaiveDate>,
    /// JSON array of accused people, as submitted.
    pub accused: String,
    pub case_id: Option<CaseId>,
}

/// The outcome of triage, written on the report with its new status.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = reports)]
pub struct TriageFacts {
    pub status: ReportStatus,
    pub case_id: Option<CaseId>,
    pub triage_action: Option<String>,
    pub triage_to_body: Option<String>,
    pub triage_reason: Option<String>,
    pub triaged_at: Option<NaiveDateTime>,
    pub triaged_by: Option<String>,
}

/// What the reporter's view shows of triage (read by `reports::follow_up`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct TriageOutcomeRow {
    pub triage_action: Option<String>,
    pub triage_to_body: Option<String>,
    pub case_id: Option<CaseId>,
}

/// An internal note on a case, as read and as written.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_notes)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct NoteRow {
    pub id: NoteId,
    pub case_id: CaseId,
    pub author_id: UserId,
    pub body: String,
    pub created_at: NaiveDateTime,
}
