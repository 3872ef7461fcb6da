//! Signer-based clawback (谁签字谁追回,谁签字谁负责; SPEC.md rule 3, "Domain model" → Clawback,
//! "Case handling" → Clawbacks; issue 11; docs/clawbacks.md).
//!
//! A clawback is one wrongly granted benefit on a filed case: the household (its name and ID
//! number sealed under the data key), the programme and grant period, the amount due in fen, a
//! deadline, the approval chain of signers, and a ledger of recoveries. What is outstanding is
//! derived from the ledger every time it is read (`domain::clawback::Figures`), never stored.
//!
//! - `record.rs`: `POST /cases/{id}/clawbacks` (with the signers, who are told by email)
//! - `ledger.rs`: corrections (`/amendments`), recoveries (`/recoveries`), write-offs
//! - `view.rs`: one clawback, the list, a signer's responsibility, the county summary
//! - `export.rs`: the same lists as CSV
//! - `routes.rs`: the thin handlers
//!
//! Every change runs in one `db::write_tx` that first locks the clawback's case
//! (`db::dialect::lock_case`), writes its audit entry (entity type `clawback`) and keeps the
//! case's clawback deadline (`cases.clawback_due`, part of `cases.due_on`) up to date.

pub mod export;
pub mod ledger;
pub mod models;
pub mod record;
pub mod routes;
pub mod view;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::cases::models::CaseRow;
use crate::cases::{deadlines_of, due_on_with_objections, CaseError};
use crate::clock::Clock;
use crate::crypto::DataKey;
use crate::db::schema::{cases, clawbacks, recoveries};
use crate::db::{dialect, DbConnection};
use crate::domain::case_status::{CaseDeadlines, CaseStatus};
use crate::domain::clawback::{Figures, OverRecovery};
use crate::domain::ids::{ClawbackId, TeamId, UserId};
use crate::domain::money::{Fen, MoneyError};
use crate::domain::roles::Role;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use models::{CaseRefRow, ClawbackRow, RecoveryAmountRow};

/// Everything the clawback endpoints share beside the pool: the clock, and the data key that
/// seals and opens the beneficiary's identity.
pub struct ClawbacksState {
    pub clock: Clock,
    pub data_key: DataKey,
}

/// The instant of a change and its county date.
#[derive(Debug, Clone, Copy)]
pub struct When {
    pub now: NaiveDateTime,
    pub today: NaiveDate,
}

/// Why a clawback request was not done. Mapped to `ApiError` at the HTTP edge (`From` below).
#[derive(Debug, thiserror::Error)]
pub enum ClawbackError {
    /// No case, clawback or official has this id (404).
    #[error("no {0} has this id")]
    NotFound(&'static str),
    /// The caller's roles or team do not allow this (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// Clawbacks are recorded on filed cases only (409 `case_not_filed`).
    #[error("the case is {}", .status.as_str())]
    CaseNotFiled { status: CaseStatus },
    /// Fields of the request are invalid (422).
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// The reference was used on this clawback for another amount (409 `reference_reused`).
    #[error("reference {reference:?} was used for {amount}")]
    ReferenceReused { reference: String, amount: Fen },
    /// More than is outstanding (422 `over_recovery`).
    #[error(transparent)]
    OverRecovery(#[from] OverRecovery),
    /// Nothing is outstanding to write off (409 `nothing_outstanding`).
    #[error("nothing is outstanding")]
    NothingOutstanding,
    /// The `version` sent is not the clawback's (409 `version_conflict`).
    #[error("the clawback is at version {current}")]
    VersionConflict { current: i32 },
    /// Already an `ApiError` (the database, the server).
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for ClawbackError {
    fn from(e: diesel::result::Error) -> ClawbackError {
        ClawbackError::Failed(e.into())
    }
}

impl From<MoneyError> for ClawbackError {
    /// The figures of a stored clawback did not compute: the ledger breaks its own rules.
    fn from(e: MoneyError) -> ClawbackError {
        ClawbackError::Failed(ApiError::unexpected(anyhow::anyhow!(
            "clawback figures: {e}"
        )))
    }
}

impl From<CaseError> for ClawbackError {
    fn from(e: CaseError) -> ClawbackError {
        match e {
            CaseError::NotFound(what) => ClawbackError::NotFound(what),
            CaseError::Forbidden(why) => ClawbackError::Forbidden(why),
            CaseError::Invalid(v) => ClawbackError::Invalid(v),
            other => ClawbackError::Failed(other.into()),
        }
    }
}

impl From<ClawbackError> for ApiError {
    fn from(e: ClawbackError) -> ApiError {
        use actix_web::http::StatusCode;
        match e {
            ClawbackError::NotFound(what) => ApiError::not_found(format!("No {what} has this id.")),
            ClawbackError::Forbidden(why) => ApiError::forbidden(why),
            ClawbackError::CaseNotFiled { status } => ApiError::conflict(
                ErrorCode::CaseNotFiled,
                format!(
                    "Clawbacks are recorded on a filed case (filed, concluded or closed); this \
                     case is {}.",
                    status.as_str()
                ),
            )
            .with_member("case_status", serde_json::json!(status.as_str())),
            ClawbackError::Invalid(v) => ApiError::validation(v),
            ClawbackError::ReferenceReused { reference, amount } => ApiError::conflict(
                ErrorCode::ReferenceReused,
                format!(
                    "Reference {reference:?} was recorded on this clawback for {amount} ({} fen); \
                     a recovery with another amount needs its own reference.",
                    amount.get()
                ),
            )
            .with_member("amount_fen", serde_json::json!(amount.get())),
            ClawbackError::OverRecovery(o) => {
                let mut e = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::OverRecovery,
                    format!(
                        "Only {} ({} fen) is outstanding on this clawback; a recovery may not \
                         exceed it.",
                        o.outstanding,
                        o.outstanding.get()
                    ),
                )
                .with_member("outstanding_fen", serde_json::json!(o.outstanding.get()));
                e.errors = vec![FieldViolation::new(
                    "amount_fen",
                    ErrorCode::OverRecovery,
                    format!(
                        "amount_fen is at most the outstanding {} fen",
                        o.outstanding.get()
                    ),
                )];
                e
            }
            ClawbackError::NothingOutstanding => ApiError::conflict(
                ErrorCode::NothingOutstanding,
                "Nothing is outstanding on this clawback, so there is nothing to write off.",
            ),
            ClawbackError::VersionConflict { current } => ApiError::conflict(
                ErrorCode::VersionConflict,
                format!(
                    "The clawback changed: it is now at version {current}. Reload it and try \
                     again."
                ),
            )
            .with_member("version", serde_json::json!(current)),
            ClawbackError::Failed(e) => e,
        }
    }
}

/// Who reads or changes clawbacks, for the team rule (SPEC.md → "Roles and permissions"):
/// supervisors, auditors, benefits officers and service keys see every clawback; an
/// investigator sees those of their teams' cases.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The staff member, or `None` for a service key.
    pub user_id: Option<String>,
    pub roles: Vec<Role>,
}

impl Reader {
    /// Whether the reader sees every clawback, not only their teams' cases'.
    pub fn sees_all(&self) -> bool {
        self.user_id.is_none()
            || self
                .roles
                .iter()
                .any(|r| matches!(r, Role::Supervisor | Role::Auditor | Role::Benefits))
    }

    /// The teams whose cases' clawbacks the reader sees, or `None` for all.
    ///
    /// Errors: database errors.
    pub fn visible_teams(&self, conn: &mut DbConnection) -> QueryResult<Option<Vec<TeamId>>> {
        match (&self.user_id, self.sees_all()) {
            (Some(user), false) => {
                crate::routing::teams_of(conn, &UserId::from(user.as_str())).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// Whether case `case_id` has a clawback recorded: that answers the case's clawback question
/// for the closing guard (SPEC.md → "Case": `close` is blocked by `clawback_unanswered` unless a
/// clawback is recorded or `POST /cases/{id}/clawback-statement` says there was no improper
/// payment).
///
/// Errors: database errors.
pub fn recorded_for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        clawbacks::table.filter(clawbacks::case_id.eq(case_id)),
    ))
    .get_result(conn)
}

/// Clawback `id` with its case, when it exists and `reader` may see it.
///
/// Errors: `NotFound("clawback")`; `Forbidden` for an investigator outside the case's team;
/// database errors.
pub fn find_visible(
    conn: &mut DbConnection,
    reader: &Reader,
    id: &str,
) -> Result<(ClawbackRow, CaseRefRow), ClawbackError> {
    let found: Option<(ClawbackRow, CaseRefRow)> = clawbacks::table
        .inner_join(cases::table)
        .filter(clawbacks::id.eq(id))
        .select((ClawbackRow::as_select(), CaseRefRow::as_select()))
        .first(conn)
        .optional()?;
    let (row, case) = found.ok_or(ClawbackError::NotFound("clawback"))?;
    if let Some(teams) = reader.visible_teams(conn)? {
        if !teams.contains(&case.team_id) {
            return Err(ClawbackError::Forbidden(
                "Investigators see only the clawbacks of their own teams' cases.",
            ));
        }
    }
    Ok((row, case))
}

/// The sum of the recoveries of each of `ids`, in fen (clawbacks with none are absent), read in
/// chunks of 500 ids.
///
/// Errors: a stored amount that is negative or a sum that overflows (500); database errors.
pub fn recovered_by_clawback(
    conn: &mut DbConnection,
    ids: &[ClawbackId],
) -> Result<HashMap<ClawbackId, Fen>, ClawbackError> {
    let mut sums: HashMap<ClawbackId, Fen> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<RecoveryAmountRow> = recoveries::table
            .filter(recoveries::clawback_id.eq_any(chunk))
            .select(RecoveryAmountRow::as_select())
            .load(conn)?;
        for r in rows {
            let sum = sums.entry(r.clawback_id).or_default();
            *sum = sum.checked_add(Fen::new(r.amount_fen)?)?;
        }
    }
    Ok(sums)
}

/// The figures of `row` with `recovered` (its recoveries' sum).
///
/// Errors: a stored amount that is negative.
pub fn figures_of(row: &ClawbackRow, recovered: Fen) -> Result<Figures, MoneyError> {
    Ok(Figures {
        due: Fen::new(row.amount_due_fen)?,
        recovered,
        written_off: Fen::new(row.written_off_fen)?,
    })
}

/// Locks case `case_id` for a change of its clawbacks (`db::dialect::lock_case`): the first
/// statement of every clawback write transaction, so changes of one case's clawbacks run one
/// after the other on both backends.
///
/// Errors: `NotFound("case")`; database errors.
pub fn lock(conn: &mut DbConnection, case_id: &str) -> Result<(), ClawbackError> {
    if dialect::lock_case(conn, case_id)? {
        Ok(())
    } else {
        Err(ClawbackError::NotFound("case"))
    }
}

/// The earliest `due_on` of the clawbacks of case `case_id` with money outstanding, or `None`.
///
/// Errors: figures that do not compute (500); database errors.
pub fn earliest_open_due(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Option<NaiveDate>, ClawbackError> {
    let rows: Vec<ClawbackRow> = clawbacks::table
        .filter(clawbacks::case_id.eq(case_id))
        .select(ClawbackRow::as_select())
        .load(conn)?;
    let ids: Vec<ClawbackId> = rows.iter().map(|r| r.id.clone()).collect();
    let recovered = recovered_by_clawback(conn, &ids)?;
    let mut earliest: Option<NaiveDate> = None;
    for row in &rows {
        let figures = figures_of(row, recovered.get(&row.id).copied().unwrap_or_default())?;
        if !figures.outstanding()?.is_zero() {
            earliest = Some(earliest.map_or(row.due_on, |e| e.min(row.due_on)));
        }
    }
    Ok(earliest)
}

/// Brings the case's clawback deadline (`cases.clawback_due`, and with it `cases.due_on`, the
/// earliest running deadline the queue sorts by and reminders read) up to date after a change
/// of its clawbacks. A case whose date changes gets a new version, so a change of the case
/// computed from the old date (a disposition racing this one) is refused `version_conflict`
/// instead of writing a stale `due_on`. Call after [`lock`], in the same transaction.
///
/// Returns the date before and after. Errors: database errors.
pub fn refresh_case_deadline(
    conn: &mut DbConnection,
    case_id: &str,
    now: NaiveDateTime,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ClawbackError> {
    let case: CaseRow = cases::table
        .find(case_id)
        .select(CaseRow::as_select())
        .first(conn)?;
    let due = earliest_open_due(conn, case_id)?;
    if due != case.clawback_due {
        let deadlines = CaseDeadlines {
            clawback_due: due,
            ..deadlines_of(&case)
        };
        diesel::update(cases::table.find(case_id))
            .set((
                cases::clawback_due.eq(due),
                cases::due_on.eq(due_on_with_objections(
                    conn,
                    case_id,
                    case.status,
                    &deadlines,
                )?),
                cases::version.eq(case.version + 1),
                cases::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok((case.clawback_due, due))
}
