//! Changes after a clawback is recorded, each one write transaction that first locks the case
//! (`super::lock`), then writes, audits (entity type `clawback`) and brings the case's clawback
//! deadline up to date:
//!
//! - **Recoveries** (`POST /clawbacks/{id}/recoveries`): a payment joins the ledger unless it
//!   exceeds what is outstanding (422 `over_recovery`). Its `reference` is unique per clawback:
//!   the same reference and amount again is a replay that records nothing (200, the recovery as
//!   first recorded); another amount is 409 `reference_reused`. Because every change of a
//!   case's clawbacks holds the case's lock, concurrent recoveries are checked one after the
//!   other against committed figures, and can never together exceed the amount due.
//! - **Corrections** (`POST /clawbacks/{id}/amendments`): an added entry with a reason and what
//!   changed from what; the amount due never below what is recovered and written off.
//! - **Write-off** (`POST /clawbacks/{id}/write-off`, supervisor): what is outstanding is
//!   written off with a reason; the signers stay liable on record.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::models::{AmendmentRow, ClawbackChanges, ClawbackRow, RecoveryRow};
use super::record::{date_field, due_field};
use super::view::{clawback_view, recovery_view, ClawbackView, RecoveryView};
use super::{
    figures_of, find_visible, lock, recovered_by_clawback, refresh_case_deadline, ClawbackError,
    Reader, When,
};
use crate::audit::{self, Actor};
use crate::cases::{required_line, required_text};
use crate::crypto::DataKey;
use crate::db::schema::{clawback_amendments, clawback_signers, clawbacks, recoveries};
use crate::db::{self, DbConnection};
use crate::domain::clawback::{Figures, PayerKind};
use crate::domain::ids::{AmendmentId, ClawbackId, OfficialId, RecoveryId, UserId};
use crate::domain::money::{Amount, Fen};
use crate::domain::text;
use crate::error::{ErrorCode, FieldViolation};

/// The longest reason accepted (a correction, a write-off).
pub const REASON_MAX: usize = 2000;
/// The longest payment reference accepted.
pub const REFERENCE_MAX: usize = 100;

/// Who paid.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PayerInput {
    /// `beneficiary | signer`.
    #[schema(required = true)]
    pub kind: Option<String>,
    /// For `signer`: one of the clawback's signers.
    pub official_id: Option<String>,
}

/// The body of `POST /clawbacks/{id}/recoveries`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RecoveryRequest {
    /// A JSON integer of fen, 1 to 10^13, at most what is outstanding.
    #[serde(default)]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 10000000000000_i64)]
    pub amount_fen: serde_json::Value,
    /// `YYYY-MM-DD`, not after today (county date).
    #[schema(required = true)]
    pub paid_on: Option<String>,
    #[schema(required = true)]
    pub payer: Option<PayerInput>,
    /// The payment's voucher or transfer number: 1–100 characters on one line, unique per
    /// clawback. The same reference again with the same amount is a replay.
    #[schema(required = true)]
    pub reference: Option<String>,
}

/// A recovery answer: the clawback's new figures and ledger, and the recovery recorded (or, for
/// a replay, the recovery as first recorded).
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct RecoveryAnswer {
    #[serde(flatten)]
    pub clawback: ClawbackView,
    pub recovery: RecoveryView,
}

/// What a recovery request did.
#[derive(Debug)]
pub enum Recorded {
    /// A new payment joined the ledger (201).
    New(RecoveryAnswer),
    /// The reference and amount were recorded before: nothing was written (200).
    Replay(RecoveryAnswer),
}

struct CheckedRecovery {
    amount: Fen,
    paid_on: NaiveDate,
    payer: PayerKind,
    payer_official: Option<String>,
    reference: String,
}

fn check_recovery(
    body: &RecoveryRequest,
    today: NaiveDate,
) -> Result<CheckedRecovery, Vec<FieldViolation>> {
    let mut problems = Vec::new();
    let amount = Fen::from_json("amount_fen", &body.amount_fen, Amount::Positive)
        .map_err(|e| problems.push(e))
        .ok();
    let paid_on = date_field("paid_on", body.paid_on.as_deref())
        .and_then(|d| {
            if d > today {
                Err(FieldViolation::new(
                    "paid_on",
                    ErrorCode::InFuture,
                    format!("paid_on is not after today ({today}, county date)"),
                ))
            } else {
                Ok(d)
            }
        })
        .map_err(|e| problems.push(e))
        .ok();
    // A payment reference is a code: folded (full-width forms as a phone keyboard types them
    // read as ASCII, `text::fold_code`) and compared without regard to letter case, so one
    // payment typed twice is a replay, never two recoveries.
    let reference = required_line("reference", body.reference.as_deref(), REFERENCE_MAX)
        .map(|r| text::fold_code(&r).to_ascii_uppercase())
        .map_err(|e| problems.push(e))
        .ok();
    let payer_input = body.payer.clone().unwrap_or_default();
    let payer = match payer_input.kind.as_deref().map(str::trim) {
        None | Some("") => {
            problems.push(FieldViolation::new(
                "payer.kind",
                ErrorCode::Required,
                format!("payer.kind is one of {}", PayerKind::names()),
            ));
            None
        }
        Some(k) => PayerKind::parse(k).or_else(|| {
            problems.push(FieldViolation::new(
                "payer.kind",
                ErrorCode::UnknownValue,
                format!("payer.kind is one of {}", PayerKind::names()),
            ));
            None
        }),
    };
    let official = payer_input
        .official_id
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let payer_official = match (payer, official) {
        (Some(PayerKind::Signer), None) => {
            problems.push(FieldViolation::new(
                "payer.official_id",
                ErrorCode::Required,
                "payer.official_id names the signer who paid",
            ));
            None
        }
        (Some(PayerKind::Signer), Some(o)) => match text::check_controls("payer.official_id", o) {
            Ok(()) => Some(o.to_string()),
            Err(e) => {
                problems.push(e);
                None
            }
        },
        (Some(PayerKind::Beneficiary), Some(_)) => {
            problems.push(FieldViolation::new(
                "payer.official_id",
                ErrorCode::MustBeEmpty,
                "payer.official_id is given only when a signer paid",
            ));
            None
        }
        _ => None,
    };
    match (amount, paid_on, payer, reference) {
        (Some(amount), Some(paid_on), Some(payer), Some(reference)) if problems.is_empty() => {
            Ok(CheckedRecovery {
                amount,
                paid_on,
                payer,
                payer_official,
                reference,
            })
        }
        _ => Err(problems),
    }
}

/// The clawback `id` under its case's lock, as `reader` may see it: locks the case first,
/// then reads the clawback again, so what is read is what this transaction may change.
fn locked(
    conn: &mut DbConnection,
    reader: &Reader,
    id: &str,
) -> Result<ClawbackRow, ClawbackError> {
    let case_id: String = clawbacks::table
        .find(id)
        .select(clawbacks::case_id)
        .first(conn)
        .optional()?
        .ok_or(ClawbackError::NotFound("clawback"))?;
    lock(conn, &case_id)?;
    Ok(find_visible(conn, reader, id)?.0)
}

/// The figures of `row` now, from its ledger.
fn figures_now(conn: &mut DbConnection, row: &ClawbackRow) -> Result<Figures, ClawbackError> {
    let recovered = recovered_by_clawback(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(figures_of(row, recovered)?)
}

/// Writes `changes` (with the next version and `when.now`) only if the clawback is still at
/// `row.version`.
fn update(
    conn: &mut DbConnection,
    row: &ClawbackRow,
    mut changes: ClawbackChanges,
    when: When,
) -> Result<(), ClawbackError> {
    changes.version = Some(row.version + 1);
    changes.updated_at = Some(when.now);
    let n = diesel::update(
        clawbacks::table
            .filter(clawbacks::id.eq(row.id.as_str()))
            .filter(clawbacks::version.eq(row.version)),
    )
    .set(&changes)
    .execute(conn)?;
    if n != 1 {
        let current: i32 = clawbacks::table
            .find(row.id.as_str())
            .select(clawbacks::version)
            .first(conn)?;
        return Err(ClawbackError::VersionConflict { current });
    }
    Ok(())
}

fn check_version(row: &ClawbackRow, sent: Option<i32>) -> Result<(), ClawbackError> {
    match sent {
        Some(v) if v != row.version => Err(ClawbackError::VersionConflict {
            current: row.version,
        }),
        _ => Ok(()),
    }
}

fn view_of(
    conn: &mut DbConnection,
    key: &DataKey,
    reader: &Reader,
    id: &str,
    today: NaiveDate,
) -> Result<ClawbackView, ClawbackError> {
    let (row, case) = find_visible(conn, reader, id)?;
    clawback_view(conn, key, row, case, today)
}

/// Records a recovery on clawback `id` as `actor` (`reader` for the team rule; the caller
/// checks the permission) at `when`.
///
/// Errors: `Invalid` (422: amount not an integer of 1 to 10^13 fen, `paid_on` missing or after
/// today, payer or reference missing, a payer official who did not sign); `NotFound`/
/// `Forbidden`; `ReferenceReused` (409); `OverRecovery` (422, naming what is outstanding);
/// database errors. Returns [`Recorded::New`], or [`Recorded::Replay`] when the reference and
/// amount were recorded before (nothing written).
pub fn record_recovery(
    conn: &mut DbConnection,
    key: &DataKey,
    reader: &Reader,
    actor: &Actor,
    id: &str,
    body: &RecoveryRequest,
    when: When,
) -> Result<Recorded, ClawbackError> {
    let checked = check_recovery(body, when.today);
    let outcome = db::write_tx(conn, |conn| -> Result<(bool, RecoveryRow), ClawbackError> {
        let row = locked(conn, reader, id)?;
        let checked = checked.map_err(ClawbackError::Invalid)?;
        let earlier: Option<RecoveryRow> = recoveries::table
            .filter(recoveries::clawback_id.eq(row.id.as_str()))
            .filter(recoveries::reference.eq(&checked.reference))
            .select(RecoveryRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(earlier) = earlier {
            if earlier.amount_fen == checked.amount.get() {
                return Ok((false, earlier));
            }
            return Err(ClawbackError::ReferenceReused {
                reference: checked.reference,
                amount: Fen::new(earlier.amount_fen)?,
            });
        }
        if let Some(official) = &checked.payer_official {
            let signed: bool = diesel::select(diesel::dsl::exists(
                clawback_signers::table
                    .filter(clawback_signers::clawback_id.eq(row.id.as_str()))
                    .filter(clawback_signers::official_id.eq(official)),
            ))
            .get_result(conn)?;
            if !signed {
                return Err(ClawbackError::Invalid(vec![FieldViolation::new(
                    "payer.official_id",
                    ErrorCode::NotASigner,
                    "payer.official_id is one of the clawback's signers",
                )]));
            }
        }
        let before = figures_now(conn, &row)?;
        let after = before
            .accept_recovery(checked.amount)
            .map_err(|e| match e {
                Ok(over) => ClawbackError::OverRecovery(over),
                Err(money) => money.into(),
            })?;
        let recovery = RecoveryRow {
            id: RecoveryId::generate(),
            clawback_id: row.id.clone(),
            amount_fen: checked.amount.get(),
            paid_on: checked.paid_on,
            payer_kind: checked.payer,
            payer_official_id: checked.payer_official.as_deref().map(OfficialId::from),
            reference: checked.reference.clone(),
            recorded_by: actor.as_text(),
            created_at: when.now,
        };
        diesel::insert_into(recoveries::table)
            .values(&recovery)
            .execute(conn)?;
        update(conn, &row, ClawbackChanges::default(), when)?;
        let (due_from, due_to) = refresh_case_deadline(conn, row.case_id.as_str(), when.now)?;
        audit::record(
            conn,
            when.now,
            actor,
            "clawback.recovery_recorded",
            "clawback",
            row.id.as_str(),
            serde_json::json!({
                "recovery_id": recovery.id,
                "amount_fen": recovery.amount_fen,
                "paid_on": recovery.paid_on,
                "payer": {"kind": recovery.payer_kind.as_str(), "official_id": recovery.payer_official_id},
                "reference": recovery.reference,
                "recovered_fen": {"from": before.recovered.get(), "to": after.recovered.get()},
                "outstanding_fen": after.outstanding()?.get(),
                "status": after.status()?.as_str(),
                "case_clawback_due": {"from": due_from, "to": due_to},
            }),
        )?;
        Ok((true, recovery))
    })?;
    let (new, recovery) = outcome;
    let answer = RecoveryAnswer {
        clawback: view_of(conn, key, reader, id, when.today)?,
        recovery: recovery_view(recovery)?,
    };
    Ok(if new {
        Recorded::New(answer)
    } else {
        Recorded::Replay(answer)
    })
}

/// The body of `POST /clawbacks/{id}/write-off` (supervisor).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WriteOffRequest {
    /// Why the money cannot be recovered: 1–2000 characters.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The clawback's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// Writes off what is outstanding on clawback `id`, as a supervisor (`reader`; the caller checks
/// the permission), at `when`. The amount joins `written_off_fen` (never `recovered_fen`), so
/// each signer's responsibility keeps it as written off.
///
/// Errors: `Invalid` (422: no reason); `NotFound`; `VersionConflict` (409);
/// `NothingOutstanding` (409); database errors. Returns the clawback's view.
pub fn write_off(
    conn: &mut DbConnection,
    key: &DataKey,
    reader: &Reader,
    actor: &Actor,
    id: &str,
    body: &WriteOffRequest,
    when: When,
) -> Result<ClawbackView, ClawbackError> {
    let reason = required_text("reason", body.reason.as_deref(), REASON_MAX);
    db::write_tx(conn, |conn| -> Result<(), ClawbackError> {
        let row = locked(conn, reader, id)?;
        let reason = reason.map_err(|e| ClawbackError::Invalid(vec![e]))?;
        check_version(&row, body.version)?;
        let before = figures_now(conn, &row)?;
        let outstanding = before.outstanding()?;
        if outstanding.is_zero() {
            return Err(ClawbackError::NothingOutstanding);
        }
        let written_off = before.written_off.checked_add(outstanding)?;
        update(
            conn,
            &row,
            ClawbackChanges {
                written_off_fen: Some(written_off.get()),
                write_off_reason: Some(Some(reason.clone())),
                written_off_by: Some(reader.user_id.as_deref().map(UserId::from)),
                written_off_at: Some(Some(when.now)),
                ..ClawbackChanges::default()
            },
            when,
        )?;
        let (due_from, due_to) = refresh_case_deadline(conn, row.case_id.as_str(), when.now)?;
        audit::record(
            conn,
            when.now,
            actor,
            "clawback.written_off",
            "clawback",
            row.id.as_str(),
            serde_json::json!({
                "amount_fen": outstanding.get(),
                "written_off_fen": {"from": before.written_off.get(), "to": written_off.get()},
                "recovered_fen": before.recovered.get(),
                "reason": reason,
                "case_clawback_due": {"from": due_from, "to": due_to},
            }),
        )?;
        Ok(())
    })?;
    view_of(conn, key, reader, id, when.today)
}

/// The body of `POST /clawbacks/{id}/amendments`: a correction. Give the reason and at least
/// one field to correct.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AmendmentRequest {
    /// Why the record was wrong: 1–2000 characters.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The corrected amount due: a JSON integer of fen, 1 to 10^13, not below what is already
    /// recovered and written off.
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10000000000000_i64)]
    pub amount_due_fen: serde_json::Value,
    /// The corrected deadline, `YYYY-MM-DD`: from today to ten years ahead.
    pub due_on: Option<String>,
    /// `YYYY-MM-DD`.
    pub grant_period_from: Option<String>,
    /// `YYYY-MM-DD`.
    pub grant_period_to: Option<String>,
    /// The clawback's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// Adds a correction to clawback `id` as `reader` (an investigator of the case's team or a
/// supervisor; the caller checks the permission), at `when`. The amendment keeps each changed
/// field's value before and after; the clawback's terms become the corrected ones.
///
/// Errors: `Invalid` (422: no reason, no change, a bad value, an amount below what is
/// recovered and written off (`below_recovered`), a grant period ending before it starts);
/// `NotFound`/`Forbidden`; `VersionConflict` (409); database errors. Returns the clawback's
/// view.
pub fn amend(
    conn: &mut DbConnection,
    key: &DataKey,
    reader: &Reader,
    actor: &Actor,
    id: &str,
    body: &AmendmentRequest,
    when: When,
) -> Result<ClawbackView, ClawbackError> {
    let mut problems = Vec::new();
    let reason = required_text("reason", body.reason.as_deref(), REASON_MAX)
        .map_err(|e| problems.push(e))
        .ok();
    let amount = (!body.amount_due_fen.is_null())
        .then(|| {
            Fen::from_json("amount_due_fen", &body.amount_due_fen, Amount::Positive)
                .map_err(|e| problems.push(e))
                .ok()
        })
        .flatten();
    let mut date = |field: &str, value: &Option<String>, due: bool| {
        value.as_deref().and_then(|v| {
            let parsed = if due {
                due_field(field, Some(v), when.today)
            } else {
                date_field(field, Some(v))
            };
            parsed.map_err(|e| problems.push(e)).ok()
        })
    };
    let due_on = date("due_on", &body.due_on, true);
    let from = date("grant_period_from", &body.grant_period_from, false);
    let to = date("grant_period_to", &body.grant_period_to, false);
    db::write_tx(conn, |conn| -> Result<(), ClawbackError> {
        let row = locked(conn, reader, id)?;
        check_version(&row, body.version)?;
        let before = figures_now(conn, &row)?;
        let mut changes = serde_json::Map::new();
        let mut change = ClawbackChanges::default();
        if let Some(amount) = amount {
            let lowest = before.lowest_due()?;
            if amount < lowest {
                problems.push(FieldViolation::new(
                    "amount_due_fen",
                    ErrorCode::BelowRecovered,
                    format!(
                        "amount_due_fen is at least the {} fen already recovered and written \
                         off",
                        lowest.get()
                    ),
                ));
            } else if amount != before.due {
                changes.insert(
                    "amount_due_fen".into(),
                    serde_json::json!({"from": before.due.get(), "to": amount.get()}),
                );
                change.amount_due_fen = Some(amount.get());
            }
        }
        let mut note = |field: &str, old: NaiveDate, new: Option<NaiveDate>| match new {
            Some(new) if new != old => {
                changes.insert(field.into(), serde_json::json!({"from": old, "to": new}));
                Some(new)
            }
            _ => None,
        };
        change.due_on = note("due_on", row.due_on, due_on);
        change.grant_period_from = note("grant_period_from", row.grant_period_from, from);
        change.grant_period_to = note("grant_period_to", row.grant_period_to, to);
        let period_from = from.unwrap_or(row.grant_period_from);
        let period_to = to.unwrap_or(row.grant_period_to);
        if period_to < period_from {
            problems.push(FieldViolation::new(
                if to.is_some() {
                    "grant_period_to"
                } else {
                    "grant_period_from"
                },
                ErrorCode::BeforeStart,
                "the grant period does not end before it starts",
            ));
        }
        if problems.is_empty() && changes.is_empty() {
            problems.push(FieldViolation::new(
                "amount_due_fen",
                ErrorCode::NoChange,
                "a correction changes at least one of amount_due_fen, due_on, \
                 grant_period_from, grant_period_to",
            ));
        }
        if !problems.is_empty() {
            return Err(ClawbackError::Invalid(std::mem::take(&mut problems)));
        }
        let reason = reason.clone().unwrap_or_default();
        let made: i64 = clawback_amendments::table
            .filter(clawback_amendments::clawback_id.eq(row.id.as_str()))
            .count()
            .get_result(conn)?;
        let amendment = AmendmentRow {
            id: AmendmentId::generate(),
            clawback_id: ClawbackId::from(row.id.as_str()),
            position: made as i32 + 1,
            reason: reason.clone(),
            changes: serde_json::Value::Object(changes.clone()).to_string(),
            amended_by: UserId::from(reader.user_id.as_deref().unwrap_or_default()),
            amended_at: when.now,
        };
        diesel::insert_into(clawback_amendments::table)
            .values(&amendment)
            .execute(conn)?;
        update(conn, &row, change, when)?;
        let (due_from, due_to) = refresh_case_deadline(conn, row.case_id.as_str(), when.now)?;
        audit::record(
            conn,
            when.now,
            actor,
            "clawback.amended",
            "clawback",
            row.id.as_str(),
            serde_json::json!({
                "amendment_id": amendment.id,
                "reason": reason,
                "changes": changes,
                "case_clawback_due": {"from": due_from, "to": due_to},
            }),
        )?;
        Ok(())
    })?;
    view_of(conn, key, reader, id, when.today)
}
