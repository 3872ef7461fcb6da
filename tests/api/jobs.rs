//! The jobs system under a frozen clock: once per period across instances, retries that wait
//! for their backoff, dead-lettering, the lease, and a missed period run at the next start.
//! Workers are driven with `run_once` (their background loop off) so nothing waits for time.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use probity::audit::{self, Actor};
use probity::clock::Clock;
use probity::db::schema::{audit_events, jobs};
use probity::db::{self, Backend};
use probity::domain::schedule::Schedule;
use probity::jobs::{self as jobs_mod, Job, JobContext, JobRow, Registry, STATUS_DEAD};
use probity::jobs::{STATUS_DONE, STATUS_PENDING};
use serde::{Deserialize, Serialize};

use crate::helpers::{app, eventually, TestApp, TestAppBuilder};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        two_instances_run_a_daily_job_once_per_day,
        a_failing_job_waits_for_its_backoff,
        a_job_that_keeps_failing_is_dead_after_max_attempts,
        a_job_whose_lease_ran_out_is_run_again,
        a_period_missed_while_down_runs_at_the_next_start,
    ]
}

/// A daily probe: each run leaves one audit entry naming its period.
#[derive(Serialize, Deserialize)]
struct DailyProbe {}

impl Job for DailyProbe {
    const KIND: &'static str = "test_daily_probe";
    type State = ();

    async fn run(self, _: Arc<()>, ctx: JobContext) -> anyhow::Result<()> {
        let period = ctx.period.clone().unwrap_or_default();
        let pool = ctx.pool.clone();
        let at = ctx.clock.now_naive();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            db::write_tx(&mut conn, |conn| {
                audit::record(
                    conn,
                    at,
                    &Actor::System,
                    "test.daily_probe_ran",
                    "job_period",
                    &period,
                    serde_json::json!({}),
                )
            })?;
            Ok(())
        })
        .await?
    }
}

/// Fails its first `failures` attempts, then succeeds.
#[derive(Serialize, Deserialize)]
struct Flaky {
    failures: i32,
}

impl Job for Flaky {
    const KIND: &'static str = "test_flaky";
    type State = ();

    async fn run(self, _: Arc<()>, ctx: JobContext) -> anyhow::Result<()> {
        if ctx.attempt <= self.failures {
            anyhow::bail!("planned failure {}", ctx.attempt);
        }
        Ok(())
    }
}

fn probes(registry: &mut Registry) {
    registry
        .register::<DailyProbe>(())
        .recurring(Schedule::DailyInCounty, &DailyProbe {})
        .register::<Flaky>(());
}

/// 2026-11-29 09:00 in the county (01:00 UTC).
fn morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 1, 0, 0).unwrap()
}

/// An instance with the probe kinds and the given clock, its background loop off.
fn instance(backend: Backend, clock: &Clock) -> TestAppBuilder {
    app(backend)
        .clock(clock.clone())
        .extra_jobs(probes)
        .set("jobs.worker_enabled", "false")
}

async fn probe_runs(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        audit_events::table
            .filter(audit_events::action.eq("test.daily_probe_ran"))
            .order(audit_events::seq)
            .select(audit_events::entity_id)
            .load(conn)
            .unwrap()
    })
    .await
}

async fn job_rows(app: &TestApp, kind: &'static str) -> Vec<JobRow> {
    app.db(move |conn| {
        jobs::table
            .filter(jobs::kind.eq(kind))
            .order(jobs::created_at)
            .select(JobRow::as_select())
            .load(conn)
            .unwrap()
    })
    .await
}

async fn pass(app: &TestApp) -> probity::jobs::worker::PassReport {
    app.jobs.run_once().await.expect("a jobs pass")
}

async fn two_instances_run_a_daily_job_once_per_day(backend: Backend) {
    let clock = Clock::frozen(morning());
    let a = instance(backend, &clock).spawn().await;
    let b = instance(backend, &clock).sharing_database(&a).spawn().await;

    for _ in 0..3 {
        pass(&a).await;
        pass(&b).await;
    }
    assert_eq!(probe_runs(&a).await, vec!["2026-11-29"]);

    // Later the same county day: nothing new.
    clock.advance(chrono::Duration::hours(14) + chrono::Duration::minutes(59));
    pass(&b).await;
    pass(&a).await;
    assert_eq!(probe_runs(&a).await.len(), 1);

    // Past midnight in the county (16:00 UTC): the next day's run, once.
    clock.advance(chrono::Duration::minutes(1));
    for _ in 0..3 {
        pass(&b).await;
        pass(&a).await;
    }
    assert_eq!(probe_runs(&a).await, vec!["2026-11-29", "2026-11-30"]);
    let rows = job_rows(&a, DailyProbe::KIND).await;
    assert_eq!(rows.len(), 2, "one job per period");
    assert!(rows
        .iter()
        .all(|r| r.status == STATUS_DONE && r.attempts == 1));
}

async fn enqueue_flaky(app: &TestApp, failures: i32) -> String {
    app.db(move |conn| {
        db::write_tx(conn, |conn| jobs_mod::enqueue(conn, &Flaky { failures })).unwrap()
    })
    .await
}

async fn job(app: &TestApp, id: &str) -> JobRow {
    let id = id.to_string();
    app.db(move |conn| {
        jobs::table
            .find(id)
            .select(JobRow::as_select())
            .first(conn)
            .unwrap()
    })
    .await
}

async fn a_failing_job_waits_for_its_backoff(backend: Backend) {
    let clock = Clock::frozen(morning());
    let app = instance(backend, &clock)
        .set("jobs.backoff_base_secs", 60)
        .set("jobs.backoff_max_secs", 3600)
        .set("jobs.max_attempts", 5)
        .spawn()
        .await;
    let id = enqueue_flaky(&app, 2).await;

    pass(&app).await;
    let first = job(&app, &id).await;
    assert_eq!((first.status.as_str(), first.attempts), (STATUS_PENDING, 1));
    assert!(first.last_error.unwrap().contains("planned failure 1"));
    assert_eq!(
        first.run_at,
        Some((morning() + chrono::Duration::seconds(60)).naive_utc())
    );

    // Not before the backoff (60 s) has elapsed…
    pass(&app).await;
    clock.advance(chrono::Duration::seconds(59));
    pass(&app).await;
    assert_eq!(job(&app, &id).await.attempts, 1, "not retried early");

    // …and at once when it has.
    clock.advance(chrono::Duration::seconds(1));
    pass(&app).await;
    let second = job(&app, &id).await;
    assert_eq!(second.attempts, 2);
    assert!(second.last_error.unwrap().contains("planned failure 2"));

    // The second backoff doubles: 120 s.
    clock.advance(chrono::Duration::seconds(119));
    pass(&app).await;
    assert_eq!(job(&app, &id).await.attempts, 2, "not retried early");
    clock.advance(chrono::Duration::seconds(1));
    pass(&app).await;
    let done = job(&app, &id).await;
    assert_eq!((done.status.as_str(), done.attempts), (STATUS_DONE, 3));
    assert!(done.last_error.is_none());
    assert_eq!(done.finished_at, Some(clock.now_naive()));
}

async fn a_job_that_keeps_failing_is_dead_after_max_attempts(backend: Backend) {
    let clock = Clock::frozen(morning());
    let app = instance(backend, &clock)
        .set("jobs.backoff_base_secs", 10)
        .set("jobs.max_attempts", 3)
        .spawn()
        .await;
    let id = enqueue_flaky(&app, 100).await;
    for _ in 0..6 {
        pass(&app).await;
        app.clock.advance(chrono::Duration::hours(1));
    }
    let dead = job(&app, &id).await;
    assert_eq!(dead.status, STATUS_DEAD);
    assert_eq!(dead.attempts, 3, "tried exactly max_attempts times");
    assert!(dead.last_error.unwrap().contains("planned failure 3"));
    assert!(dead.finished_at.is_some());
}

async fn a_job_whose_lease_ran_out_is_run_again(backend: Backend) {
    let clock = Clock::frozen(morning());
    let app = instance(backend, &clock)
        .set("jobs.lease_secs", 300)
        .spawn()
        .await;
    let id = enqueue_flaky(&app, 0).await;
    // A worker claims the job and dies before recording anything.
    let now = clock.now_naive();
    let claimed = app
        .db(move |conn| {
            probity::jobs::store::claim_due(conn, &[Flaky::KIND], now, 10, Duration::from_secs(300))
                .unwrap()
        })
        .await;
    assert_eq!(claimed.len(), 1);

    // While the lease holds, nobody else runs it.
    clock.advance(chrono::Duration::seconds(299));
    pass(&app).await;
    let held = job(&app, &id).await;
    assert_eq!((held.status.as_str(), held.attempts), ("running", 1));

    clock.advance(chrono::Duration::seconds(2));
    pass(&app).await;
    let done = job(&app, &id).await;
    assert_eq!((done.status.as_str(), done.attempts), (STATUS_DONE, 2));
}

async fn a_period_missed_while_down_runs_at_the_next_start(backend: Backend) {
    let clock = Clock::frozen(morning());
    let first = instance(backend, &clock).spawn().await;
    pass(&first).await;
    assert_eq!(probe_runs(&first).await, vec!["2026-11-29"]);
    first.stop().await;

    // Every instance is down for two county days.
    clock.advance(chrono::Duration::days(2));
    let next = app(backend)
        .clock(clock.clone())
        .extra_jobs(probes)
        .sharing_database(&first)
        .spawn()
        .await;
    // Its background loop's first pass queues and runs the current period; the clock stands
    // still, so only the loop's own work can make this happen.
    let runs = eventually(Duration::from_secs(20), || async {
        let runs = probe_runs(&next).await;
        (runs.len() == 2).then_some(runs)
    })
    .await
    .expect("the current period ran after the start");
    // Only the current period is made up, not each day missed.
    assert_eq!(runs, vec!["2026-11-29", "2026-12-01"]);
}
