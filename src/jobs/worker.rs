//! The jobs worker: queues the current period of each recurring job, claims due jobs, runs them
//! and records the outcome. One per instance; any number of instances may share a database.
//!
//! Tests drive it without waiting: [`Worker::run_once`] does one whole pass, and
//! [`Worker::wake`] cuts the idle wait of the background loop short.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use tokio::sync::{watch, Notify};

use super::store::{self, RetryPolicy};
use super::{JobContext, JobRow, Registry};
use crate::clock::Clock;
use crate::db::{DbConnection, DbPool};
use crate::settings::JobSettings;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    /// Recurring runs this pass queued (others may have been queued by other instances).
    pub scheduled: usize,
    pub claimed: usize,
    pub done: usize,
    pub failed: usize,
}

pub struct Worker {
    pool: DbPool,
    clock: Clock,
    settings: JobSettings,
    registry: Registry,
    wake: Notify,
    /// The last period queued per recurring kind, so a pass inserts only when a period turns.
    queued_periods: Mutex<HashMap<&'static str, String>>,
}

impl Worker {
    pub fn new(pool: DbPool, clock: Clock, settings: JobSettings, registry: Registry) -> Worker {
        Worker {
            pool,
            clock,
            settings,
            registry,
            wake: Notify::new(),
            queued_periods: Mutex::new(HashMap::new()),
        }
    }

    /// Passes until `shutdown` turns true, waiting `jobs.poll_interval_ms` (or a [`Worker::wake`])
    /// after a pass that found nothing.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(kinds = ?self.registry.kinds(), "jobs worker started");
        let idle = Duration::from_millis(self.settings.poll_interval_ms);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed = match self.run_once().await {
                Ok(report) => report.claimed,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "jobs pass failed");
                    0
                }
            };
            if claimed == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = self.wake.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!("jobs worker stopped");
    }

    /// Ends the idle wait of the background loop now (e.g. after a test moved the clock).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One pass: queue due recurring runs, then claim, run and record up to `jobs.batch_size`
    /// due jobs. Errors: database errors (a failing job is recorded, not an error).
    pub async fn run_once(&self) -> anyhow::Result<PassReport> {
        let mut report = PassReport {
            scheduled: self.schedule_recurring().await?,
            ..PassReport::default()
        };
        let kinds = self.registry.kinds();
        if kinds.is_empty() {
            return Ok(report);
        }
        let batch = self.settings.batch_size;
        let lease = Duration::from_secs(self.settings.lease_secs);
        let run_timeout = Duration::from_secs(self.settings.run_timeout_secs);
        let now = self.clock.now_naive();
        let claimed_at = std::time::Instant::now();
        let jobs = self
            .blocking(move |conn| store::claim_due(conn, &kinds, now, batch, lease))
            .await?;
        report.claimed = jobs.len();
        // Never start a run that could outlast the lease: another instance may claim the job
        // once it has expired. Jobs not reached in time are released for the next pass.
        let start_deadline = lease.saturating_sub(run_timeout * 2);
        for (index, job) in jobs.iter().enumerate() {
            if claimed_at.elapsed() >= start_deadline {
                let rest: Vec<String> = jobs[index..].iter().map(|j| j.id.clone()).collect();
                tracing::warn!(released = rest.len(), "jobs lease running out; releasing");
                self.blocking(move |conn| store::release(conn, &rest))
                    .await?;
                break;
            }
            if self.run_job(job, run_timeout).await? {
                report.done += 1;
            } else {
                report.failed += 1;
            }
        }
        Ok(report)
    }

    /// Runs one claimed job and records the outcome. Returns whether it succeeded.
    async fn run_job(&self, job: &JobRow, run_timeout: Duration) -> anyhow::Result<bool> {
        let max_attempts = job.max_attempts.unwrap_or(self.settings.max_attempts);
        let outcome = if job.attempts > max_attempts {
            // Claimed again after its last attempt's lease ran out (the worker died mid-run).
            Err(anyhow::anyhow!("the lease of the last attempt ran out"))
        } else {
            match self.registry.handler(&job.kind) {
                None => Err(anyhow::anyhow!("no handler for kind {:?}", job.kind)),
                Some(handler) => {
                    let ctx = JobContext {
                        id: job.id.clone(),
                        attempt: job.attempts,
                        period: job.period.clone(),
                        pool: self.pool.clone(),
                        clock: self.clock.clone(),
                    };
                    match tokio::time::timeout(run_timeout, handler(&job.payload, ctx)).await {
                        Ok(result) => result,
                        Err(_) => Err(anyhow::anyhow!(
                            "the run took longer than {}s",
                            run_timeout.as_secs()
                        )),
                    }
                }
            }
        };
        let id = job.id.clone();
        let now = self.clock.now_naive();
        match outcome {
            Ok(()) => {
                tracing::info!(job_id = %id, kind = %job.kind, attempt = job.attempts, "job done");
                self.blocking(move |conn| store::mark_done(conn, &id, now))
                    .await?;
                Ok(true)
            }
            Err(e) => {
                let error = format!("{e:#}");
                let policy = RetryPolicy {
                    max_attempts: self.settings.max_attempts,
                    backoff_base: Duration::from_secs(self.settings.backoff_base_secs),
                    backoff_max: Duration::from_secs(self.settings.backoff_max_secs),
                };
                let row = job.clone();
                let logged = error.clone();
                let dead = self
                    .blocking(move |conn| store::mark_failed(conn, &row, &error, now, policy))
                    .await?;
                if dead {
                    tracing::error!(job_id = %id, kind = %job.kind, attempts = job.attempts,
                        error = %logged, "job dead after its last attempt");
                } else {
                    tracing::warn!(job_id = %id, kind = %job.kind, attempt = job.attempts,
                        error = %logged, "job failed; will retry");
                }
                Ok(false)
            }
        }
    }

    /// Queues the current period of every recurring job this worker has not queued yet.
    /// Returns how many runs this call inserted (zero when another instance was first).
    async fn schedule_recurring(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let due: Vec<(super::RecurringJob, String)> = {
            let queued = self
                .queued_periods
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.registry
                .recurring_jobs()
                .iter()
                .map(|job| (job.clone(), job.schedule.period_key(now)))
                .filter(|(job, period)| queued.get(job.kind) != Some(period))
                .collect()
        };
        if due.is_empty() {
            return Ok(0);
        }
        let now = now.naive_utc();
        let work = due.clone();
        let inserted = self
            .blocking(move |conn| {
                let mut inserted = 0;
                for (job, period) in &work {
                    if store::insert_recurring_if_absent(conn, job, period, now)? {
                        tracing::info!(kind = job.kind, period = %period, "recurring job queued");
                        inserted += 1;
                    }
                }
                Ok(inserted)
            })
            .await?;
        let mut queued = self
            .queued_periods
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (job, period) in due {
            queued.insert(job.kind, period);
        }
        Ok(inserted)
    }

    async fn blocking<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            Ok(f(&mut conn)?)
        })
        .await?
    }
}
