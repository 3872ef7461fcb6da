//! The append-only, hash-chained audit log.
//!
//! `record` writes inside the caller's transaction, so a state change and its audit entry commit
//! or roll back together. Appends take the chain head's lock (`db::dialect::lock_audit_head`:
//! `SELECT … FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` write lock), so concurrent writers never fork the chain.

pub mod models;
pub mod routes;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use self::models::{ChainHeadRow, NewAuditEvent};
use crate::db::schema::{audit_chain_head, audit_events};
use crate::db::{dialect, DbConnection};
use crate::domain::audit_chain::{self, EntryContent, GENESIS_HASH};

/// Who did something. Stored as text: `system`, `cli`, `user:<id>`, `service:<id>`, `reporter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    System,
    Cli,
    User(String),
    Service(String),
    Reporter,
}

impl Actor {
    pub fn as_text(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Cli => "cli".into(),
            Actor::User(id) => format!("user:{id}"),
            Actor::Service(id) => format!("service:{id}"),
            Actor::Reporter => "reporter".into(),
        }
    }
}

/// Appends one entry that happened `at` (the caller's [`crate::clock::Clock::now_naive`]; it is
/// truncated to microseconds here too, what both backends store exactly, so hashes recompute).
/// Call inside `db::write_tx`. Returns the entry's sequence number.
/// `details` must never contain a reporter's identity, a password or a token.
///
/// Errors: any database error (the caller's transaction then rolls back).
pub fn record(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    details: serde_json::Value,
) -> QueryResult<i64> {
    let head = dialect::lock_audit_head(conn)?;
    let (last_seq, last_hash) = (head.last_seq, head.last_hash);
    let actor = actor.as_text();
    let entry = EntryContent {
        seq: last_seq + 1,
        occurred_at: at
            .with_nanosecond(at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(at),
        actor: &actor,
        action,
        entity_type,
        entity_id,
        details: &details,
    };
    let hash = audit_chain::entry_hash(&last_hash, &entry);
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            seq: entry.seq,
            occurred_at: entry.occurred_at,
            actor: entry.actor,
            action,
            entity_type,
            entity_id,
            details: audit_chain::canonical_json(&details),
            prev_hash: &last_hash,
            hash: &hash,
        })
        .execute(conn)?;
    diesel::update(audit_chain_head::table.find(1))
        .set(&ChainHeadRow {
            last_seq: entry.seq,
            last_hash: hash,
        })
        .execute(conn)?;
    Ok(entry.seq)
}

pub use self::models::AuditEventRow;

/// The outcome of verifying the whole chain.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct VerifyReport {
    /// `ok` or `broken`.
    pub status: String,
    /// Entries checked (up to and including the first broken one).
    pub checked: i64,
    /// The sequence number of the first broken entry, if any.
    pub first_bad_seq: Option<i64>,
    /// Why that entry is broken.
    pub reason: Option<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.first_bad_seq.is_none()
    }
}

const VERIFY_BATCH: i64 = 1000;

/// Walks the chain from the first entry, recomputing every hash, and names the first bad entry.
/// The chain head must point at the last entry, so removing entries from the end is caught too.
pub fn verify(conn: &mut DbConnection) -> QueryResult<VerifyReport> {
    let mut prev_seq = 0i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    let broken = |seq: i64, checked: i64, reason: String| VerifyReport {
        status: "broken".into(),
        checked,
        first_bad_seq: Some(seq),
        reason: Some(reason),
    };
    loop {
        let batch: Vec<AuditEventRow> = audit_events::table
            .filter(audit_events::seq.gt(prev_seq))
            .order(audit_events::seq.asc())
            .limit(VERIFY_BATCH)
            .select(AuditEventRow::as_select())
            .load(conn)?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            let details: serde_json::Value = match serde_json::from_str(&row.details) {
                Ok(v) => v,
                Err(_) => {
                    return Ok(broken(
                        row.seq,
                        prev_seq + 1,
                        "details are not valid JSON".into(),
                    ))
                }
            };
            let entry = EntryContent {
                seq: row.seq,
                occurred_at: row.occurred_at,
                actor: &row.actor,
                action: &row.action,
                entity_type: &row.entity_type,
                entity_id: &row.entity_id,
                details: &details,
            };
            if let Err(why) =
                audit_chain::check_link(prev_seq, &prev_hash, &entry, &row.prev_hash, &row.hash)
            {
                let bad_seq = match why {
                    audit_chain::ChainBreak::SequenceGap { expected } => expected,
                    _ => row.seq,
                };
                return Ok(broken(bad_seq, prev_seq + 1, why.describe()));
            }
            prev_seq = row.seq;
            prev_hash = row.hash.clone();
        }
    }
    let head: ChainHeadRow = audit_chain_head::table
        .find(1)
        .select(ChainHeadRow::as_select())
        .first(conn)?;
    let (head_seq, head_hash) = (head.last_seq, head.last_hash);
    if head_seq != prev_seq || head_hash != prev_hash {
        return Ok(broken(
            prev_seq + 1,
            prev_seq,
            format!("the chain head records {head_seq} entries but {prev_seq} were found: entries were removed"),
        ));
    }
    Ok(VerifyReport {
        status: "ok".into(),
        checked: prev_seq,
        first_bad_seq: None,
        reason: None,
    })
}
