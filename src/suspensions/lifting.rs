//! Lifting (SPEC.md → "Suspensions"): a village's suspension lifts by itself, in the same
//! transaction as the supervisor's verification that completes the last blocking remediation
//! plan of that village; that supervisor is recorded as the one who lifted it. Nothing else
//! lifts it.
//!
//! The remediation capability calls [`clear_case`] in the verifying transaction when a case's
//! plan has just become complete. The case is marked cleared (event `case_cleared`); when no
//! case of the open suspension still blocks, the suspension is lifted (`lifted_at`,
//! `lifted_by`, event `lifted`, audit `suspension.lifted`) and its announcement is queued.
//! Otherwise the answer names the cases that still block.
//!
//! Clearing and filing lock the village first (`db::dialect::lock_division`), so a filing that
//! joins the suspension and a verification that would lift it run one after the other: the
//! lift never misses a case that joined, and two supervisors verifying the last plans of two
//! cases at once cannot both see the other case still blocking.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::{SuspensionEventRow, SuspensionRow};
use super::periods::{self, CASE_CLEARED};
use crate::audit::{self, Actor};
use crate::db::schema::{cases, suspension_cases, suspension_events, suspensions};
use crate::db::{dialect, DbConnection};
use crate::domain::ids::{CaseId, SuspensionEventId, SuspensionId, UserId};

/// What clearing a case did to its village's suspension (part of a verification's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Clearance {
    /// The suspension the case belongs to; null when it has none open.
    pub suspension_id: Option<String>,
    /// True when this verification lifted the village's suspension.
    pub lifted: bool,
    /// The filed cases (numbers) that still keep the village suspended; empty when lifted.
    pub still_blocking: Vec<String>,
}

/// Marks case `case_id` (its remediation plan just verified complete by `supervisor`, at `now`
/// UTC) cleared in its village's open suspension, and lifts the suspension when no other case
/// blocks it. Call inside the verifying `db::write_tx`. Idempotent for a case already cleared.
///
/// Errors: any database error (the caller's transaction then rolls back, lifting nothing).
pub fn clear_case(
    conn: &mut DbConnection,
    case_id: &CaseId,
    supervisor: &UserId,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Clearance> {
    let (village_code, number): (String, String) = cases::table
        .find(case_id.as_str())
        .select((cases::village_code, cases::number))
        .first(conn)?;
    dialect::lock_division(conn, &village_code)?;
    let open: Option<SuspensionRow> = suspensions::table
        .inner_join(suspension_cases::table)
        .filter(suspension_cases::case_id.eq(case_id.as_str()))
        .filter(suspensions::lifted_at.is_null())
        .select(SuspensionRow::as_select())
        .first(conn)
        .optional()?;
    let Some(suspension) = open else {
        return Ok(Clearance {
            suspension_id: None,
            lifted: false,
            still_blocking: Vec::new(),
        });
    };
    let cleared = cleared_cases(conn, &suspension.id)?;
    if !cleared.contains(case_id.as_str()) {
        record_event(
            conn,
            &suspension.id,
            CASE_CLEARED,
            Some(case_id),
            actor,
            now,
        )?;
        audit::record(
            conn,
            now,
            actor,
            "suspension.case_cleared",
            "suspension",
            suspension.id.as_str(),
            serde_json::json!({"case_id": case_id, "case_number": number}),
        )?;
    }
    let still_blocking = blocking_cases(conn, &suspension.id)?;
    let lifted = still_blocking.is_empty();
    if lifted {
        diesel::update(
            suspensions::table
                .find(suspension.id.as_str())
                .filter(suspensions::lifted_at.is_null()),
        )
        .set((
            suspensions::lifted_at.eq(Some(now)),
            suspensions::lifted_by.eq(Some(supervisor.clone())),
        ))
        .execute(conn)?;
        let event = record_event(conn, &suspension.id, "lifted", Some(case_id), actor, now)?;
        audit::record(
            conn,
            now,
            actor,
            "suspension.lifted",
            "suspension",
            suspension.id.as_str(),
            serde_json::json!({
                "village_code": village_code,
                "lifted_by": supervisor,
                "last_case_id": case_id,
                "last_case_number": number,
            }),
        )?;
        super::announce::queue(conn, &event)?;
    }
    periods::refresh(conn, &suspension.id)?;
    Ok(Clearance {
        suspension_id: Some(suspension.id.into_string()),
        lifted,
        still_blocking,
    })
}

/// The cases of suspension `id` whose plans were verified complete (`case_cleared` events).
fn cleared_cases(conn: &mut DbConnection, id: &SuspensionId) -> QueryResult<HashSet<String>> {
    Ok(suspension_events::table
        .filter(suspension_events::suspension_id.eq(id.as_str()))
        .filter(suspension_events::event.eq(CASE_CLEARED))
        .select(suspension_events::case_id)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

/// The numbers of the cases of suspension `id` not yet cleared, in the order they joined.
///
/// Errors: any database error.
pub fn blocking_cases(conn: &mut DbConnection, id: &SuspensionId) -> QueryResult<Vec<String>> {
    let cleared = cleared_cases(conn, id)?;
    let cases: Vec<(String, String)> = suspension_cases::table
        .inner_join(cases::table)
        .filter(suspension_cases::suspension_id.eq(id.as_str()))
        .order((suspension_cases::joined_at, cases::number))
        .select((cases::id, cases::number))
        .load(conn)?;
    Ok(cases
        .into_iter()
        .filter(|(case, _)| !cleared.contains(case))
        .map(|(_, number)| number)
        .collect())
}

/// Appends one event to suspension `id`'s history; returns its id.
fn record_event(
    conn: &mut DbConnection,
    id: &SuspensionId,
    event: &str,
    case_id: Option<&CaseId>,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<SuspensionEventId> {
    let event_id = SuspensionEventId::generate();
    diesel::insert_into(suspension_events::table)
        .values(SuspensionEventRow {
            id: event_id.clone(),
            suspension_id: id.clone(),
            event: event.to_string(),
            case_id: case_id.cloned(),
            actor: actor.as_text(),
            at: now,
        })
        .execute(conn)?;
    Ok(event_id)
}
