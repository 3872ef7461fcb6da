//! The rows of `cases` and the triage columns of `reports`, as diesel sees them: what is read
//! (`CaseRow`), written (`NewCase`), changed (`CaseChanges`, `TriageFacts`). Queries in this
//! capability go through these types, never tuples (docs/architecture.md → "The model layer").

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{
    case_notes, cases, clawback_statements, false_accusations, investigation_conclusions,
    investigation_officials, investigations, reports, sanctions,
};
use crate::domain::case_status::{CaseStatus, Disposition};
use crate::domain::divisions::Level;
use crate::domain::ids::{
    CaseId, ClawbackStatementId, ConclusionId, FalseAccusationId, InvestigationId, NoteId,
    OfficialId, ReportId, SanctionId, TeamId, UserId,
};
use crate::domain::investigation::{
    InvestigationKind, InvestigationStatus, Outcome, SanctionCategory,
};
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
    /// The earliest due date of the open investigations; counted while the case is `filed`.
    pub investigation_due: Option<NaiveDate>,
    pub closed_by: Option<UserId>,
    pub closed_at: Option<NaiveDateTime>,
    pub close_reason: Option<String>,
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

/// A change of status (a disposition, a filing decision, a conclusion, a close or a reopen).
/// `None` fields are left as they are; the `Option<Option<_>>` fields set or clear. Start from
/// [`CaseChanges::new`].
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
    pub feedback_due: Option<Option<NaiveDate>>,
    pub investigation_due: Option<Option<NaiveDate>>,
    pub closed_by: Option<Option<UserId>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub close_reason: Option<Option<String>>,
    pub due_on: NaiveDate,
    pub updated_at: NaiveDateTime,
}

impl CaseChanges {
    /// A change to `status` at `version`, with `due_on`, at `updated_at`, leaving every other
    /// column as it is.
    pub fn new(
        status: CaseStatus,
        version: i32,
        due_on: NaiveDate,
        updated_at: NaiveDateTime,
    ) -> CaseChanges {
        CaseChanges {
            status,
            version,
            disposition: None,
            disposition_reason: None,
            review_on: None,
            verification_due: None,
            filing_decided_by: None,
            filing_decided_at: None,
            filing_decision_reason: None,
            feedback_due: None,
            investigation_due: None,
            closed_by: None,
            closed_at: None,
            close_reason: None,
            due_on,
            updated_at,
        }
    }
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

/// An investigation of a filed case, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = investigations)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct InvestigationRow {
    pub id: InvestigationId,
    pub case_id: CaseId,
    pub kind: InvestigationKind,
    pub target_level: Level,
    pub target_division_code: String,
    pub assignee_id: Option<UserId>,
    pub assignment_note: Option<String>,
    pub due_on: NaiveDate,
    pub status: InvestigationStatus,
    pub outcome: Option<Outcome>,
    pub findings: Option<String>,
    pub concluded_by: Option<UserId>,
    pub concluded_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The change that concludes or reopens an investigation. `None` leaves a column alone; the
/// `Option<Option<_>>` fields set or clear.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = investigations)]
pub struct InvestigationChanges {
    pub status: InvestigationStatus,
    pub outcome: Option<Option<Outcome>>,
    pub findings: Option<Option<String>>,
    pub concluded_by: Option<Option<UserId>>,
    pub concluded_at: Option<Option<NaiveDateTime>>,
    pub due_on: Option<NaiveDate>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

/// An official an investigation looks into.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = investigation_officials)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct InvestigationOfficialRow {
    pub investigation_id: InvestigationId,
    pub official_id: OfficialId,
    /// The order they are listed in.
    pub position: i32,
}

/// One conclusion of an investigation; a reopen marks it reopened and keeps it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = investigation_conclusions)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ConclusionRow {
    pub id: ConclusionId,
    pub investigation_id: InvestigationId,
    pub outcome: Outcome,
    pub findings: String,
    pub concluded_by: UserId,
    pub concluded_at: NaiveDateTime,
    pub reopened_by: Option<UserId>,
    pub reopened_at: Option<NaiveDateTime>,
    pub reopen_reason: Option<String>,
}

/// A sanction decided against an official on record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sanctions)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SanctionRow {
    pub id: SanctionId,
    pub investigation_id: InvestigationId,
    pub conclusion_id: ConclusionId,
    pub official_id: OfficialId,
    pub category: SanctionCategory,
    /// A type of `category` (`domain::investigation::SANCTION_TYPES`).
    pub sanction_type: String,
    pub decided_on: NaiveDate,
    pub document_number: String,
    /// The order within its conclusion, as sent.
    pub position: i32,
    pub created_at: NaiveDateTime,
}

/// A false-accusation finding (诬告陷害): supervisors read it, nothing about the reporter.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = false_accusations)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct FalseAccusationRow {
    pub id: FalseAccusationId,
    pub case_id: CaseId,
    pub investigation_id: InvestigationId,
    pub conclusion_id: ConclusionId,
    pub reason: String,
    pub recorded_by: UserId,
    pub recorded_at: NaiveDateTime,
}

/// The answer to the clawback question when no clawback is recorded.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clawback_statements)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ClawbackStatementRow {
    pub id: ClawbackStatementId,
    pub case_id: CaseId,
    pub no_improper_payment: bool,
    pub reason: String,
    pub recorded_by: UserId,
    pub recorded_at: NaiveDateTime,
}
