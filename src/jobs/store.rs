//! The `jobs` table's state changes: claim, release, done, failed, and insert-if-absent for
//! recurring jobs. The two backend-specific statements of the jobs system, the claim
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and `ON CONFLICT DO NOTHING`, are in
//! [`crate::db::dialect`] (`claim_jobs`, `insert_job_if_absent`).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{JobRow, RecurringJob, STATUS_DEAD, STATUS_DONE, STATUS_PENDING, STATUS_RUNNING};
use crate::db::schema::jobs;
use crate::db::{self, dialect, DbConnection};
use crate::domain::backoff::retry_delay;

/// Takes up to `batch` due jobs of the given kinds and leases them until `now + lease`: their
/// status becomes `running` and `attempts` goes up by one. Due means pending with `run_at` empty
/// or reached, or running with an expired lease (a worker that died mid-run). Oldest first.
pub fn claim_due(
    conn: &mut DbConnection,
    kinds: &[&str],
    now: NaiveDateTime,
    batch: i64,
    lease: Duration,
) -> QueryResult<Vec<JobRow>> {
    let lease_end = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
    let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    db::write_tx(conn, |conn| {
        let mut rows =
            dialect::claim_jobs(conn, &kinds, STATUS_PENDING, STATUS_RUNNING, now, batch)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        diesel::update(jobs::table.filter(jobs::id.eq_any(&ids)))
            .set((
                jobs::status.eq(STATUS_RUNNING),
                jobs::locked_until.eq(Some(lease_end)),
                jobs::attempts.eq(jobs::attempts + 1),
            ))
            .execute(conn)?;
        for row in &mut rows {
            row.attempts += 1;
            row.status = STATUS_RUNNING.to_string();
            row.locked_until = Some(lease_end);
        }
        Ok(rows)
    })
}

/// Gives claimed jobs back unrun: the try does not count.
pub fn release(conn: &mut DbConnection, ids: &[String]) -> QueryResult<()> {
    diesel::update(jobs::table.filter(jobs::id.eq_any(ids)))
        .set((
            jobs::status.eq(STATUS_PENDING),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::attempts.eq(jobs::attempts - 1),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn mark_done(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq(STATUS_DONE),
            jobs::finished_at.eq(Some(now)),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// How a failed try is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

/// After a failed try (`attempts` counts it): back off (`run_at` = now + base·2^(attempts−1),
/// capped) and stay pending, or go `dead` once `attempts` reaches the job's maximum. The error is
/// kept (first 2000 characters) either way. Returns whether the job is now dead.
pub fn mark_failed(
    conn: &mut DbConnection,
    job: &JobRow,
    error: &str,
    now: NaiveDateTime,
    policy: RetryPolicy,
) -> QueryResult<bool> {
    let error: String = error.chars().take(2000).collect();
    let max_attempts = job.max_attempts.unwrap_or(policy.max_attempts);
    if job.attempts >= max_attempts {
        diesel::update(jobs::table.find(&job.id))
            .set((
                jobs::status.eq(STATUS_DEAD),
                jobs::finished_at.eq(Some(now)),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(Some(error)),
            ))
            .execute(conn)?;
        return Ok(true);
    }
    let delay = retry_delay(job.attempts, policy.backoff_base, policy.backoff_max);
    let next = now + chrono::Duration::from_std(delay).unwrap_or_default();
    diesel::update(jobs::table.find(&job.id))
        .set((
            jobs::status.eq(STATUS_PENDING),
            jobs::run_at.eq(Some(next)),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(false)
}

/// Queues the run of `job` for `period` unless one exists already (UNIQUE (kind, period)).
/// Returns whether this call queued it. Safe to call from every instance at once.
pub fn insert_recurring_if_absent(
    conn: &mut DbConnection,
    job: &RecurringJob,
    period: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = JobRow {
        id: uuid::Uuid::new_v4().to_string(),
        kind: job.kind.to_string(),
        payload: job.payload.clone(),
        status: STATUS_PENDING.to_string(),
        attempts: 0,
        max_attempts: None,
        run_at: None,
        locked_until: None,
        last_error: None,
        period: Some(period.to_string()),
        created_at: now,
        finished_at: None,
    };
    dialect::insert_job_if_absent(conn, &row)
}
