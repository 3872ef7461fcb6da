//! Village benefit suspensions (暂停涉农优惠政策; SPEC.md rule 4 and "Suspension"): filing a
//! case suspends every agriculture-related preferential policy of its village, in the filing's
//! own transaction. This module holds the record and its history; the status API, the public
//! page and lifting by verified remediation build on it (issue 12: `periods`, `lifting`,
//! `announce`, `webhooks`, `routes`; the public page is `web::suspensions`).
//!
//! A village has at most one open suspension (a partial UNIQUE index on `village_code` where
//! `lifted_at` is NULL); a filing in a village already suspended joins the open suspension.
//! Filings in one village are serialised by `db::dialect::lock_division`, so two concurrent
//! filings never race to open two. Every change is a `suspension_events` row and an audit entry
//! (`entity_type` `suspension`, the case named in `details`).

pub mod announce;
pub mod bench_data;
pub mod lifting;
pub mod models;
pub mod periods;
pub mod routes;
pub mod state;
pub mod webhooks;

pub use state::SuspensionsState;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::{self, Actor};
use crate::db::schema::{suspension_cases, suspension_events, suspensions};
use crate::db::{dialect, DbConnection};
use crate::domain::ids::{CaseId, SuspensionEventId, SuspensionId};
use models::{SuspensionCaseRow, SuspensionEventRow, SuspensionRow};

/// What filing did to the village's suspension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspended {
    pub suspension_id: SuspensionId,
    /// True when this filing opened it; false when the case joined an open one.
    pub opened: bool,
}

/// The open suspension of `village_code`, if any.
///
/// Errors: any database error.
pub fn open_suspension(
    conn: &mut DbConnection,
    village_code: &str,
) -> QueryResult<Option<SuspensionRow>> {
    suspensions::table
        .filter(suspensions::village_code.eq(village_code))
        .filter(suspensions::lifted_at.is_null())
        .select(SuspensionRow::as_select())
        .first(conn)
        .optional()
}

/// Suspends `village_code` for the filed case `case_id` at `now` (UTC), as `actor`: opens the
/// village's suspension (event `opened`, audit `suspension.opened`) or, when one is open, adds
/// the case to it (event `case_joined`, audit `suspension.case_joined`). Call inside the
/// filing's `db::write_tx`; it locks the village first.
///
/// Errors: any database error (the caller's transaction then rolls back, leaving nothing).
pub fn suspend_for_case(
    conn: &mut DbConnection,
    village_code: &str,
    case_id: &CaseId,
    case_number: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Suspended> {
    dialect::lock_division(conn, village_code)?;
    let (suspension_id, opened) = match open_suspension(conn, village_code)? {
        Some(open) => (open.id, false),
        None => {
            let id = SuspensionId::generate();
            diesel::insert_into(suspensions::table)
                .values(SuspensionRow {
                    id: id.clone(),
                    village_code: village_code.to_string(),
                    started_at: now,
                    lifted_at: None,
                    lifted_by: None,
                })
                .execute(conn)?;
            (id, true)
        }
    };
    diesel::insert_into(suspension_cases::table)
        .values(SuspensionCaseRow {
            suspension_id: suspension_id.clone(),
            case_id: case_id.clone(),
            joined_at: now,
        })
        .execute(conn)?;
    let event = if opened { "opened" } else { "case_joined" };
    let event_id = SuspensionEventId::generate();
    diesel::insert_into(suspension_events::table)
        .values(SuspensionEventRow {
            id: event_id.clone(),
            suspension_id: suspension_id.clone(),
            event: event.to_string(),
            case_id: Some(case_id.clone()),
            actor: actor.as_text(),
            at: now,
        })
        .execute(conn)?;
    audit::record(
        conn,
        now,
        actor,
        &format!("suspension.{event}"),
        "suspension",
        suspension_id.as_str(),
        serde_json::json!({
            "village_code": village_code,
            "case_id": case_id,
            "case_number": case_number,
        }),
    )?;
    // Issue 12: the status API's period row, and an opening announced to the benefit offices
    // and webhook subscribers (through the jobs system).
    periods::refresh(conn, &suspension_id)?;
    if opened {
        announce::queue(conn, &event_id)?;
    }
    Ok(Suspended {
        suspension_id,
        opened,
    })
}

/// The suspension case `case_id` belongs to: the open one when there is one, else the latest.
///
/// Errors: any database error.
pub fn suspension_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> QueryResult<Option<SuspensionId>> {
    suspension_cases::table
        .inner_join(suspensions::table)
        .filter(suspension_cases::case_id.eq(case_id))
        .order((
            suspensions::lifted_at.is_null().desc(),
            suspensions::started_at.desc(),
        ))
        .select(suspensions::id)
        .first(conn)
        .optional()
}
