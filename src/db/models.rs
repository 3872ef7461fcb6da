//! Rows of the infrastructure tables that the backend-specific statements in [`super::dialect`]
//! read and write: `jobs`, `counters` and the audit chain head. They live here, below the capabilities, so the db layer
//! never imports from a capability (`jobs` and `reports` re-export them).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_chain_head, counters, jobs};

/// One row of the `jobs` table.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    /// The job's value as JSON text.
    pub payload: String,
    pub status: String,
    /// Tries so far, counting the one in progress.
    pub attempts: i32,
    /// Tries before `dead`; `None` means the configured `jobs.max_attempts`.
    pub max_attempts: Option<i32>,
    /// Not run before this instant; `None` means as soon as possible.
    pub run_at: Option<NaiveDateTime>,
    /// While `running`: no other worker claims the job before this instant.
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    /// For recurring jobs: the period this run belongs to (see `domain::schedule`).
    pub period: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// A named counter (report numbers per year).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = counters)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct CounterRow {
    pub name: String,
    pub value: i64,
}

/// The head of the chain: the last sequence number and hash. Also its update.
#[derive(Debug, Clone, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = audit_chain_head)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ChainHeadRow {
    pub last_seq: i64,
    pub last_hash: String,
}
