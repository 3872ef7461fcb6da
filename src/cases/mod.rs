//! Cases (案件): triage turns a report into a case (or transfers, escalates or merges it),
//! dispositions and filing decisions move the case (Art 17), and staff read one case or the
//! queue. The transitions the rules allow are in `domain::case_status`; this capability stores
//! them, each change in one write transaction with its audit entry.
//!
//! - `triage.rs`: `POST /reports/{id}/triage` and `GET /reports/{id}/similar`
//! - `disposition.rs`: `POST /cases/{id}/disposition` and `/filing-decision`
//! - `view.rs`: `GET /cases/{id}` and the queue `GET /cases`
//! - `notes.rs`: `POST /cases/{id}/notes` (internal notes)
//! - `messages.rs`: `POST /cases/{id}/messages` (to the reporters; stops the deadlines it answers)
//! - `lifecycle.rs`: what filing sets off (一案双查: both investigations; the village's
//!   suspension) and the feedback deadline
//! - `investigations.rs`: `GET /cases/{id}/investigations`, `POST /investigations/{id}/conclude`
//! - `closing.rs`: `POST /cases/{id}/clawback-statement`, `/close` (every blocker) and `/reopen`
//! - `similar.rs`: `GET /reports/{id}/similar`
//! - `timeline.rs`: `GET /cases/{id}/timeline` (every audited event of the case and the
//!   entities it links, without identity)
//! - `generate.rs`: `probity generate-cases`, synthetic cases for benchmarks
//! - `routes.rs`: the thin handlers
//!
//! A case's queue deadline (`cases.due_on`) includes its open objections' deadlines
//! (`crate::objections`): recompute it with [`due_on_with_objections`].

pub mod assign;
pub mod closing;
pub mod disposition;
pub mod generate;
pub mod investigations;
pub mod lifecycle;
pub mod messages;
pub mod models;
pub mod notes;
pub mod record;
pub mod routes;
pub mod similar;
pub mod timeline;
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

/// The longest reason (closing, reopening, a clawback statement, a false accusation), in
/// characters.
pub const REASON_MAX: usize = 2000;

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
    /// `accountability.escalation`: which level's leadership answers for a filed case.
    pub escalation: crate::domain::investigation::EscalationMap,
    /// The working-day calendar (the feedback deadline counts working days).
    pub calendar: crate::calendar::CalendarHandle,
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
    /// A request that belongs to a filed case (investigating or concluded, not closed) on a
    /// case that is not (409 `case_not_filed`).
    #[error("the case is not filed")]
    CaseNotFiled,
    /// The rules do not allow the action in the case's status (409 `invalid_transition`).
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// The `version` sent is not the case's (409 `version_conflict`).
    #[error("the case is at version {current}")]
    VersionConflict { current: i32 },
    /// The `version` sent is not the investigation's (409 `version_conflict`).
    #[error("the investigation is at version {current}")]
    InvestigationVersionConflict { current: i32 },
    /// The investigation is concluded already (409 `investigation_concluded`).
    #[error("the investigation is concluded")]
    InvestigationConcluded,
    /// Something blocks closing the case (409 `close_blocked`, every blocker named).
    #[error("{} blocker(s) keep the case from closing", .0.len())]
    CloseBlocked(Vec<crate::domain::closing::Blocker>),
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
            CaseError::CaseNotFiled => ApiError::conflict(
                ErrorCode::CaseNotFiled,
                "This belongs to a filed case that is not closed (status filed or concluded).",
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
            .with_member("case_status", serde_json::json!(t.status.as_str()))
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
            CaseError::InvestigationVersionConflict { current } => ApiError::conflict(
                ErrorCode::VersionConflict,
                format!(
                    "The investigation changed: it is now at version {current}. Reload it and \
                     try again."
                ),
            )
            .with_member("version", serde_json::json!(current)),
            CaseError::InvestigationConcluded => ApiError::conflict(
                ErrorCode::InvestigationConcluded,
                "The investigation is concluded already. A supervisor may reopen the case \
                 (POST /api/v1/cases/{id}/reopen) to reopen its primary investigation.",
            ),
            CaseError::CloseBlocked(blockers) => ApiError::conflict(
                ErrorCode::CloseBlocked,
                format!(
                    "The case cannot close yet: {}. Nobody can override this.",
                    blockers
                        .iter()
                        .map(|b| b.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_member("blockers", serde_json::json!(blockers)),
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
        investigation_due: row.investigation_due,
        clawback_due: row.clawback_due,
    }
}

/// The stored `due_on` of a case in `status` with `deadlines`, not counting objections: use
/// [`due_on_with_objections`] for a case that may have one (any case a reporter may have had
/// feedback on).
pub fn due_on_for(status: CaseStatus, deadlines: &CaseDeadlines) -> NaiveDate {
    stored_due(earliest_open_deadline(status, deadlines))
}

/// The earliest running deadline of case `case_id` in `status` with `deadlines`, counting the
/// deadlines of its open objections (county dates; `objections::earliest_open_due`), or
/// `None`. An open objection's deadline runs whatever the case's status, closed included
/// (issue 10, item 6: the objection has its own deadline in the queue).
///
/// Errors: any database error.
pub fn earliest_due_with_objections(
    conn: &mut DbConnection,
    case_id: &str,
    status: CaseStatus,
    deadlines: &CaseDeadlines,
) -> QueryResult<Option<NaiveDate>> {
    let objection = crate::objections::earliest_open_due(conn, case_id)?;
    Ok(earliest_open_deadline(status, deadlines)
        .into_iter()
        .chain(objection)
        .min())
}

/// The stored `due_on` of case `case_id` in `status` with `deadlines`, its open objections'
/// deadlines included ([`earliest_due_with_objections`]; [`no_deadline`] when none runs). Every
/// change that recomputes a case's `due_on` calls this (or keeps the objections' dates some
/// other way), so an open objection keeps the case in the queue by its deadline.
///
/// Errors: any database error.
pub fn due_on_with_objections(
    conn: &mut DbConnection,
    case_id: &str,
    status: CaseStatus,
    deadlines: &CaseDeadlines,
) -> QueryResult<NaiveDate> {
    earliest_due_with_objections(conn, case_id, status, deadlines).map(stored_due)
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
