//! The rows of `remediation_items` (migration 000011), `remediation_events` and
//! `remediation_files` (migration 000015).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{remediation_events, remediation_files, remediation_items};
use crate::domain::ids::{
    CaseId, RemediationEventId, RemediationFileId, RemediationItemId, UserId,
};
use crate::domain::remediation::ItemStatus;

/// A remediation item, as stored: its current state (its history is in `remediation_events`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = remediation_items)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RemediationItemRow {
    pub id: RemediationItemId,
    pub case_id: CaseId,
    pub description: String,
    pub responsible_unit: String,
    /// County date.
    pub due_on: NaiveDate,
    pub status: ItemStatus,
    /// The latest submission's evidence text.
    pub evidence: Option<String>,
    pub submitted_by: Option<UserId>,
    pub submitted_at: Option<NaiveDateTime>,
    /// The supervisor who verified or rejected the latest submission.
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
    /// Why the latest submission was rejected; `None` otherwise.
    pub rejection_reason: Option<String>,
    /// Optimistic concurrency: every change adds one.
    pub version: i32,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A change of an item's state: `None` leaves a column alone, `Some(None)` clears it.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = remediation_items)]
pub struct RemediationItemChanges {
    pub status: ItemStatus,
    pub evidence: Option<Option<String>>,
    pub submitted_by: Option<Option<UserId>>,
    pub submitted_at: Option<Option<NaiveDateTime>>,
    pub decided_by: Option<Option<UserId>>,
    pub decided_at: Option<Option<NaiveDateTime>>,
    pub rejection_reason: Option<Option<String>>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

/// One step of an item's history: `created | submitted | verified | rejected`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = remediation_events)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RemediationEventRow {
    pub id: RemediationEventId,
    pub item_id: RemediationItemId,
    /// Its place in the item's history, from 1.
    pub position: i32,
    pub event: String,
    pub evidence: Option<String>,
    pub reason: Option<String>,
    pub actor_id: UserId,
    pub at: NaiveDateTime,
}

/// An evidence file of a submission (encrypted in the attachment store).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = remediation_files)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RemediationFileRow {
    pub id: RemediationFileId,
    pub item_id: RemediationItemId,
    /// The submission it came with.
    pub event_id: RemediationEventId,
    pub storage_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// The kinds of metadata removed, comma-separated (never the values).
    pub metadata_removed: String,
    pub uploaded_by: UserId,
    pub created_at: NaiveDateTime,
}
