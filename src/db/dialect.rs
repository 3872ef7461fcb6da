//! Every backend-specific SQL statement of Probity, in one place. Everything else is portable
//! diesel over [`DbConnection`]; what differs between PostgreSQL and SQLite is a `match` on the
//! connection's variant here, behind a named function. docs/architecture.md → "Backend-specific
//! SQL" lists them.
//!
//! | function | PostgreSQL | SQLite |
//! |---|---|---|
//! | [`begin_write`] | `BEGIN` | `BEGIN IMMEDIATE` (take the write lock up front) |
//! | [`lock_migrations`] / [`unlock_migrations`] | `pg_advisory_lock` | nothing (one writer) |
//! | [`lock_audit_head`] | `SELECT … FOR UPDATE` | plain select (`BEGIN IMMEDIATE` holds the lock) |
//! | [`lock_case`] | `SELECT … FOR UPDATE` | plain select under the write lock |
//! | [`claim_jobs`] | `SELECT … FOR UPDATE SKIP LOCKED` | plain select under the write lock |
//! | [`insert_job_if_absent`] | `ON CONFLICT DO NOTHING` | same statement, SQLite connection |
//! | [`increment_counter`], [`add_to_counter`] | `ON CONFLICT DO UPDATE … RETURNING` | same statement, SQLite connection |
//! | [`insert_batch`] | multi-row `INSERT … VALUES` | same statement, SQLite connection |
//! | [`prepare_bulk_load`] | nothing | `PRAGMA cache_size` of 256 MiB |
//! | [`refresh_statistics`] | `VACUUM FULL`, `VACUUM (ANALYZE)` | `PRAGMA optimize` |
//! | [`lock_division`] | `SELECT … FOR UPDATE` | plain select (`BEGIN IMMEDIATE` holds the lock) |
//! | [`lock_case`] | `SELECT … FOR UPDATE` | plain select (`BEGIN IMMEDIATE` holds the lock) |
//!
//! `ON CONFLICT` is spoken by both backends, but diesel builds it per backend and not over
//! `MultiConnection`, so those statements run on each variant's own connection.

use chrono::NaiveDateTime;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::query_builder::InsertStatement;
use diesel::query_dsl::methods::ExecuteDsl;

use super::models::{ChainHeadRow, CounterRow, JobRow};
use super::schema::{audit_chain_head, cases, counters, divisions, jobs, teams};
use super::DbConnection;
use crate::domain::ids::TeamId;

/// The PostgreSQL advisory-lock key that serialises migrations across starting instances.
const MIGRATIONS_LOCK_KEY: i64 = 7263001;

/// Opens a write transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is taken up front
/// (waiting on `busy_timeout`) instead of failing with "database is locked" half-way; an ordinary
/// `BEGIN` on PostgreSQL. The caller commits or rolls back (see [`super::write_tx`]).
pub fn begin_write(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c),
    }
}

/// Takes the session-level lock that keeps several starting instances from migrating at once
/// (PostgreSQL `pg_advisory_lock`; SQLite needs none). Release with [`unlock_migrations`].
pub fn lock_migrations(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATIONS_LOCK_KEY})"))
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// Releases the lock of [`lock_migrations`].
pub fn unlock_migrations(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATIONS_LOCK_KEY})"))
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// Locks the audit chain head row until the transaction ends, so concurrent appends never fork
/// the chain, and returns it (the last sequence number and hash), in one statement:
/// `SELECT … FOR UPDATE` on PostgreSQL; on SQLite a plain select, since the `BEGIN IMMEDIATE`
/// of [`begin_write`] already holds the database write lock. Call inside a write transaction.
pub fn lock_audit_head(conn: &mut DbConnection) -> QueryResult<ChainHeadRow> {
    macro_rules! head {
        () => {
            audit_chain_head::table
                .find(1)
                .select(ChainHeadRow::as_select())
        };
    }
    match conn {
        DbConnection::Postgresql(c) => head!().for_update().first(c),
        DbConnection::Sqlite(c) => head!().first(c),
    }
}

/// Locks the team `id` until the transaction ends, so two replacements of its members run one
/// after the other, and says whether the team exists: `SELECT … FOR UPDATE` on PostgreSQL; on
/// SQLite a plain select under the write lock of [`begin_write`]. Call inside a write
/// transaction.
pub fn lock_team(conn: &mut DbConnection, id: &TeamId) -> QueryResult<bool> {
    macro_rules! team {
        () => {
            teams::table.find(id).select(teams::id)
        };
    }
    let found: Option<TeamId> = match conn {
        DbConnection::Postgresql(c) => team!().for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => team!().first(c).optional()?,
    };
    Ok(found.is_some())
}

/// Locks the division `code` until the transaction ends, so two filings in one village open or
/// join its suspension one after the other (never two open suspensions), and says whether the
/// division exists: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite a plain select under the write
/// lock of [`begin_write`]. Call inside a write transaction.
pub fn lock_division(conn: &mut DbConnection, code: &str) -> QueryResult<bool> {
    macro_rules! division {
        () => {
            divisions::table.find(code).select(divisions::code)
        };
    }
    let found: Option<String> = match conn {
        DbConnection::Postgresql(c) => division!().for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => division!().first(c).optional()?,
    };
    Ok(found.is_some())
}

/// Locks the case `id` until the transaction ends, so changes that read the case's other records
/// before writing it (concluding its investigations, closing it) run one after the other, each
/// reading what the one before committed; says whether the case exists. `SELECT … FOR UPDATE` on
/// PostgreSQL; on SQLite a plain select under the write lock of [`begin_write`]. Call inside a
/// write transaction.
/// Every change of a case's clawbacks takes it first too, so concurrent recoveries can never
/// together exceed the amount due.
pub fn lock_case(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    macro_rules! case {
        () => {
            cases::table.find(id).select(cases::id)
        };
    }
    let found: Option<String> = match conn {
        DbConnection::Postgresql(c) => case!().for_update().first(c).optional()?,
        DbConnection::Sqlite(c) => case!().first(c).optional()?,
    };
    Ok(found.is_some())
}

/// Loads up to `batch` due jobs of the given kinds, oldest first, locking them for the caller's
/// write transaction. Due: pending with `run_at` empty or reached, or running with a lease that
/// ended before `now` (a worker that died mid-run). PostgreSQL skips rows other workers hold
/// (`FOR UPDATE SKIP LOCKED`); on SQLite the write lock of [`begin_write`] keeps others out.
pub fn claim_jobs(
    conn: &mut DbConnection,
    kinds: &[String],
    pending: &str,
    running: &str,
    now: NaiveDateTime,
    batch: i64,
) -> QueryResult<Vec<JobRow>> {
    macro_rules! due {
        () => {
            jobs::table
                .filter(jobs::kind.eq_any(kinds))
                .filter(
                    jobs::status
                        .eq(pending)
                        .and(jobs::run_at.is_null().or(jobs::run_at.le(now)))
                        .or(jobs::status.eq(running).and(jobs::locked_until.lt(now))),
                )
                .order((jobs::created_at.asc(), jobs::id.asc()))
                .limit(batch)
                .select(JobRow::as_select())
        };
    }
    match conn {
        DbConnection::Postgresql(c) => due!().for_update().skip_locked().load(c),
        DbConnection::Sqlite(c) => due!().load(c),
    }
}

/// Inserts `row` unless a job with the same `(kind, period)` exists (the UNIQUE key of recurring
/// jobs): `INSERT … ON CONFLICT (kind, period) DO NOTHING`. Returns whether a row was inserted.
/// Safe to call from every instance at once.
pub fn insert_job_if_absent(conn: &mut DbConnection, row: &JobRow) -> QueryResult<bool> {
    let insert = diesel::insert_into(jobs::table)
        .values(row)
        .on_conflict((jobs::kind, jobs::period))
        .do_nothing();
    let inserted = match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(inserted == 1)
}

/// Adds one to the counter `name` (creating it at 1) and returns the new value, in one
/// statement: [`add_to_counter`] by one. Call inside a write transaction so the value is the
/// caller's alone.
pub fn increment_counter(conn: &mut DbConnection, name: &str) -> QueryResult<i64> {
    add_to_counter(conn, name, 1)
}

/// Adds `by` (at least 1) to the counter `name` (creating it at `by`) and returns the new
/// value, in one statement: `INSERT … ON CONFLICT (name) DO UPDATE SET value = value + by
/// RETURNING value`. The caller owns the `by` values up to it (a range of case numbers, for
/// `probity generate-cases`). Call inside a write transaction.
pub fn add_to_counter(conn: &mut DbConnection, name: &str, by: i64) -> QueryResult<i64> {
    let first = CounterRow {
        name: name.to_string(),
        value: by,
    };
    let upsert = diesel::insert_into(counters::table)
        .values(&first)
        .on_conflict(counters::name)
        .do_update()
        .set(counters::value.eq(counters::value + by))
        .returning(counters::value);
    match conn {
        DbConnection::Postgresql(c) => upsert.get_result(c),
        DbConnection::Sqlite(c) => upsert.get_result(c),
    }
}

/// Inserts `rows` (a slice of an `Insertable` row type of `table`) in one multi-row
/// `INSERT … VALUES (…), (…)` and returns how many were inserted. The statement is the same on
/// both backends, but diesel builds a batch insert per backend only (not over
/// `MultiConnection`), so it runs on each variant's own connection. Keep the binds under
/// SQLite's 32,766 (rows × columns).
pub fn insert_batch<T, V>(conn: &mut DbConnection, table: T, rows: V) -> QueryResult<usize>
where
    T: Table,
    V: Insertable<T>,
    InsertStatement<T, V::Values>:
        ExecuteDsl<diesel::PgConnection> + ExecuteDsl<diesel::SqliteConnection>,
{
    let insert = diesel::insert_into(table).values(rows);
    match conn {
        DbConnection::Postgresql(c) => insert.execute(c),
        DbConnection::Sqlite(c) => insert.execute(c),
    }
}

/// Readies this connection for a bulk load of `cases` (`probity generate-cases`): SQLite gets a
/// page cache of 256 MiB for the connection (`PRAGMA cache_size`; the default 2 MiB makes every
/// insert into the eight indexes of a million-row table read its pages again); PostgreSQL needs
/// nothing (its shared buffers serve every connection).
pub fn prepare_bulk_load(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(_) => Ok(()),
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA cache_size = -262144"),
    }
}

/// After a bulk load of `cases` (`probity generate-cases`), brings the tables and the
/// planner's knowledge up to date at once instead of when autovacuum gets to it. PostgreSQL:
/// `VACUUM FULL case_counts` (its few hundred rows were rewritten once per insert statement, and
/// the dead versions would leave thousands of empty pages for every unfiltered count to read),
/// then `VACUUM (ANALYZE) cases` (the visibility map lets the queue's filtered counts be
/// index-only scans). SQLite: `PRAGMA optimize`. Run outside a transaction.
pub fn refresh_statistics(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        // One statement per call: several in one would run as one transaction, where VACUUM
        // is refused.
        DbConnection::Postgresql(c) => {
            c.batch_execute("VACUUM FULL case_counts")?;
            c.batch_execute("VACUUM (ANALYZE) cases, case_counts")
        }
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA optimize"),
    }
}
