//! Dispositions (Art 17) and filing decisions: the changes of a case's status that this issue
//! exposes. Which change is allowed is `domain::case_status::transition`; each change is one
//! conditional `UPDATE … WHERE id = ? AND version = ?` in a write transaction with its audit
//! entry, so of two concurrent changes from one version exactly one wins (409
//! `version_conflict` for the other) on both backends.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::lifecycle::{open_on_filing, FilingContext, FilingEffects};
use super::models::{CaseChanges, CaseRow};
use super::{
    deadlines_of, due_on_with_objections, optional_text, required_text, visible_case, CaseError,
    Viewer,
};
use crate::audit::{self, Actor};
use crate::db::schema::cases;
use crate::db::{self, DbConnection};
use crate::domain::case_status::{self, CaseAction, CaseDeadlines, Disposition};
use crate::domain::ids::UserId;
use crate::error::{ErrorCode, FieldViolation};

/// The body of `POST /cases/{id}/disposition`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DispositionRequest {
    /// `inquiry | preliminary_verification | on_hold | close_without_action | file`.
    pub disposition: String,
    /// Required for `close_without_action` (the reporter sees it); optional otherwise.
    pub reason: Option<String>,
    /// `YYYY-MM-DD` (county date, after today and within ten years): required for `on_hold`; the case's review
    /// deadline.
    pub review_on: Option<String>,
    /// The case's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// The body of `POST /cases/{id}/filing-decision` (supervisor).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FilingDecisionRequest {
    /// `true` files the case (立案); `false` returns it to preliminary verification.
    pub approve: bool,
    pub reason: Option<String>,
    pub version: Option<i32>,
}

const REASON_MAX: usize = 2000;
/// The furthest review date accepted for a case on hold.
const REVIEW_HORIZON: chrono::Days = chrono::Days::new(3653);

/// The days and limits a change needs: `today` in the county and the configured length of a
/// preliminary verification.
#[derive(Debug, Clone, Copy)]
pub struct ChangeContext {
    pub today: NaiveDate,
    pub now: NaiveDateTime,
    pub preliminary_verification_days: u32,
}

/// Gives case `id` the disposition in `body`, as `viewer` (an investigator of the case's team
/// or a supervisor). `preliminary_verification` sets `verification_due` = today (county) +
/// `preliminary_verification_days` calendar days; `on_hold` takes `review_on` as its deadline;
/// `file` asks a supervisor for filing (`filing_requested`).
///
/// Errors: `NotFound`/`Forbidden` (404/403); `Invalid` (422: unknown disposition, missing
/// `reason` for `close_without_action`, missing or past `review_on` for `on_hold`);
/// `InvalidTransition` (409, with the allowed actions); `VersionConflict` (409); database
/// errors. Returns the changed case row.
pub fn dispose(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &DispositionRequest,
    ctx: ChangeContext,
) -> Result<CaseRow, CaseError> {
    let Some(disposition) = Disposition::parse(&body.disposition) else {
        return Err(CaseError::Invalid(vec![FieldViolation::new(
            "disposition",
            ErrorCode::UnknownValue,
            format!("disposition is one of {}", Disposition::names()),
        )]));
    };
    db::write_tx(conn, |conn| {
        let row = visible_case(conn, viewer, id)?;
        // A stale version is the first thing a loser of a race hears, whatever the case's new
        // status would make of its action.
        check_version(&row, body.version)?;
        let to = case_status::transition(row.status, CaseAction::Dispose(disposition))?;
        let mut problems = Vec::new();
        let reason = match disposition {
            Disposition::CloseWithoutAction => {
                required_text("reason", body.reason.as_deref(), REASON_MAX)
                    .map(Some)
                    .map_err(|e| problems.push(e))
                    .ok()
                    .flatten()
            }
            _ => optional_text("reason", body.reason.as_deref(), REASON_MAX)
                .map_err(|e| problems.push(e))
                .ok()
                .flatten(),
        };
        let review_on = match (disposition, body.review_on.as_deref()) {
            (Disposition::OnHold, None) => {
                problems.push(FieldViolation::new(
                    "review_on",
                    ErrorCode::Required,
                    "review_on (YYYY-MM-DD) is required to put a case on hold",
                ));
                None
            }
            (_, None) => None,
            (_, Some(text)) => match crate::domain::text::parse_date(text).ok_or(()) {
                Ok(date) if date > ctx.today && date <= ctx.today + REVIEW_HORIZON => Some(date),
                Ok(_) => {
                    problems.push(FieldViolation::new(
                        "review_on",
                        ErrorCode::OutOfRange,
                        "review_on must be after today (county date) and within ten years",
                    ));
                    None
                }
                Err(_) => {
                    problems.push(FieldViolation::new(
                        "review_on",
                        ErrorCode::InvalidDate,
                        "review_on is a date, YYYY-MM-DD",
                    ));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(CaseError::Invalid(problems));
        }
        let verification_due = match disposition {
            Disposition::PreliminaryVerification => Some(case_status::verification_due(
                ctx.today,
                ctx.preliminary_verification_days,
            )),
            _ => row.verification_due,
        };
        let review_on = if disposition == Disposition::OnHold {
            review_on
        } else {
            row.review_on
        };
        let deadlines = CaseDeadlines {
            verification_due,
            review_on,
            ..deadlines_of(&row)
        };
        let changes = CaseChanges {
            disposition: Some(Some(disposition)),
            disposition_reason: Some(reason.clone()),
            review_on: Some(review_on),
            verification_due: Some(verification_due),
            ..CaseChanges::new(
                to,
                row.version + 1,
                due_on_with_objections(conn, row.id.as_str(), to, &deadlines)?,
                ctx.now,
            )
        };
        apply(
            conn,
            &row,
            &changes,
            actor,
            ctx.now,
            "case.disposition",
            serde_json::json!({
                "disposition": disposition.as_str(),
                "from": row.status.as_str(),
                "to": to.as_str(),
                "reason": reason,
                "review_on": review_on,
                "verification_due": verification_due,
            }),
        )
    })
}

/// Decides a filing request on case `id` as a supervisor: approve → `filed`, reject → back to
/// `preliminary_verification` (keeping its verification date, or starting one from today).
/// Approving also opens, in the same transaction, what filing sets off
/// (`super::lifecycle::open_on_filing`: the primary and accountability investigations, their
/// audit entries and emails, the village's suspension), whose effects are returned; a failure
/// anywhere leaves nothing behind.
///
/// Errors: as [`dispose`]; `InvalidTransition` unless the case is `filing_requested`.
pub fn decide_filing(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &FilingDecisionRequest,
    ctx: ChangeContext,
    filing: &FilingContext,
) -> Result<(CaseRow, Option<FilingEffects>), CaseError> {
    let reason = optional_text("reason", body.reason.as_deref(), REASON_MAX)
        .map_err(|e| CaseError::Invalid(vec![e]))?;
    let action = if body.approve {
        CaseAction::ApproveFiling
    } else {
        CaseAction::RejectFiling
    };
    db::write_tx(conn, |conn| {
        let row = visible_case(conn, viewer, id)?;
        check_version(&row, body.version)?;
        let to = case_status::transition(row.status, action)?;
        let verification_due = if body.approve {
            row.verification_due
        } else {
            Some(row.verification_due.unwrap_or_else(|| {
                case_status::verification_due(ctx.today, ctx.preliminary_verification_days)
            }))
        };
        let investigation_due = if body.approve {
            let (primary, accountability) = filing.due_dates(&row);
            Some(accountability.map_or(primary, |a| a.min(primary)))
        } else {
            row.investigation_due
        };
        let deadlines = CaseDeadlines {
            verification_due,
            investigation_due,
            ..deadlines_of(&row)
        };
        let changes = CaseChanges {
            verification_due: Some(verification_due),
            investigation_due: Some(investigation_due),
            filing_decided_by: Some(Some(UserId::from(viewer.user_id.as_str()))),
            filing_decided_at: Some(Some(ctx.now)),
            filing_decision_reason: Some(reason.clone()),
            ..CaseChanges::new(
                to,
                row.version + 1,
                due_on_with_objections(conn, row.id.as_str(), to, &deadlines)?,
                ctx.now,
            )
        };
        let changed = apply(
            conn,
            &row,
            &changes,
            actor,
            ctx.now,
            if body.approve {
                "case.filing_approved"
            } else {
                "case.filing_rejected"
            },
            serde_json::json!({"from": row.status.as_str(), "to": to.as_str(), "reason": reason}),
        )?;
        let effects = if body.approve {
            Some(open_on_filing(conn, &changed, actor, filing)?)
        } else {
            None
        };
        Ok((changed, effects))
    })
}

/// 409 `version_conflict` when the client sent a version that is not the case's.
pub(super) fn check_version(row: &CaseRow, sent: Option<i32>) -> Result<(), CaseError> {
    match sent {
        Some(v) if v != row.version => Err(CaseError::VersionConflict {
            current: row.version,
        }),
        _ => Ok(()),
    }
}

/// Writes `changes` only if the case is still at `row.version`, records the audit entry, and
/// returns the case as changed.
///
/// Errors: `VersionConflict` (409) when another change got there first; database errors.
pub(super) fn apply(
    conn: &mut DbConnection,
    row: &CaseRow,
    changes: &CaseChanges,
    actor: &Actor,
    now: NaiveDateTime,
    action: &str,
    details: serde_json::Value,
) -> Result<CaseRow, CaseError> {
    let updated = diesel::update(
        cases::table
            .filter(cases::id.eq(row.id.as_str()))
            .filter(cases::version.eq(row.version)),
    )
    .set(changes)
    .execute(conn)?;
    if updated != 1 {
        let current: i32 = cases::table
            .find(row.id.as_str())
            .select(cases::version)
            .first(conn)?;
        return Err(CaseError::VersionConflict { current });
    }
    audit::record(conn, now, actor, action, "case", row.id.as_str(), details)?;
    Ok(cases::table
        .find(row.id.as_str())
        .select(CaseRow::as_select())
        .first(conn)?)
}
