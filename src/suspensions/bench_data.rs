//! Synthetic data for the benefit-status benchmark (`scripts/bench-benefit-status.sh`,
//! docs/benchmarks.md): the country's order of magnitude of villages and of suspension periods,
//! written with plain multi-row `INSERT … VALUES` statements that both backends run as they are.
//!
//! - `villages` villages (700,000 in the benchmark) in counties of 100 townships of 100
//!   villages: county `910100 + c`, township `<county>1tt`, village `<township>2vv`, named
//!   `基准县c`, `基准乡c-t`, `基准村c-t-v`, all marked demo;
//! - `periods` suspension periods (100,000): period `k` lies in village slot `k mod S` (S = a
//!   tenth of the villages, spread by a multiplier coprime to S, ten villages apart), in round
//!   `k / S`; rounds are 1,000 days apart from 2021-01-01, each period lasting 30–329 days; a
//!   village's last round is still in force for one period in three. Each has one synthetic case
//!   number in its `suspension_periods` row (no case rows: the status path never reads them).
//!
//! `probity bench-data` runs it, refusing a production configuration and any database that
//! holds divisions already: it is for an empty benchmark database only.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::divisions;
use crate::db::DbConnection;

/// Villages per township, townships per county.
const PER: u64 = 100;
/// Rows per statement.
const CHUNK: u64 = 1000;
/// Coprime to every village-slot count used (its factors are not 2, 5 or 7).
const SPREAD: u64 = 6151;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub counties: u64,
    pub townships: u64,
    pub villages: u64,
    pub periods: u64,
    /// Periods still in force.
    pub open: u64,
}

/// The code of village number `i` (0-based).
pub fn village_code(i: u64) -> String {
    let (c, t, v) = (i / (PER * PER), (i / PER) % PER, i % PER);
    format!("{}{:03}{:03}", 910_100 + c, 100 + t, 200 + v)
}

fn time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn run(conn: &mut DbConnection, sql: &str) -> QueryResult<()> {
    diesel::sql_query(sql).execute(conn)?;
    Ok(())
}

/// Writes the data set described in the module docs into an empty database, in one
/// transaction per statement group.
///
/// Errors: the database holds divisions already; `villages` is 0 or over 10,000,000; any
/// database error.
pub fn generate(conn: &mut DbConnection, villages: u64, periods: u64) -> anyhow::Result<Generated> {
    if villages == 0 || villages > 10_000_000 {
        anyhow::bail!("--villages must be between 1 and 10000000");
    }
    let existing: i64 = divisions::table.count().get_result(conn)?;
    if existing > 0 {
        anyhow::bail!(
            "the database holds {existing} divisions: benchmark data goes into an empty database only"
        );
    }
    let townships = villages.div_ceil(PER);
    let counties = townships.div_ceil(PER);
    // Counties, then townships, then villages: each row's parent exists before it.
    let mut rows = Vec::new();
    for c in 0..counties {
        rows.push(format!(
            "('{}', '基准县{c}', 'county', NULL, TRUE)",
            910_100 + c
        ));
    }
    insert_chunks(
        conn,
        "divisions (code, name, level, parent_code, demo)",
        &rows,
    )?;
    rows.clear();
    for t in 0..townships {
        let (c, tt) = (t / PER, t % PER);
        rows.push(format!(
            "('{}{:03}', '基准乡{c}-{tt}', 'township', '{}', TRUE)",
            910_100 + c,
            100 + tt,
            910_100 + c
        ));
    }
    insert_chunks(
        conn,
        "divisions (code, name, level, parent_code, demo)",
        &rows,
    )?;
    rows.clear();
    for i in 0..villages {
        let code = village_code(i);
        let (c, t, v) = (i / (PER * PER), (i / PER) % PER, i % PER);
        rows.push(format!(
            "('{code}', '基准村{c}-{t}-{v}', 'village', '{}', TRUE)",
            &code[..9]
        ));
        if rows.len() as u64 == CHUNK * 20 {
            insert_chunks(
                conn,
                "divisions (code, name, level, parent_code, demo)",
                &rows,
            )?;
            rows.clear();
        }
    }
    insert_chunks(
        conn,
        "divisions (code, name, level, parent_code, demo)",
        &rows,
    )?;
    rows.clear();

    let slots = (villages / 10).max(1);
    // A multiplier sharing a factor with the slot count would put two periods of one round in
    // one village.
    let spread = if gcd(SPREAD, slots) == 1 { SPREAD } else { 1 };
    let epoch = NaiveDate::from_ymd_opt(2021, 1, 1)
        .and_then(|d| d.and_hms_opt(2, 0, 0))
        .expect("a valid date");
    let mut suspension_rows = Vec::new();
    let mut period_rows = Vec::new();
    let mut open = 0;
    for k in 0..periods {
        let slot = ((k % slots) * spread) % slots;
        let village = village_code((slot * 10).min(villages - 1));
        let round = k / slots;
        let start = epoch
            + Duration::days((round * 1000 + (k * 37) % 600) as i64)
            + Duration::minutes((k % 600) as i64);
        let last_round = k + slots >= periods;
        let lifted = if last_round && k % 3 == 0 {
            open += 1;
            None
        } else {
            Some(start + Duration::days(30 + ((k * 13) % 300) as i64))
        };
        let id = format!("bench-s-{k}");
        let lifted_sql = lifted.map_or("NULL".to_string(), |l| format!("'{}'", time(l)));
        suspension_rows.push(format!(
            "('{id}', '{village}', '{}', {lifted_sql})",
            time(start)
        ));
        let cases = format!(
            r#"[{{"case_id":"bench-c-{k}","number":"AJ-{}-{:06}","joined_at":"{}","cleared_at":{}}}]"#,
            start.format("%Y"),
            k + 1,
            start.format("%Y-%m-%dT%H:%M:%S%.6f"),
            lifted.map_or("null".to_string(), |l| format!(
                "\"{}\"",
                l.format("%Y-%m-%dT%H:%M:%S%.6f")
            ))
        );
        period_rows.push(format!(
            "('{id}', '{village}', '{}', {lifted_sql}, '{cases}')",
            time(start)
        ));
        if suspension_rows.len() as u64 == CHUNK * 20 {
            flush_periods(conn, &mut suspension_rows, &mut period_rows)?;
        }
    }
    flush_periods(conn, &mut suspension_rows, &mut period_rows)?;
    Ok(Generated {
        counties,
        townships,
        villages,
        periods,
        open,
    })
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn flush_periods(
    conn: &mut DbConnection,
    suspensions: &mut Vec<String>,
    periods: &mut Vec<String>,
) -> QueryResult<()> {
    insert_chunks(
        conn,
        "suspensions (id, village_code, started_at, lifted_at)",
        suspensions,
    )?;
    insert_chunks(
        conn,
        "suspension_periods (suspension_id, village_code, started_at, lifted_at, cases)",
        periods,
    )?;
    suspensions.clear();
    periods.clear();
    Ok(())
}

/// Inserts `rows` (SQL value tuples) into `target` (`table (columns)`), `CHUNK` rows per
/// statement, all in one write transaction.
fn insert_chunks(conn: &mut DbConnection, target: &str, rows: &[String]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crate::db::write_tx(conn, |conn| {
        for chunk in rows.chunks(CHUNK as usize) {
            run(
                conn,
                &format!("INSERT INTO {target} VALUES {}", chunk.join(", ")),
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn village_codes_are_twelve_digits_under_their_township() {
        assert_eq!(village_code(0), "910100100200");
        assert_eq!(village_code(99), "910100100299");
        assert_eq!(village_code(100), "910100101200");
        assert_eq!(village_code(699_999), "910169199299");
        assert!((0..700_000)
            .step_by(9_973)
            .all(|i| village_code(i).len() == 12));
    }
}
