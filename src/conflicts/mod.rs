//! Conflict-of-interest declarations (issue 9, item 7; SPEC.md → "Teams, routing, conflicts";
//! see docs/routing.md).
//!
//! A staff member declares, for themselves, a division whose matters they must not handle: a
//! village, a township (which covers its villages) or the county. Declarations are withdrawn
//! with a reason, never deleted, and every change is audited in the same transaction. Other
//! capabilities ask [`find_conflict`] before assigning a case to someone.

pub mod models;
pub mod routes;

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use self::models::ConflictDeclaration;
use crate::audit::{self, Actor};
use crate::db::schema::conflict_declarations;
use crate::db::{self, DbConnection};
use crate::domain::ids::{ConflictId, UserId};
use crate::domain::text;
use crate::error::{ErrorCode, FieldViolation};

/// The longest reason for a declaration or a withdrawal, in characters.
pub const REASON_MAX: usize = 500;

/// The length of a county's code; a township's or village's code starts with its county's.
const COUNTY_CODE_LEN: usize = 6;

/// An active declaration of `user_id` that covers a case in the township `township_code`
/// (9 digits) and, when known, the village `village_code` (12 digits): one on the village, on the
/// township (a township's declaration covers its villages) or on the county (the first 6 digits
/// of the township's code, `domain::divisions`). The oldest such declaration when there are
/// several; `None` when there is none.
///
/// Errors: a database error.
pub fn find_conflict(
    conn: &mut DbConnection,
    user_id: &UserId,
    township_code: &str,
    village_code: Option<&str>,
) -> QueryResult<Option<ConflictDeclaration>> {
    let mut codes: Vec<&str> = vec![township_code];
    if let Some(county) = township_code.get(..COUNTY_CODE_LEN) {
        codes.push(county);
    }
    if let Some(village) = village_code {
        codes.push(village);
    }
    conflict_declarations::table
        .filter(conflict_declarations::user_id.eq(user_id))
        .filter(conflict_declarations::withdrawn_at.is_null())
        .filter(conflict_declarations::division_code.eq_any(codes))
        .order((
            conflict_declarations::declared_at,
            conflict_declarations::id,
        ))
        .select(ConflictDeclaration::as_select())
        .first(conn)
        .optional()
}

/// The declarations of `user_id`, active and withdrawn, oldest first.
pub fn of_user(conn: &mut DbConnection, user_id: &UserId) -> QueryResult<Vec<ConflictDeclaration>> {
    conflict_declarations::table
        .filter(conflict_declarations::user_id.eq(user_id))
        .order((
            conflict_declarations::declared_at,
            conflict_declarations::id,
        ))
        .select(ConflictDeclaration::as_select())
        .load(conn)
}

/// Why a declaration or a withdrawal was not made. Mapped to `ApiError` in `routes`.
#[derive(Debug, thiserror::Error)]
pub enum ConflictError {
    /// Fields broke their rules (422), each naming its field.
    #[error("{} field(s) of the request are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// No declaration of this user has the id (404).
    #[error("you have no declaration with this id")]
    NotFound,
    /// The declaration was withdrawn already (409 `already_retired`).
    #[error("the declaration was withdrawn already")]
    AlreadyWithdrawn,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A reason (`field`) after `text::clean`: 1–[`REASON_MAX`] characters.
fn check_reason(field: &'static str, reason: &str) -> Result<String, FieldViolation> {
    let reason = text::clean(reason);
    match text::check_length(&reason, 1, REASON_MAX) {
        None => Ok(reason),
        Some(p) => Err(FieldViolation::new(
            field,
            p.code(),
            format!("{field} must have 1–{REASON_MAX} characters"),
        )
        .limit(REASON_MAX)),
    }
}

/// Records that `user_id` must not handle matters in `division_code` (an existing division of
/// any level; full-width digits folded) for `reason` (1–500 characters), and records
/// `conflict.declared`, in one write transaction stamped `now` (UTC). Declaring the same
/// division twice keeps both rows: each is a statement on the record.
///
/// Errors: `Invalid` naming `division_code` (`unknown_division`) or `reason`; a database error.
pub fn declare(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    user_id: &UserId,
    division_code: &str,
    reason: &str,
) -> Result<ConflictDeclaration, ConflictError> {
    let code = text::compact_code(division_code);
    let mut violations = Vec::new();
    let reason = check_reason("reason", reason)
        .map_err(|v| violations.push(v))
        .ok();
    db::write_tx(conn, |conn| {
        if crate::divisions::find(conn, &code)?.is_none() {
            violations.push(FieldViolation::new(
                "division_code",
                ErrorCode::UnknownDivision,
                format!("no division has the code {code:?}"),
            ));
        }
        let Some(reason) = reason.filter(|_| violations.is_empty()) else {
            return Err(ConflictError::Invalid(violations));
        };
        let row = ConflictDeclaration {
            id: ConflictId::generate(),
            user_id: user_id.clone(),
            division_code: code.clone(),
            reason,
            declared_at: now,
            withdrawn_at: None,
            withdrawn_reason: None,
        };
        diesel::insert_into(conflict_declarations::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            "conflict.declared",
            "conflict_declaration",
            row.id.as_str(),
            serde_json::json!({ "user_id": row.user_id, "division_code": row.division_code }),
        )?;
        Ok(row)
    })
}

/// Withdraws the declaration `id` of `user_id` for `reason` (1–500 characters): the row stays
/// with `withdrawn_at` = `now` and the reason, and `conflict.withdrawn` is recorded, in one
/// write transaction.
///
/// Errors: `Invalid` naming `reason`; `NotFound` when `user_id` has no declaration `id`;
/// `AlreadyWithdrawn`; a database error.
pub fn withdraw(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    user_id: &UserId,
    id: &ConflictId,
    reason: &str,
) -> Result<ConflictDeclaration, ConflictError> {
    let reason = check_reason("reason", reason).map_err(|v| ConflictError::Invalid(vec![v]))?;
    db::write_tx(conn, |conn| {
        let mut row: ConflictDeclaration = conflict_declarations::table
            .find(id)
            .filter(conflict_declarations::user_id.eq(user_id))
            .select(ConflictDeclaration::as_select())
            .first(conn)
            .optional()?
            .ok_or(ConflictError::NotFound)?;
        if row.withdrawn_at.is_some() {
            return Err(ConflictError::AlreadyWithdrawn);
        }
        // Only while still active: of two concurrent withdrawals, one changes the row.
        let changed = diesel::update(conflict_declarations::table.find(id))
            .filter(conflict_declarations::withdrawn_at.is_null())
            .set((
                conflict_declarations::withdrawn_at.eq(Some(now)),
                conflict_declarations::withdrawn_reason.eq(Some(&reason)),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(ConflictError::AlreadyWithdrawn);
        }
        row.withdrawn_at = Some(now);
        row.withdrawn_reason = Some(reason);
        audit::record(
            conn,
            now,
            actor,
            "conflict.withdrawn",
            "conflict_declaration",
            id.as_str(),
            serde_json::json!({ "user_id": row.user_id, "division_code": row.division_code }),
        )?;
        Ok(row)
    })
}
