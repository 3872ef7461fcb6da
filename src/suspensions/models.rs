//! The rows of `suspensions`, `suspension_cases` and `suspension_events` (migration 000011).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{suspension_cases, suspension_events, suspensions};
use crate::domain::ids::{CaseId, SuspensionEventId, SuspensionId, UserId};

/// A village's suspension, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspensions)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionRow {
    pub id: SuspensionId,
    pub village_code: String,
    pub started_at: NaiveDateTime,
    pub lifted_at: Option<NaiveDateTime>,
    pub lifted_by: Option<UserId>,
}

/// A filed case behind a suspension.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspension_cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionCaseRow {
    pub suspension_id: SuspensionId,
    pub case_id: CaseId,
    pub joined_at: NaiveDateTime,
}

/// One event of a suspension's history: `opened`, `case_joined` or `lifted`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspension_events)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionEventRow {
    pub id: SuspensionEventId,
    pub suspension_id: SuspensionId,
    pub event: String,
    pub case_id: Option<CaseId>,
    /// The audit actor text (`user:<id>`, `system`, …).
    pub actor: String,
    pub at: NaiveDateTime,
}
