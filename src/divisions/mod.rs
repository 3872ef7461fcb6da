//! Reference data: administrative divisions (county → township → village, 12-digit
//! statistical codes) and the officials who serve in them.

pub mod routes;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::divisions;
use crate::db::DbConnection;

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

/// The children of `parent`, or the top level (counties) when `parent` is `None`; by code.
pub fn children(conn: &mut DbConnection, parent: Option<&str>) -> QueryResult<Vec<Division>> {
    let query = divisions::table
        .select(Division::as_select())
        .order(divisions::code.asc())
        .into_boxed();
    match parent {
        Some(p) => query.filter(divisions::parent_code.eq(p.to_string())).load(conn),
        None => query.filter(divisions::parent_code.is_null()).load(conn),
    }
}
