//! Idempotent requests: a client's `Idempotency-Key` makes a retried request answer what the
//! first one answered, instead of doing the work twice (docs/reporting.md, "Idempotency").
//! Answers are kept per scope (e.g. `reports.submit`), sealed under the data key (they may hold a
//! receipt code), and expire after the capability's time to live; [`sweep`] deletes expired ones
//! (on every lookup and from the `sweep_expired_replays` job).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::crypto::DataKey;
use crate::db::schema::idempotency_keys;
use crate::db::DbConnection;
use crate::error::ApiError;

/// A request's key and the fingerprint of what it asked for: the same key with another
/// fingerprint is a conflict.
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

/// What an earlier request with the same key left.
pub enum Replay<T> {
    /// Nothing: do the work.
    None,
    /// The same request was answered already: answer this again.
    Same(T),
    /// The key was used for a different request.
    Conflict,
}

/// A saved answer to an idempotent request.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct IdempotencyRow {
    pub scope: String,
    pub idem_key: String,
    pub request_hash: String,
    /// The answer, sealed under the data key.
    pub response: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct NewIdempotency<'a> {
    pub scope: &'a str,
    pub idem_key: &'a str,
    pub request_hash: &'a str,
    pub response: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// The associated data an answer is sealed with: binds it to its scope and key.
fn aad(scope: &str, key: &str) -> String {
    format!("idempotency:{scope}:{key}")
}

/// Deletes the answers that expired at `now`; returns how many.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.le(now)))
        .execute(conn)
}

/// Looks up the answer saved under `scope` and `idem.key`, after sweeping what expired at `now`.
/// Errors: the database, or a saved answer that does not open or parse (500).
pub fn find_replay<T: DeserializeOwned>(
    conn: &mut DbConnection,
    data_key: &DataKey,
    scope: &str,
    idem: &Idempotency,
    now: NaiveDateTime,
) -> Result<Replay<T>, ApiError> {
    sweep(conn, now)?;
    let saved: Option<IdempotencyRow> = idempotency_keys::table
        .find((scope, &idem.key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    match saved {
        None => Ok(Replay::None),
        Some(row) if row.request_hash != idem.fingerprint => Ok(Replay::Conflict),
        Some(row) => {
            let plain = data_key
                .decrypt(&row.response, &aad(scope, &idem.key))
                .map_err(|e| ApiError::unexpected(e.into()))?;
            let answer: T =
                serde_json::from_slice(&plain).map_err(|e| ApiError::unexpected(e.into()))?;
            Ok(Replay::Same(answer))
        }
    }
}

/// Saves `answer` under `scope` and `idem.key`, sealed, until `now + ttl`. Call in the
/// transaction that did the work. Errors: the database (a unique violation when another request
/// with the same key won the race: look the answer up again with [`find_replay`]).
pub fn save_answer<T: Serialize>(
    conn: &mut DbConnection,
    data_key: &DataKey,
    scope: &str,
    idem: &Idempotency,
    answer: &T,
    now: NaiveDateTime,
    ttl: chrono::Duration,
) -> Result<(), ApiError> {
    let plain = serde_json::to_vec(answer).map_err(|e| ApiError::unexpected(e.into()))?;
    diesel::insert_into(idempotency_keys::table)
        .values(NewIdempotency {
            scope,
            idem_key: &idem.key,
            request_hash: &idem.fingerprint,
            response: data_key.encrypt(&plain, &aad(scope, &idem.key)),
            created_at: now,
            expires_at: now + ttl,
        })
        .execute(conn)?;
    Ok(())
}
