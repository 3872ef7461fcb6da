//! Reference data: administrative divisions (county → township → village, 12-digit
//! statistical codes) and the officials who serve in them.
//!
//! - `rules`: code, level, name and parent rules (pure)
//! - `import`: parsing and checking a divisions CSV file (pure)
//! - `officials`: officials' queries and changes
//! - `demo`: the embedded demo data set (寻乌县) and its loader
//! - `routes`: the HTTP endpoints
//!
//! Divisions and officials are never deleted: history (reports, cases, signers) points at them.
//! See docs/reference-data.md.

pub mod demo;
pub mod import;
pub mod models;
pub mod officials;
pub mod routes;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use self::import::{Action, PlannedRow};
use self::models::{DivisionChanges, NewDivisionRow};
use actix_web::http::StatusCode;

use crate::audit::{self, Actor};
use crate::db::schema::divisions;
use crate::db::{self, DbConnection};
use crate::domain::divisions::Level;
use crate::error::{ApiError, ErrorCode, FieldViolation};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = divisions)]
pub struct Division {
    /// 统计用区划代码: 6 digits for a county, 9 for a township, 12 for a village.
    pub code: String,
    pub name: String,
    /// `county`, `township` or `village`.
    pub level: String,
    pub parent_code: Option<String>,
    /// True for the illustrative demo data set.
    pub demo: bool,
}

pub fn find(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Division>> {
    divisions::table
        .find(code)
        .select(Division::as_select())
        .first(conn)
        .optional()
}

/// The divisions among `codes` that exist, in no particular order (one query).
pub fn find_many(conn: &mut DbConnection, codes: &[&str]) -> QueryResult<Vec<Division>> {
    divisions::table
        .filter(divisions::code.eq_any(codes))
        .select(Division::as_select())
        .load(conn)
}

/// The children of `parent`, or the top level (counties) when `parent` is `None`; by code.
pub fn children(conn: &mut DbConnection, parent: Option<&str>) -> QueryResult<Vec<Division>> {
    let query = divisions::table
        .select(Division::as_select())
        .order(divisions::code.asc())
        .into_boxed();
    match parent {
        Some(p) => query
            .filter(divisions::parent_code.eq(p.to_string()))
            .load(conn),
        None => query.filter(divisions::parent_code.is_null()).load(conn),
    }
}

/// A page of [`children`], after the code `after`.
pub fn children_page(
    conn: &mut DbConnection,
    parent: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Division>> {
    let mut query = divisions::table
        .select(Division::as_select())
        .order(divisions::code.asc())
        .into_boxed();
    query = match parent {
        Some(p) => query.filter(divisions::parent_code.eq(p.to_string())),
        None => query.filter(divisions::parent_code.is_null()),
    };
    if let Some(a) = after {
        query = query.filter(divisions::code.gt(a.to_string()));
    }
    query.limit(limit).load(conn)
}

/// Every division, by code: what an import is checked against.
pub fn all_by_code(conn: &mut DbConnection) -> QueryResult<HashMap<String, Division>> {
    Ok(divisions::table
        .select(Division::as_select())
        .load(conn)?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect())
}

/// A checked new division.
#[derive(Debug, Clone)]
pub struct NewDivision {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent_code: Option<String>,
    pub demo: bool,
}

/// Inserts a division and records `division.created`. Call inside `db::write_tx`, after the
/// checks in `rules` (the parent must exist).
///
/// `now` is the entry's time (the caller's clock). Errors: any database error.
pub fn insert(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    new: &NewDivision,
    via: &str,
) -> QueryResult<()> {
    diesel::insert_into(divisions::table)
        .values(NewDivisionRow {
            code: &new.code,
            name: &new.name,
            level: new.level,
            parent_code: new.parent_code.as_deref(),
            demo: new.demo,
        })
        .execute(conn)?;
    audit::record(
        conn,
        now,
        actor,
        "division.created",
        "division",
        &new.code,
        serde_json::json!({
            "name": new.name,
            "level": new.level.as_str(),
            "parent_code": new.parent_code,
            "demo": new.demo,
            "via": via,
        }),
    )?;
    Ok(())
}

/// Renames a division (and, when `clear_demo`, marks it as real data) and records
/// `division.updated`. Call inside `db::write_tx`.
///
/// `now` is the entry's time (the caller's clock). Errors: any database error.
pub fn rename(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    current: &Division,
    name: &str,
    clear_demo: bool,
    via: &str,
) -> QueryResult<()> {
    let demo = current.demo && !clear_demo;
    diesel::update(divisions::table.find(&current.code))
        .set(&DivisionChanges {
            name: Some(name),
            demo: Some(demo),
        })
        .execute(conn)?;
    audit::record(
        conn,
        now,
        actor,
        "division.updated",
        "division",
        &current.code,
        serde_json::json!({
            "name": {"from": current.name, "to": name},
            "demo": {"from": current.demo, "to": demo},
            "via": via,
        }),
    )?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportCounts {
    /// New divisions.
    pub inserted: usize,
    /// Existing divisions renamed (or, for demo rows, confirmed as real data).
    pub updated: usize,
    /// Rows that matched an existing division exactly.
    pub unchanged: usize,
}

/// Why a divisions import wrote nothing. Mapped to `ApiError` at the HTTP edge (`From` below);
/// the CLI prints the lines.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The upload is not declared as UTF-8 CSV; says what to send instead (415).
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// The upload broke off before its end (400).
    #[error("the body could not be read: {0}")]
    Unreadable(String),
    /// The upload is larger than this many bytes (413).
    #[error("the file is larger than the {0} bytes accepted")]
    TooLarge(usize),
    /// The upload is not UTF-8 text (422).
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    /// One entry per bad line; nothing was written (422).
    #[error("the file has errors; nothing was imported")]
    Invalid(Vec<FieldViolation>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> ApiError {
        match e {
            ImportError::UnsupportedMediaType(detail) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                detail,
            ),
            ImportError::Unreadable(why) => ApiError::bad_request(
                ErrorCode::BadBody,
                format!("The body could not be read: {why}"),
            ),
            ImportError::TooLarge(limit) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("The file is larger than the {limit} bytes accepted."),
            ),
            ImportError::NotUtf8 => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidEncoding,
                "The file is not UTF-8 text. Save it as \"CSV UTF-8\" and send it again.",
            ),
            ImportError::Invalid(errors) => {
                let lines = errors.len();
                let mut api = ApiError::validation(errors);
                api.detail =
                    format!("Nothing was imported: {lines} line(s) have errors; see `errors`.");
                api
            }
            ImportError::Database(d) => d.into(),
        }
    }
}

/// The text of an uploaded divisions CSV file (the API's body, the console's file): it must be
/// UTF-8 (a BOM is allowed; [`import::plan`] drops it).
///
/// Errors: [`ImportError::NotUtf8`].
pub fn csv_text(bytes: Vec<u8>) -> Result<String, ImportError> {
    String::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)
}

/// Imports a divisions CSV file (see [`import`]) in one transaction: every row or none.
/// New codes are inserted; existing codes are renamed to the file's name. Data imported this
/// way is real data: it clears the `demo` flag of the rows it names.
///
/// `now` stamps the audit entries (the caller's clock). Errors: [`ImportError::Invalid`] with
/// every bad line (nothing written), or a database error.
pub fn import_csv(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    text: &str,
) -> Result<ImportCounts, ImportError> {
    db::write_tx(conn, |conn| {
        let existing = all_by_code(conn)?;
        let rows = import::plan(text, &existing).map_err(ImportError::Invalid)?;
        Ok(apply(conn, now, actor, &rows, false)?)
    })
}

/// Writes planned rows. For demo data (`demo`), existing divisions are left exactly as they
/// are; otherwise they take the file's name and lose the demo flag.
fn apply(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    rows: &[PlannedRow],
    demo: bool,
) -> QueryResult<ImportCounts> {
    let via = if demo { "demo-data" } else { "import" };
    let mut counts = ImportCounts::default();
    for PlannedRow { row, action } in rows {
        match action {
            Action::Insert => {
                let new = NewDivision {
                    code: row.code.clone(),
                    name: row.name.clone(),
                    level: row.level,
                    parent_code: row.parent_code.clone(),
                    demo,
                };
                insert(conn, now, actor, &new, via)?;
                counts.inserted += 1;
            }
            Action::Existing {
                name,
                demo: was_demo,
            } if !demo && (name != &row.name || *was_demo) => {
                let current = Division {
                    code: row.code.clone(),
                    name: name.clone(),
                    level: row.level.as_str().to_string(),
                    parent_code: row.parent_code.clone(),
                    demo: *was_demo,
                };
                rename(conn, now, actor, &current, &row.name, true, via)?;
                counts.updated += 1;
            }
            Action::Existing { .. } => counts.unchanged += 1,
        }
    }
    Ok(counts)
}
