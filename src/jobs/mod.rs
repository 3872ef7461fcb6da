//! Background jobs, in the manner of crates.io's `crates_io_worker`: one `jobs` table; each row
//! has a kind, a JSON payload, attempts, a backoff (`run_at`), a lease (`locked_until`) and a
//! status (`pending` → `running` → `done`, or `dead` once its attempts are used up).
//!
//! - **Enqueue** with [`enqueue`] inside the caller's transaction: the job exists exactly when
//!   the change that asked for it commits.
//! - **Kinds**: each kind is a type implementing [`Job`] (its `KIND` and `run`), registered once in
//!   a [`Registry`]. Email is the kind `email` (`crate::notify::EmailJob`). A worker only claims
//!   kinds it has registered, so an instance without SMTP leaves emails pending for one with it.
//! - **Recurring** jobs ([`Registry::recurring`]) are queued once per period of their
//!   [`Schedule`](crate::domain::schedule::Schedule), keyed by the UNIQUE (kind, period) column
//!   pair and inserted if absent: exactly once per period however many instances run.
//! - The [`worker::Worker`] claims due jobs (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: under
//!   the `BEGIN IMMEDIATE` write lock), runs them, and records the outcome.

pub mod store;
pub mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use diesel::prelude::*;
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::clock::Clock;
use crate::db::schema::jobs;
use crate::db::{DbConnection, DbPool};
use crate::domain::schedule::Schedule;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_RUNNING: &str = "running";
pub const STATUS_DONE: &str = "done";
pub const STATUS_DEAD: &str = "dead";

pub use crate::db::models::JobRow;

/// What a running job is told about itself and may use.
#[derive(Clone)]
pub struct JobContext {
    /// The job's id: stable across retries (emails use it as their Message-ID).
    pub id: String,
    /// Which try this is, from 1.
    pub attempt: i32,
    /// The period of a recurring job.
    pub period: Option<String>,
    pub pool: DbPool,
    pub clock: Clock,
}

/// A kind of background job. The value itself is the payload (stored as JSON), so a job carries
/// everything it needs except the shared `State` given at registration (a mailer, an HTTP
/// client). A failed `run` is retried with backoff; it must therefore be safe to run again.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// The stored `kind`. Never rename a kind that may have rows queued.
    const KIND: &'static str;
    /// Shared state handed to every run of this kind.
    type State: Send + Sync + 'static;

    fn run(
        self,
        state: Arc<Self::State>,
        ctx: JobContext,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

type Handler =
    Arc<dyn Fn(&str, JobContext) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// A job queued once per period of its schedule.
#[derive(Debug, Clone)]
pub struct RecurringJob {
    pub kind: &'static str,
    pub schedule: Schedule,
    pub payload: String,
}

/// The kinds this instance runs, and its recurring jobs. Built once at start-up
/// (`startup::Application`), where the next features add their kinds.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
    recurring: Vec<RecurringJob>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Runs jobs of kind `J::KIND` with `state`. Registering a kind twice replaces the first.
    pub fn register<J: Job>(&mut self, state: J::State) -> &mut Self {
        let state = Arc::new(state);
        let handler: Handler = Arc::new(move |payload: &str, ctx: JobContext| {
            let parsed = serde_json::from_str::<J>(payload);
            let state = state.clone();
            Box::pin(async move {
                let job = parsed.map_err(|e| {
                    anyhow::anyhow!("the payload is not a valid {} job: {e}", J::KIND)
                })?;
                job.run(state, ctx).await
            })
        });
        self.handlers.insert(J::KIND, handler);
        self
    }

    /// Queues `job` once per period of `schedule` (its kind must be registered too). Only the
    /// period current at each check is queued: a period that passed while every instance was
    /// down is not made up later, but the current one runs at the next start.
    pub fn recurring<J: Job>(&mut self, schedule: Schedule, job: &J) -> &mut Self {
        let payload = serde_json::to_string(job).expect("a job serialises to JSON");
        self.recurring.retain(|r| r.kind != J::KIND);
        self.recurring.push(RecurringJob {
            kind: J::KIND,
            schedule,
            payload,
        });
        self
    }

    /// The kinds this registry can run.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    pub fn recurring_jobs(&self) -> &[RecurringJob] {
        &self.recurring
    }

    fn handler(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }
}

/// Queues `job` to run as soon as a worker is free, in the caller's transaction (call inside
/// `db::write_tx` together with the change that asked for it). Returns the new job's id.
/// Errors: the insert's database error.
pub fn enqueue<J: Job>(conn: &mut DbConnection, job: &J) -> QueryResult<String> {
    enqueue_raw(
        conn,
        J::KIND,
        &serde_json::to_value(job).expect("a job serialises to JSON"),
    )
}

/// [`enqueue`] by kind name and payload, for callers that do not hold the job type. A kind no
/// worker registers stays `pending`.
pub fn enqueue_raw(
    conn: &mut DbConnection,
    kind: &str,
    payload: &serde_json::Value,
) -> QueryResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    // Queuing needs no clock: the job is due at once (`run_at` NULL). `created_at` is a record
    // for operators, taken from the system clock.
    let row = JobRow {
        id: id.clone(),
        kind: kind.to_string(),
        payload: payload.to_string(),
        status: STATUS_PENDING.to_string(),
        attempts: 0,
        max_attempts: None,
        run_at: None,
        locked_until: None,
        last_error: None,
        period: None,
        created_at: Clock::system().now_naive(),
        finished_at: None,
    };
    diesel::insert_into(jobs::table)
        .values(&row)
        .execute(conn)?;
    Ok(id)
}
