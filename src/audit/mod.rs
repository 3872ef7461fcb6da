//! The append-only, hash-chained audit log.
//!
//! `record` writes inside the caller's transaction, so a state change and its audit entry commit
//! or roll back together. Appends take the chain head's lock (`SELECT … FOR UPDATE` on
//! PostgreSQL; SQLite's `BEGIN IMMEDIATE` write lock), so concurrent writers never fork the chain.

pub mod routes;

use chrono::{NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{audit_chain_head, audit_events};
use crate::db::DbConnection;
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

/// Time truncated to microseconds: what both backends store exactly, so hashes recompute.
pub fn now_micros() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// Appends one entry. Call inside `db::write_tx`. Returns the entry's sequence number.
/// `details` must never contain a reporter's identity, a password or a token.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    details: serde_json::Value,
) -> QueryResult<i64> {
    let (last_seq, last_hash): (i64, String) = match conn {
        DbConnection::Postgresql(c) => audit_chain_head::table
            .find(1)
            .select((audit_chain_head::last_seq, audit_chain_head::last_hash))
            .for_update()
            .first(c)?,
        DbConnection::Sqlite(c) => audit_chain_head::table
            .find(1)
            .select((audit_chain_head::last_seq, audit_chain_head::last_hash))
            .first(c)?,
    };
    let actor = actor.as_text();
    let entry = EntryContent {
        seq: last_seq + 1,
        occurred_at: now_micros(),
        actor: &actor,
        action,
        entity_type,
        entity_id,
        details: &details,
    };
    let hash = audit_chain::entry_hash(&last_hash, &entry);
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::seq.eq(entry.seq),
            audit_events::occurred_at.eq(entry.occurred_at),
            audit_events::actor.eq(entry.actor),
            audit_events::action.eq(action),
            audit_events::entity_type.eq(entity_type),
            audit_events::entity_id.eq(entity_id),
            audit_events::details.eq(audit_chain::canonical_json(&details)),
            audit_events::prev_hash.eq(&last_hash),
            audit_events::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_chain_head::table.find(1))
        .set((
            audit_chain_head::last_seq.eq(entry.seq),
            audit_chain_head::last_hash.eq(&hash),
        ))
        .execute(conn)?;
    Ok(entry.seq)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

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
    let (head_seq, head_hash): (i64, String) = audit_chain_head::table
        .find(1)
        .select((audit_chain_head::last_seq, audit_chain_head::last_hash))
        .first(conn)?;
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
