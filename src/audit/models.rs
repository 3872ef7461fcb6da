//! The audit tables as diesel sees them: `audit_events` (append-only) and the one-row
//! `audit_chain_head`. See docs/architecture.md → "The model layer".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
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

/// A new entry. Entries are never updated or deleted.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    /// Canonical JSON, as hashed.
    pub details: String,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

pub use crate::db::models::ChainHeadRow;
