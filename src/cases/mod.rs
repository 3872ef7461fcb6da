//! Cases (案件): triage turns a report into a case (or transfers, escalates or merges it),
//! dispositions and filing decisions move the case (Art 17), and staff read one case or the
//! queue. The transitions the rules allow are in `domain::case_status`; this capability stores
//! them, each change in one write transaction with its audit entry.
//!
//! - `triage.rs`: `POST /reports/{id}/triage` and `GET /reports/{id}/similar`
//! - `disposition.rs`: `POST /cases/{id}/disposition` and `/filing-decision`
//! - `view.rs`: `GET /cases/{id}` and the queue `GET /cases`
//! - `notes.rs`: `POST /cases/{id}/notes` (internal notes)
//! - `similar.rs`: `GET /reports/{id}/similar`
//! - `generate.rs`: `probity generate-cases`, synthetic cases for benchmarks
//! - `routes.rs`: the thin handlers

pub mod assign;
pub mod disposition;
pub mod generate;
pub mod models;
pub mod notes;
pub mod routes;
pub mod similar;
pub mod triage;
pub mod view;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::clock::Clock;
use crate::db::schema::cases;
use crate::db::DbConnection;
use crate::domain::case_status::{
    earliest_open_deadline, CaseDeadlines, CaseStatus, InvalidTransition,
};
use crate::domain::ids::{TeamId, UserId};
use crate::domain::roles::Role;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::settings::DeadlineSettings;
use models::CaseRow;

/// `cases.due_on` for a case with no running deadline, 9999-12-31: it sorts after every real
/// date on both backends.
pub fn no_deadline() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The stored `due_on` for the earliest running deadline `due`.
pub fn stored_due(due: Option<NaiveDate>) -> NaiveDate {
    due.unwrap_or_else(no_deadline)
}

/// The served form of a stored `due_on`: `None` for the "no deadline" date.
pub fn served_due(stored: NaiveDate) -> Option<NaiveDate> {
    (stored < no_deadline()).then_some(stored)
}

/// The team of a new case of `programme` in `township_code` about a person of
/// `subject_level`: `routing::route`, the most specific routing rule.
///
/// Errors: 422 `no_default_rule` when no rule matches (there is no default rule); database
/// errors.
pub fn route_by_rules(
    conn: &mut DbConnection,
    programme: crate::domain::report::Programme,
    township_code: &str,
    subject_level: crate::domain::subject_level::SubjectLevel,
) -> Result<crate::domain::ids::TeamId, CaseError> {
    crate::routing::route(conn, programme, township_code, subject_level)
        .map_err(|e| CaseError::Failed(e.into()))
}

/// Everything the case endpoints share beside the pool.
pub struct CasesState {
    pub clock: Clock,
    pub deadlines: DeadlineSettings,
}

/// Why a case request was not done. Mapped to `ApiError` at the HTTP edge (`From` below).
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// No report or case has this id (or the caller may not know it exists).
    #[error("no {0} has this id")]
    NotFound(&'static str),
    /// The caller's roles, or team, do not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The report was triaged already (409 `already_triaged`).
    #[error("the report was already triaged")]
    AlreadyTriaged,
    /// Art 15: subjects above the county or the commission's head are escalated (422).
    #[error("this subject level must be escalated")]
    MustEscalate,
    /// A merge into a case that is closed (409 `case_not_open`).
    #[error("the case is not open")]
    CaseNotOpen,
    /// The rules do not allow the action in the case's status (409 `invalid_transition`).
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The `version` sent is not the case's (409 `version_conflict`).
    #[error("the case is at version {current}")]
    VersionConflict { current: i32 },
    /// Fields of the request are invalid (422).
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Already an `ApiError` (routing, the database, the server).
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for CaseError {
    fn from(e: diesel::result::Error) -> CaseError {
        CaseError::Failed(e.into())
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        use actix_web::http::StatusCode;
        match e {
            CaseError::NotFound(what) => ApiError::not_found(format!("No {what} has this id.")),
            CaseError::Forbidden(why) => ApiError::forbidden(why),
            CaseError::AlreadyTriaged => ApiError::conflict(
                ErrorCode::AlreadyTriaged,
                "The report was already triaged (accepted, transferred, merged or escalated).",
            ),
            CaseError::MustEscalate => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MustEscalate,
                "A report about an official above the county, or about the commission's own \
                 head, is escalated and never accepted here (Art 15). Use action `escalate`.",
            ),
            CaseError::CaseNotOpen => ApiError::conflict(
                ErrorCode::CaseNotOpen,
                "A report can only be merged into an open case.",
            ),
            CaseError::InvalidTransition(t) => ApiError::conflict(
                ErrorCode::InvalidTransition,
                format!(
                    "A case that is {} does not allow {}; it allows: {}.",
                    t.status.as_str(),
                    t.action.as_str(),
                    if t.allowed.is_empty() {
                        "nothing".to_string()
                    } else {
                        t.allowed
                            .iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            )
            .with_member("status", serde_json::json!(t.status.as_str()))
            .with_member(
                "allowed_actions",
                serde_json::json!(t.allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>()),
            ),
            CaseError::VersionConflict { current } => ApiError::conflict(
                ErrorCode::VersionConflict,
                format!(
                    "The case changed: it is now at version {current}. Reload it and try again."
                ),
            )
            .with_member("version", serde_json::json!(current)),
            CaseError::Invalid(v) => ApiError::validation(v),
            CaseError::Failed(e) => e,
        }
    }
}

/// The dates of `row` that are deadlines, for [`earliest_open_deadline`].
pub fn deadlines_of(row: &CaseRow) -> CaseDeadlines {
    CaseDeadlines {
        acknowledge_by: row.acknowledge_by,
        verification_due: row.verification_due,
        review_on: row.review_on,
        feedback_due: row.feedback_due,
    }
}

/// The stored `due_on` of a case in `status` with `deadlines`.
pub fn due_on_for(status: CaseStatus, deadlines: &CaseDeadlines) -> NaiveDate {
    stored_due(earliest_open_deadline(status, deadlines))
}

/// Who is reading or working cases, for the team rule (SPEC.md → "Roles and permissions":
/// investigators work their own teams' cases; supervisors work, auditors read, all cases).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: String,
    pub roles: Vec<Role>,
}

impl Viewer {
    /// Whether the viewer sees every case (supervisor or auditor); otherwise only their teams'.
    pub fn sees_all(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r, Role::Supervisor | Role::Auditor))
    }
}

/// The teams `user_id` is a member of (`routing::teams_of`).
///
/// Errors: any database error.
pub fn teams_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<TeamId>> {
    crate::routing::teams_of(conn, &UserId::from(user_id))
}

/// Case `id`, when it exists and `viewer` may see it.
///
/// Errors: `NotFound("case")`; `Forbidden` for an investigator outside the case's team (403);
/// database errors.
pub fn visible_case(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<CaseRow, CaseError> {
    let row: CaseRow = cases::table
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(CaseError::NotFound("case"))?;
    if !viewer.sees_all() && !teams_of(conn, &viewer.user_id)?.contains(&row.team_id) {
        return Err(CaseError::Forbidden(
            "Investigators see only their own teams' cases.",
        ));
    }
    Ok(row)
}

/// A required free-text field, cleaned (`domain::text::clean`): 1 to `max` characters.
///
/// Errors: a violation naming `field` (`required` or `too_long`).
pub fn required_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<String, FieldViolation> {
    let cleaned = crate::domain::text::clean(value.unwrap_or_default());
    match crate::domain::text::check_length(&cleaned, 1, max) {
        None => Ok(cleaned),
        Some(problem) => Err(FieldViolation::new(
            field,
            problem.code(),
            format!("{field} is required, at most {max} characters"),
        )
        .limit(max)),
    }
}

/// A required one-line name (such as the body a report is transferred to, which the reporter
/// reads as 已转交…办理): as [`required_text`], and a line break or tab is refused with
/// `invalid_characters`.
///
/// Errors: a violation naming `field` (`required`, `too_long`, `invalid_characters`).
pub fn required_line(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<String, FieldViolation> {
    let line = required_text(field, value, max)?;
    if line.contains(['\n', '\t']) {
        return Err(FieldViolation::new(
            field,
            ErrorCode::InvalidCharacters,
            format!("{field} is one line: no line breaks or tabs"),
        ));
    }
    Ok(line)
}

/// An optional free-text field: `None` when absent or blank, else as [`required_text`].
///
/// Errors: a violation naming `field` (`too_long`).
pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldViolation> {
    match crate::domain::text::clean_opt(value) {
        None => Ok(None),
        Some(v) => required_text(field, Some(&v), max).map(Some),
    }
}
