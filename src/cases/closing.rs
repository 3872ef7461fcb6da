//! Closing and reopening a case (SPEC.md → "Case handling"; issue 10, items 4 and 6), and the
//! clawback statement that answers the clawback question when no clawback is recorded.
//!
//! - `POST /cases/{id}/clawback-statement` (investigator of the team, supervisor):
//!   `{"no_improper_payment": true, "reason"}` on a filed or concluded case → 201 with the
//!   statement.
//! - `POST /cases/{id}/close` (supervisor): refused with 409 `close_blocked` naming **every**
//!   blocker (`domain::closing`): each open investigation, the unanswered clawback question and
//!   the missing remediation plan (when the primary outcome found wrongdoing), the real-name
//!   reporters without feedback. No role overrides it. Two concurrent closes: the case's row
//!   lock and version make one 200 and one 409.
//! - `POST /cases/{id}/reopen` (supervisor, reason required): a concluded or closed case goes
//!   back to `filed` with its primary investigation open again (a new due date; the earlier
//!   conclusion, its findings and sanctions, stay on record, marked reopened); a filed case
//!   whose primary investigation is concluded stays filed and reopens it; a case closed without
//!   action returns to `registered`. Reopening does not touch the village's suspension, which
//!   lifts only by verified remediation.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::disposition::{apply, check_version};
use super::lifecycle::{open_investigation_due, reports_without_feedback};
use super::models::{CaseChanges, CaseRow, ClawbackStatementRow, InvestigationRow};
use super::REASON_MAX;
use super::{deadlines_of, due_on_for, required_text, visible_case, CaseError, Viewer};
use crate::audit::{self, Actor};
use crate::db::schema::{
    clawback_statements, investigation_conclusions, investigations, remediation_items, users,
};
use crate::db::{self, dialect, DbConnection};
use crate::domain::case_status::{
    self, CaseAction, CaseDeadlines, CaseStatus, InvalidTransition, Precondition,
};
use crate::domain::closing::{self, ClosingFacts};
use crate::domain::ids::{ClawbackStatementId, UserId};
use crate::domain::investigation::{self, InvestigationKind, InvestigationStatus};
use crate::error::{ApiError, ErrorCode, FieldViolation};

/// The body of `POST /cases/{id}/clawback-statement`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ClawbackStatementRequest {
    /// `true`: nobody was paid a benefit they were not entitled to. (Improper payments are
    /// recorded as clawbacks instead.)
    pub no_improper_payment: Option<bool>,
    /// Why (1–2,000 characters).
    pub reason: Option<String>,
}

/// A clawback statement, as answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClawbackStatement {
    pub id: String,
    pub case_id: String,
    pub no_improper_payment: bool,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: chrono::DateTime<Utc>,
}

/// The body of `POST /cases/{id}/close` and `/reopen` (supervisor).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CaseDecisionRequest {
    /// Why (1–2,000 characters).
    pub reason: Option<String>,
    /// The case's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// Whether case `case_id` has answered the clawback question: a clawback statement of no
/// improper payment is recorded. This is the one place the answer is read: the clawbacks
/// table (signer-based clawback, its own issue) joins here, so that a recorded clawback
/// answers it too.
///
/// Errors: any database error.
pub fn clawback_answered(conn: &mut DbConnection, case_id: &str) -> QueryResult<bool> {
    let statements: i64 = clawback_statements::table
        .filter(clawback_statements::case_id.eq(case_id))
        .filter(clawback_statements::no_improper_payment.eq(true))
        .count()
        .get_result(conn)?;
    Ok(statements > 0)
}

/// Whether case `case_id` has a remediation plan: at least one remediation item (SPEC.md →
/// "Remediation": a plan is its items).
///
/// Errors: any database error.
pub fn has_remediation_plan(conn: &mut DbConnection, case_id: &str) -> QueryResult<bool> {
    let items: i64 = remediation_items::table
        .filter(remediation_items::case_id.eq(case_id))
        .count()
        .get_result(conn)?;
    Ok(items > 0)
}

/// The investigations of `case_id`, the primary first.
fn investigations_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> QueryResult<Vec<InvestigationRow>> {
    let mut rows: Vec<InvestigationRow> = investigations::table
        .filter(investigations::case_id.eq(case_id))
        .select(InvestigationRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| (r.kind != InvestigationKind::Primary, r.created_at));
    Ok(rows)
}

/// What the closing rule looks at for case `case_id` (`domain::closing::ClosingFacts`).
///
/// Errors: any database error.
pub fn closing_facts(conn: &mut DbConnection, case_id: &str) -> QueryResult<ClosingFacts> {
    let rows = investigations_of_case(conn, case_id)?;
    let primary = rows.iter().find(|r| r.kind == InvestigationKind::Primary);
    Ok(ClosingFacts {
        open_investigations: rows
            .iter()
            .filter(|r| r.status == InvestigationStatus::Open)
            .map(|r| r.id.to_string())
            .collect(),
        primary_outcome: primary.and_then(|p| p.outcome),
        clawback_answered: clawback_answered(conn, case_id)?,
        has_remediation_plan: has_remediation_plan(conn, case_id)?,
        reports_without_feedback: reports_without_feedback(
            conn,
            case_id,
            primary.and_then(|p| p.concluded_at),
        )?,
    })
}

/// Records a clawback statement on case `id` as `viewer` (an investigator of the case's team
/// or a supervisor) at `now` (UTC), audited as `case.clawback_statement`.
///
/// Errors: `NotFound`/`Forbidden`; `Invalid` (422: `no_improper_payment` missing or false,
/// `reason` missing or too long); `CaseNotFiled` (409) unless the case is filed or concluded;
/// database errors.
pub fn record_clawback_statement(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &ClawbackStatementRequest,
    now: NaiveDateTime,
) -> Result<ClawbackStatement, CaseError> {
    let mut problems = Vec::new();
    match body.no_improper_payment {
        Some(true) => {}
        None => problems.push(FieldViolation::new(
            "no_improper_payment",
            ErrorCode::Required,
            "no_improper_payment: true is required",
        )),
        Some(false) => problems.push(FieldViolation::new(
            "no_improper_payment",
            ErrorCode::NotAllowed,
            "a statement says that no improper payment was made; record improper payments as \
             clawbacks (POST /api/v1/cases/{id}/clawbacks)",
        )),
    }
    let reason = required_text("reason", body.reason.as_deref(), REASON_MAX)
        .map_err(|e| problems.push(e))
        .ok();
    db::write_tx(conn, |conn| {
        let row = visible_case(conn, viewer, id)?;
        if !matches!(row.status, CaseStatus::Filed | CaseStatus::Concluded) {
            return Err(CaseError::CaseNotFiled);
        }
        let Some(reason) = reason.filter(|_| problems.is_empty()) else {
            return Err(CaseError::Invalid(problems));
        };
        let statement = ClawbackStatementRow {
            id: ClawbackStatementId::generate(),
            case_id: row.id.clone(),
            no_improper_payment: true,
            reason,
            recorded_by: UserId::from(viewer.user_id.as_str()),
            recorded_at: now,
        };
        diesel::insert_into(clawback_statements::table)
            .values(&statement)
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            "case.clawback_statement",
            "case",
            row.id.as_str(),
            serde_json::json!({
                "statement_id": statement.id,
                "no_improper_payment": true,
                "reason": statement.reason,
            }),
        )?;
        Ok(ClawbackStatement {
            id: statement.id.into_string(),
            case_id: statement.case_id.into_string(),
            no_improper_payment: statement.no_improper_payment,
            reason: statement.reason,
            recorded_by: statement.recorded_by.into_string(),
            recorded_at: statement.recorded_at.and_utc(),
        })
    })
}

/// The required `reason` of a close or reopen, as a 422.
fn reason_of(body: &CaseDecisionRequest) -> Result<String, CaseError> {
    required_text("reason", body.reason.as_deref(), REASON_MAX)
        .map_err(|e| CaseError::Invalid(vec![e]))
}

/// Closes case `id` as `viewer` (a supervisor; the handler checks) at `now` (UTC): only when
/// nothing blocks it, audited as `case.closed`.
///
/// Errors: `NotFound`/`Forbidden`; `VersionConflict` (409, also for the loser of two
/// concurrent closes); `InvalidTransition` (409) unless the case is filed or concluded;
/// `Invalid` (422: `reason`); `CloseBlocked` (409) with every blocker; database errors.
pub fn close(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &CaseDecisionRequest,
    now: NaiveDateTime,
) -> Result<CaseRow, CaseError> {
    db::write_tx(conn, |conn| {
        dialect::lock_case(conn, id)?;
        let row = visible_case(conn, viewer, id)?;
        check_version(&row, body.version)?;
        let to = case_status::transition(row.status, CaseAction::Close)?;
        let reason = reason_of(body)?;
        let blockers = closing::blockers(&closing_facts(conn, row.id.as_str())?);
        if !blockers.is_empty() {
            return Err(CaseError::CloseBlocked(blockers));
        }
        let changes = CaseChanges {
            closed_by: Some(Some(UserId::from(viewer.user_id.as_str()))),
            closed_at: Some(Some(now)),
            close_reason: Some(Some(reason.clone())),
            feedback_due: Some(None),
            investigation_due: Some(None),
            ..CaseChanges::new(
                to,
                row.version + 1,
                due_on_for(to, &deadlines_of(&row)),
                now,
            )
        };
        apply(
            conn,
            &row,
            &changes,
            actor,
            now,
            "case.closed",
            serde_json::json!({"from": row.status.as_str(), "to": to.as_str(), "reason": reason}),
        )
    })
}

/// The days a reopen needs.
#[derive(Debug, Clone, Copy)]
pub struct ReopenContext {
    pub today: NaiveDate,
    pub now: NaiveDateTime,
    /// `deadlines.investigation_days`: the reopened primary's new due date counts from today.
    pub investigation_days: u32,
}

/// Reopens case `id` as `viewer` (a supervisor; the handler checks), audited as `case.reopened`
/// (and `investigation.reopened` for the primary investigation), with the reopened primary's
/// assignee told by email (`investigation_reopened`, content-free).
///
/// Errors: `NotFound`/`Forbidden`; `VersionConflict` (409); `InvalidTransition` (409: the
/// status allows no reopen, or a filed case's primary investigation is still open); `Invalid`
/// (422: `reason`); database errors. Returns the case as changed.
pub fn reopen(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &CaseDecisionRequest,
    ctx: ReopenContext,
) -> Result<CaseRow, CaseError> {
    db::write_tx(conn, |conn| {
        dialect::lock_case(conn, id)?;
        let row = visible_case(conn, viewer, id)?;
        check_version(&row, body.version)?;
        let step = case_status::find(row.status, CaseAction::Reopen).ok_or_else(|| {
            CaseError::InvalidTransition(InvalidTransition {
                status: row.status,
                action: CaseAction::Reopen,
                allowed: case_status::allowed_actions(row.status),
            })
        })?;
        let reason = reason_of(body)?;
        let primary = investigations_of_case(conn, row.id.as_str())?
            .into_iter()
            .find(|r| r.kind == InvestigationKind::Primary);
        if step.precondition == Some(Precondition::PrimaryConcluded)
            && !primary
                .as_ref()
                .is_some_and(|p| p.status == InvestigationStatus::Concluded)
        {
            return Err(CaseError::InvalidTransition(InvalidTransition {
                status: row.status,
                action: CaseAction::Reopen,
                allowed: case_status::allowed_actions(row.status)
                    .into_iter()
                    .filter(|a| *a != CaseAction::Reopen)
                    .collect(),
            }));
        }
        let to = step.to;
        let mut reopened = None;
        if to == CaseStatus::Filed {
            if let Some(p) = primary.filter(|p| p.status == InvestigationStatus::Concluded) {
                reopened = Some(reopen_primary(conn, &row, &p, viewer, actor, &reason, ctx)?);
            }
        }
        let changes = if to == CaseStatus::Registered {
            CaseChanges {
                disposition: Some(None),
                disposition_reason: Some(None),
                review_on: Some(None),
                verification_due: Some(None),
                closed_by: Some(None),
                closed_at: Some(None),
                close_reason: Some(None),
                ..CaseChanges::new(
                    to,
                    row.version + 1,
                    due_on_for(
                        to,
                        &CaseDeadlines {
                            review_on: None,
                            verification_due: None,
                            ..deadlines_of(&row)
                        },
                    ),
                    ctx.now,
                )
            }
        } else {
            let investigation_due = open_investigation_due(conn, row.id.as_str())?;
            let deadlines = CaseDeadlines {
                feedback_due: None,
                investigation_due,
                ..deadlines_of(&row)
            };
            CaseChanges {
                feedback_due: Some(None),
                investigation_due: Some(investigation_due),
                closed_by: Some(None),
                closed_at: Some(None),
                close_reason: Some(None),
                ..CaseChanges::new(to, row.version + 1, due_on_for(to, &deadlines), ctx.now)
            }
        };
        apply(
            conn,
            &row,
            &changes,
            actor,
            ctx.now,
            "case.reopened",
            serde_json::json!({
                "from": row.status.as_str(),
                "to": to.as_str(),
                "reason": reason,
                "investigation_id": reopened,
            }),
        )
    })
}

/// Opens the concluded primary investigation `p` of case `row` again: status open, a new due
/// date, the current conclusion marked reopened (kept, with its sanctions); audited as
/// `investigation.reopened`; its assignee told by email. Returns its id.
fn reopen_primary(
    conn: &mut DbConnection,
    row: &CaseRow,
    p: &InvestigationRow,
    viewer: &Viewer,
    actor: &Actor,
    reason: &str,
    ctx: ReopenContext,
) -> Result<String, CaseError> {
    let due_on = investigation::due_after(ctx.today, ctx.investigation_days);
    let updated = diesel::update(
        investigations::table
            .filter(investigations::id.eq(p.id.as_str()))
            .filter(investigations::version.eq(p.version)),
    )
    .set(&super::models::InvestigationChanges {
        status: InvestigationStatus::Open,
        outcome: Some(None),
        findings: Some(None),
        concluded_by: Some(None),
        concluded_at: Some(None),
        due_on: Some(due_on),
        version: p.version + 1,
        updated_at: ctx.now,
    })
    .execute(conn)?;
    if updated != 1 {
        return Err(CaseError::InvestigationVersionConflict {
            current: p.version + 1,
        });
    }
    diesel::update(
        investigation_conclusions::table
            .filter(investigation_conclusions::investigation_id.eq(p.id.as_str()))
            .filter(investigation_conclusions::reopened_at.is_null()),
    )
    .set((
        investigation_conclusions::reopened_by.eq(Some(UserId::from(viewer.user_id.as_str()))),
        investigation_conclusions::reopened_at.eq(Some(ctx.now)),
        investigation_conclusions::reopen_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    audit::record(
        conn,
        ctx.now,
        actor,
        "investigation.reopened",
        "investigation",
        p.id.as_str(),
        serde_json::json!({
            "case_id": row.id,
            "case_number": row.number,
            "kind": p.kind.as_str(),
            "reason": reason,
            "previous_outcome": p.outcome.map(|o| o.as_str()),
            "due_on": due_on,
        }),
    )?;
    if let Some(user) = &p.assignee_id {
        let email: Option<Option<String>> = users::table
            .find(user.as_str())
            .select(users::email)
            .first(conn)
            .optional()?;
        if let Some(email) = email.flatten() {
            crate::notify::enqueue(
                conn,
                "investigation_reopened",
                &email,
                serde_json::json!({ "case_number": row.number }),
            )
            .map_err(|e| CaseError::Failed(ApiError::unexpected(e.into())))?;
        }
    }
    Ok(p.id.to_string())
}
