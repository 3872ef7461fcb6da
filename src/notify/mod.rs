//! The outbox: every notification is a row written in the caller's transaction, delivered later
//! by a worker over SMTP with retries and exponential backoff, ending `sent` or `dead`.
//!
//! Claiming: a worker takes due rows in a short write transaction — on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, on SQLite under the `BEGIN IMMEDIATE` write lock — and leases them
//! (`locked_until`) before sending, so several instances never send one row twice. A worker
//! that dies mid-send leaves the lease to expire and the row is tried again.

pub mod templates;
pub mod worker;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::now_micros;
use crate::db::schema::outbox;
use crate::db::DbConnection;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_DEAD: &str = "dead";

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("unknown email template {0:?}")]
    UnknownTemplate(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Queues one email in the caller's transaction. `data` fills the template; it must never carry
/// a reporter's identity or the content of their messages.
pub fn enqueue(
    conn: &mut DbConnection,
    template: &str,
    recipient: &str,
    data: serde_json::Value,
) -> Result<String, EnqueueError> {
    if !templates::exists(template) {
        return Err(EnqueueError::UnknownTemplate(template.to_string()));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_micros();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::template.eq(template),
            outbox::recipient.eq(recipient),
            outbox::data.eq(data.to_string()),
            outbox::status.eq(STATUS_PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub template: String,
    pub recipient: String,
    pub data: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Counts of outbox rows by status, for operators and `/readyz`-style checks.
pub fn counts(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .order(outbox::status)
        .load(conn)
}
