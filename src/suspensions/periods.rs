//! The rows the benefit-status API reads (`suspension_periods`, migration 000015): one per
//! suspension, holding its times and its cases (number, when each joined, when each was
//! cleared by a verified-complete remediation plan) as JSON, so that one indexed read answers
//! "is village X suspended, now or on day D, and by which cases?".
//!
//! The row is derived: [`refresh`] rebuilds it whole from `suspensions`, `suspension_cases`,
//! `cases` and the `case_cleared` events, inside every transaction that changes a suspension
//! (opening, a case joining, a case cleared, the lift). It is never the record itself.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{SuspensionPeriodRow, SuspensionRow, VillageRow};
use crate::db::schema::{
    cases, divisions, suspension_cases, suspension_events, suspension_periods,
};
use crate::db::DbConnection;
use crate::domain::benefit_status::{At, Period, PeriodCase};
use crate::domain::divisions::Level;
use crate::domain::ids::SuspensionId;

/// The suspension event that records a case's plan verified complete.
pub const CASE_CLEARED: &str = "case_cleared";

/// Rebuilds the period row of suspension `id` from the record (see the module docs). Call in
/// the transaction that changed the suspension.
///
/// Errors: any database error (also when the suspension does not exist).
pub fn refresh(conn: &mut DbConnection, id: &SuspensionId) -> QueryResult<()> {
    let suspension: SuspensionRow = crate::db::schema::suspensions::table
        .find(id.as_str())
        .select(SuspensionRow::as_select())
        .first(conn)?;
    let joined: Vec<(String, String, NaiveDateTime)> = suspension_cases::table
        .inner_join(cases::table)
        .filter(suspension_cases::suspension_id.eq(id.as_str()))
        .order((suspension_cases::joined_at, cases::number))
        .select((cases::id, cases::number, suspension_cases::joined_at))
        .load(conn)?;
    let cleared: HashMap<String, NaiveDateTime> = suspension_events::table
        .filter(suspension_events::suspension_id.eq(id.as_str()))
        .filter(suspension_events::event.eq(CASE_CLEARED))
        .select((suspension_events::case_id, suspension_events::at))
        .load::<(Option<String>, NaiveDateTime)>(conn)?
        .into_iter()
        .filter_map(|(case, at)| case.map(|c| (c, at)))
        .collect();
    let cases: Vec<PeriodCase> = joined
        .into_iter()
        .map(|(case_id, number, joined_at)| PeriodCase {
            cleared_at: cleared.get(&case_id).copied(),
            case_id,
            number,
            joined_at,
        })
        .collect();
    let row = SuspensionPeriodRow {
        suspension_id: suspension.id.clone(),
        village_code: suspension.village_code,
        started_at: suspension.started_at,
        lifted_at: suspension.lifted_at,
        cases: serde_json::to_string(&cases).expect("period cases serialise"),
    };
    let updated = diesel::update(suspension_periods::table.find(id.as_str()))
        .set((
            suspension_periods::lifted_at.eq(row.lifted_at),
            suspension_periods::cases.eq(&row.cases),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(suspension_periods::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

/// A period row read back as the pure [`Period`]. A `cases` text that does not parse (it
/// never should: only [`refresh`] writes it) reads as no cases, and is logged.
pub fn to_period(row: &SuspensionPeriodRow) -> Period {
    let cases = serde_json::from_str(&row.cases).unwrap_or_else(|e| {
        tracing::error!(suspension = %row.suspension_id, error = %e, "unreadable period cases");
        Vec::new()
    });
    Period {
        suspension_id: row.suspension_id.to_string(),
        started_at: row.started_at,
        lifted_at: row.lifted_at,
        cases,
    }
}

/// A village and the periods of its suspensions that touch `at`.
#[derive(Debug, Clone)]
pub struct VillagePeriods {
    pub village: VillageRow,
    pub periods: Vec<Period>,
}

/// The statement of the status read: `divisions` left-joined to the `suspension_periods` of the
/// village that touch the window `[$start, $end)`, villages matching `$codes` only.
macro_rules! status_query {
    ($codes:expr, $start:expr, $end:expr) => {
        divisions::table
            .left_join(
                suspension_periods::table.on(suspension_periods::village_code
                    .eq(divisions::code)
                    .and(suspension_periods::started_at.lt($end))
                    .and(
                        suspension_periods::lifted_at
                            .is_null()
                            .or(suspension_periods::lifted_at.gt($start)),
                    )),
            )
            .filter($codes)
            .filter(divisions::level.eq(Level::Village))
            .select((
                VillageRow::as_select(),
                Option::<SuspensionPeriodRow>::as_select(),
            ))
    };
}

/// The instants a period must touch to count at `at`: now is `[now, now + 1 µs)`.
fn window(at: At) -> (NaiveDateTime, NaiveDateTime) {
    match at.window() {
        (now, same) if now == same => (now, now + chrono::Duration::microseconds(1)),
        window => window,
    }
}

fn collect(
    rows: Vec<(VillageRow, Option<SuspensionPeriodRow>)>,
) -> HashMap<String, VillagePeriods> {
    let mut out: HashMap<String, VillagePeriods> = HashMap::with_capacity(rows.len());
    for (village, period) in rows {
        let entry = out
            .entry(village.code.clone())
            .or_insert_with(|| VillagePeriods {
                village,
                periods: Vec::new(),
            });
        if let Some(p) = period {
            entry.periods.push(to_period(&p));
        }
    }
    out
}

/// Village `code` (a village-level division) with its periods touching `at`, or `None` when no
/// village has this code: **one** statement through the primary key of `divisions` and the
/// `suspension_periods_village` index. Its shape never changes, so each pooled connection
/// prepares it once (diesel's statement cache).
///
/// Errors: any database error.
pub fn village_at(
    conn: &mut DbConnection,
    code: &str,
    at: At,
) -> QueryResult<Option<VillagePeriods>> {
    let (start, end) = window(at);
    let rows = status_query!(divisions::code.eq(code), start, end).load(conn)?;
    Ok(collect(rows).remove(code))
}

/// As [`village_at`] for many codes at once (a batch: one statement per call, `IN (…)`), by
/// code. Codes that are not villages on record are absent from the answer.
///
/// Errors: any database error.
pub fn villages_at(
    conn: &mut DbConnection,
    codes: &[&str],
    at: At,
) -> QueryResult<HashMap<String, VillagePeriods>> {
    let (start, end) = window(at);
    let rows = status_query!(divisions::code.eq_any(codes), start, end).load(conn)?;
    Ok(collect(rows))
}
