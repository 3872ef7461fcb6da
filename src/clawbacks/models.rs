//! The rows of `clawbacks`, `clawback_signers`, `clawback_amendments` and `recoveries`, as
//! diesel sees them (docs/architecture.md → "The model layer"). Signers, amendments and
//! recoveries have an insert form and a read form and no change form: they are never changed
//! (and the database refuses it, migration 000014).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{clawback_amendments, clawback_signers, clawbacks, recoveries};
use crate::domain::clawback::{PayerKind, SignerStage};
use crate::domain::divisions::Level;
use crate::domain::ids::{
    AmendmentId, CaseId, ClawbackId, OfficialId, RecoveryId, SignerId, TeamId, UserId,
};
use crate::domain::report::Programme;

/// A clawback as stored, but for the sealed ID number (which no view opens).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clawbacks)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ClawbackRow {
    pub id: ClawbackId,
    pub case_id: CaseId,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    /// Sealed: opened with the data key and the associated data `clawback:<id>:name`.
    pub beneficiary_name: Vec<u8>,
    pub beneficiary_id_masked: String,
    pub grant_period_from: NaiveDate,
    pub grant_period_to: NaiveDate,
    /// Fen, as last corrected.
    pub amount_due_fen: i64,
    pub due_on: NaiveDate,
    pub written_off_fen: i64,
    pub write_off_reason: Option<String>,
    pub written_off_by: Option<UserId>,
    pub written_off_at: Option<NaiveDateTime>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// A new clawback.
#[derive(Debug, Insertable)]
#[diesel(table_name = clawbacks)]
pub struct NewClawback {
    pub id: ClawbackId,
    pub case_id: CaseId,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    /// Sealed, associated data `clawback:<id>:name`.
    pub beneficiary_name: Vec<u8>,
    /// Sealed, associated data `clawback:<id>:id_number`.
    pub beneficiary_id_number: Vec<u8>,
    pub beneficiary_id_masked: String,
    pub grant_period_from: NaiveDate,
    pub grant_period_to: NaiveDate,
    pub amount_due_fen: i64,
    pub due_on: NaiveDate,
    pub written_off_fen: i64,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// A change of a clawback's terms or write-off; `None` leaves a column as it is. Every change
/// adds one to `version`.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = clawbacks)]
pub struct ClawbackChanges {
    pub amount_due_fen: Option<i64>,
    pub due_on: Option<NaiveDate>,
    pub grant_period_from: Option<NaiveDate>,
    pub grant_period_to: Option<NaiveDate>,
    pub written_off_fen: Option<i64>,
    pub write_off_reason: Option<Option<String>>,
    pub written_off_by: Option<Option<UserId>>,
    pub written_off_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
    pub version: Option<i32>,
}

/// The case a clawback belongs to, as its views show it and the team rule needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct CaseRefRow {
    pub number: String,
    pub team_id: TeamId,
    pub assignee_id: Option<UserId>,
}

/// A signer, as read and as written.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clawback_signers)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SignerRow {
    pub id: SignerId,
    pub clawback_id: ClawbackId,
    pub official_id: OfficialId,
    pub stage: SignerStage,
    pub signed_on: NaiveDate,
    pub position: i32,
}

/// What a signer's view shows of the official.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::officials)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SignerOfficialRow {
    pub id: OfficialId,
    pub name: String,
    pub post: String,
    pub level: Level,
    pub division_code: String,
    pub active: bool,
    pub email: Option<String>,
}

/// A correction, as read and as written. `changes` is JSON: `{"<field>": {"from", "to"}}`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clawback_amendments)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct AmendmentRow {
    pub id: AmendmentId,
    pub clawback_id: ClawbackId,
    /// 1, 2, 3 … per clawback, in the order made.
    pub position: i32,
    pub reason: String,
    pub changes: String,
    pub amended_by: UserId,
    pub amended_at: NaiveDateTime,
}

/// A recovery payment, as read and as written.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recoveries)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RecoveryRow {
    pub id: RecoveryId,
    pub clawback_id: ClawbackId,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub payer_kind: PayerKind,
    pub payer_official_id: Option<OfficialId>,
    pub reference: String,
    /// The audit actor's text: `user:<id>` or `service:<id>`.
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

/// The amount of one recovery and its clawback: what the figures of many clawbacks are summed
/// from.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recoveries)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RecoveryAmountRow {
    pub clawback_id: ClawbackId,
    pub amount_fen: i64,
}
