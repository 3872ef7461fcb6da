//! The rows of `suspensions`, `suspension_cases` and `suspension_events` (migration 000011).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{suspension_cases, suspension_events, suspensions};
use crate::domain::ids::{CaseId, SuspensionEventId, SuspensionId, UserId};

/// A village's suspension, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspensions)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionRow {
    pub id: SuspensionId,
    pub village_code: String,
    pub started_at: NaiveDateTime,
    pub lifted_at: Option<NaiveDateTime>,
    pub lifted_by: Option<UserId>,
}

/// A filed case behind a suspension.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspension_cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionCaseRow {
    pub suspension_id: SuspensionId,
    pub case_id: CaseId,
    pub joined_at: NaiveDateTime,
}

/// One event of a suspension's history: `opened`, `case_joined` or `lifted`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspension_events)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionEventRow {
    pub id: SuspensionEventId,
    pub suspension_id: SuspensionId,
    pub event: String,
    pub case_id: Option<CaseId>,
    /// The audit actor text (`user:<id>`, `system`, …).
    pub actor: String,
    pub at: NaiveDateTime,
}

// ---- Issue 12: the status API's period rows and the webhook subscribers (migration 000015). ----

use crate::db::schema::{suspension_periods, webhook_subscribers};
use crate::domain::ids::{ApiKeyId, WebhookSubscriberId};

/// A suspension period as the status API reads it (`suspension_periods`): the suspension's
/// times and its cases as JSON (`domain::benefit_status::PeriodCase`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = suspension_periods)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SuspensionPeriodRow {
    pub suspension_id: SuspensionId,
    pub village_code: String,
    pub started_at: NaiveDateTime,
    pub lifted_at: Option<NaiveDateTime>,
    pub cases: String,
}

/// A village as the status API names it (part of `divisions`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::divisions)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct VillageRow {
    pub code: String,
    pub name: String,
}

/// A disbursement system's webhook subscriber, as stored (the secret sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscribers)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct WebhookSubscriberRow {
    pub id: WebhookSubscriberId,
    pub api_key_id: ApiKeyId,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub active: bool,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

/// A change of a subscriber: `None` leaves a column alone.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = webhook_subscribers)]
pub struct WebhookSubscriberChanges {
    pub url: Option<String>,
    pub secret_sealed: Option<Vec<u8>>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
    pub removed_at: Option<Option<NaiveDateTime>>,
}
