//! Telling the benefit offices and the disbursement systems (SPEC.md → "Suspension": "Suspensions
//! and lifts notify the benefits offices by email"; issue 12, items 3 and 5).
//!
//! The transaction that opens or lifts a suspension queues one job, [`AnnounceSuspension`]
//! (kind `suspension_announce`), naming the event. The job fans out in its own transaction: one
//! `email` job per configured benefit office (`benefits.offices`, templates
//! `suspension_started` / `suspension_lifted`) and one `webhook_delivery` job per active webhook
//! subscriber (`super::webhooks`), event type `suspension.started` / `suspension.lifted`. Each
//! is inserted with the UNIQUE (kind, period) key `suspension:<event id>:<office email>` or
//! `webhook:<event id>:<subscriber id>` (`db::dialect::insert_job_if_absent`), so a fan-out
//! that runs twice (at-least-once jobs) queues nothing twice. A case joining an open
//! suspension changes nothing for a payer and is not announced.
//!
//! The office emails and the webhook body name the village, the times and the case numbers
//! (as the status API does), never anything of the cases' content or the reporters.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::models::{SuspensionEventRow, SuspensionPeriodRow, WebhookSubscriberRow};
use super::periods;
use crate::db::schema::{
    api_keys, divisions, suspension_events, suspension_periods, webhook_subscribers,
};
use crate::db::{self, dialect, DbConnection};
use crate::domain::ids::SuspensionEventId;
use crate::domain::schedule::COUNTY_UTC_OFFSET_SECS;
use crate::jobs::{Job, JobContext, JobRow, STATUS_PENDING};
use crate::notify::EmailJob;
use crate::settings::BenefitOffice;

/// The webhook event of an opening.
pub const STARTED: &str = "suspension.started";
/// The webhook event of a lift.
pub const LIFTED: &str = "suspension.lifted";

/// The fan-out job of one suspension event (`opened` or `lifted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnounceSuspension {
    pub event_id: String,
}

/// What the fan-out needs: the offices to email, and the attempts a webhook delivery gets.
#[derive(Debug, Clone)]
pub struct AnnounceState {
    pub offices: Vec<BenefitOffice>,
    pub webhook_max_attempts: i32,
}

impl Job for AnnounceSuspension {
    const KIND: &'static str = "suspension_announce";
    type State = AnnounceState;

    async fn run(self, state: Arc<AnnounceState>, ctx: JobContext) -> anyhow::Result<()> {
        let now = ctx.clock.now_naive();
        let pool = ctx.pool.clone();
        let queued = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(fan_out(&mut conn, &self.event_id, &state, now)?)
        })
        .await??;
        tracing::info!(queued, "suspension announced");
        Ok(())
    }
}

/// Queues the announcement of suspension event `event` in the caller's transaction (the one
/// that opened or lifted the suspension).
///
/// Errors: the insert's database error.
pub fn queue(conn: &mut DbConnection, event: &SuspensionEventId) -> QueryResult<()> {
    crate::jobs::enqueue(
        conn,
        &AnnounceSuspension {
            event_id: event.to_string(),
        },
    )?;
    Ok(())
}

/// A suspension as announced and listed (SPEC.md → "Suspensions": the list's item shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuspensionView {
    pub id: String,
    pub village_code: String,
    pub village_name: String,
    pub started_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    /// The filed cases behind it, in the order they joined.
    pub case_numbers: Vec<String>,
}

impl SuspensionView {
    /// The view of period `row` in a village called `village_name`.
    pub fn of(row: &SuspensionPeriodRow, village_name: String) -> SuspensionView {
        let period = periods::to_period(row);
        SuspensionView {
            id: row.suspension_id.to_string(),
            village_code: row.village_code.clone(),
            village_name,
            started_at: row.started_at.and_utc(),
            lifted_at: row.lifted_at.map(|t| t.and_utc()),
            case_numbers: period.cases.into_iter().map(|c| c.number).collect(),
        }
    }
}

/// The body every subscriber receives for one event (and the same on every retry).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    /// `suspension.started` or `suspension.lifted`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The suspension event: the same for every subscriber.
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
    pub suspension: SuspensionView,
}

/// A time as the county reads it: `2026-11-30 10:00`.
fn county_time(t: NaiveDateTime) -> String {
    (t + chrono::Duration::seconds(COUNTY_UTC_OFFSET_SECS.into()))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A job row keyed by (`kind`, `period`), due at once.
fn keyed_job(
    kind: &str,
    payload: String,
    period: String,
    now: NaiveDateTime,
    max: Option<i32>,
) -> JobRow {
    JobRow {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.to_string(),
        payload,
        status: STATUS_PENDING.to_string(),
        attempts: 0,
        max_attempts: max,
        run_at: None,
        locked_until: None,
        last_error: None,
        period: Some(period),
        created_at: now,
        finished_at: None,
    }
}

/// Queues the emails and webhook deliveries of event `event_id` (see the module docs) in one
/// transaction; returns how many this call queued (0 when a run before did it, or the event
/// is neither an opening nor a lift).
///
/// Errors: database errors.
pub fn fan_out(
    conn: &mut DbConnection,
    event_id: &str,
    state: &AnnounceState,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    db::write_tx(conn, |conn| {
        let Some(event) = suspension_events::table
            .find(event_id)
            .select(SuspensionEventRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(0);
        };
        let (event_type, template) = match event.event.as_str() {
            "opened" => (STARTED, "suspension_started"),
            "lifted" => (LIFTED, "suspension_lifted"),
            _ => return Ok(0),
        };
        let (period, village_name): (SuspensionPeriodRow, String) = suspension_periods::table
            .inner_join(divisions::table.on(divisions::code.eq(suspension_periods::village_code)))
            .filter(suspension_periods::suspension_id.eq(event.suspension_id.as_str()))
            .select((SuspensionPeriodRow::as_select(), divisions::name))
            .first(conn)?;
        let view = SuspensionView::of(&period, village_name);
        let mut queued = 0;
        for office in &state.offices {
            let email = EmailJob {
                template: template.to_string(),
                recipient: office.email.clone(),
                data: serde_json::json!({
                    "office_name": office.name,
                    "village_name": view.village_name,
                    "village_code": view.village_code,
                    "started": county_time(period.started_at),
                    "lifted": period.lifted_at.map(county_time),
                    "case_count": view.case_numbers.len(),
                    "case_numbers": view.case_numbers.join("、"),
                }),
            };
            let row = keyed_job(
                EmailJob::KIND,
                serde_json::to_string(&email).expect("a job serialises to JSON"),
                format!("suspension:{event_id}:{}", office.email),
                now,
                None,
            );
            if dialect::insert_job_if_absent(conn, &row)? {
                queued += 1;
            }
        }
        let body = serde_json::to_string(&WebhookEvent {
            event_type: event_type.to_string(),
            event_id: event_id.to_string(),
            occurred_at: event.at.and_utc(),
            suspension: view,
        })
        .expect("a webhook event serialises");
        let subscribers: Vec<WebhookSubscriberRow> = webhook_subscribers::table
            .inner_join(api_keys::table)
            .filter(webhook_subscribers::removed_at.is_null())
            .filter(webhook_subscribers::active.eq(true))
            .filter(api_keys::revoked_at.is_null())
            .order(webhook_subscribers::created_at)
            .select(WebhookSubscriberRow::as_select())
            .load(conn)?;
        for subscriber in subscribers {
            let delivery = super::webhooks::WebhookDelivery {
                subscriber_id: subscriber.id.to_string(),
                event_type: event_type.to_string(),
                body: body.clone(),
            };
            let row = keyed_job(
                super::webhooks::WebhookDelivery::KIND,
                serde_json::to_string(&delivery).expect("a job serialises to JSON"),
                format!("webhook:{event_id}:{}", subscriber.id),
                now,
                Some(state.webhook_max_attempts),
            );
            if dialect::insert_job_if_absent(conn, &row)? {
                queued += 1;
            }
        }
        Ok(queued)
    })
}
