//! The rows of the reference-data tables as diesel sees them: `divisions` (read as
//! [`super::Division`], which is also the API's shape) and `officials`. See
//! docs/architecture.md → "The model layer".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{divisions, officials};
use crate::domain::divisions::Level;
use crate::domain::ids::OfficialId;

#[derive(Debug, Insertable)]
#[diesel(table_name = divisions)]
pub struct NewDivisionRow<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: Level,
    pub parent_code: Option<&'a str>,
    pub demo: bool,
}

/// Changes to a division; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = divisions)]
pub struct DivisionChanges<'a> {
    pub name: Option<&'a str>,
    pub demo: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = officials)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct OfficialRow {
    pub id: OfficialId,
    pub name: String,
    pub post: String,
    pub level: Level,
    pub division_code: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// Where the official is told of clawbacks that name them as a signer; optional.
    pub email: Option<String>,
}

/// Which post is held in which division, for the demo loader's "already there" check.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = officials)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct OfficialPostRow {
    pub division_code: String,
    pub post: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = officials)]
pub struct NewOfficialRow<'a> {
    pub id: &'a OfficialId,
    pub name: &'a str,
    pub post: &'a str,
    pub level: Level,
    pub division_code: &'a str,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub email: Option<&'a str>,
}

/// Changes to an official; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = officials)]
pub struct OfficialChanges<'a> {
    pub name: Option<&'a str>,
    pub post: Option<&'a str>,
    pub level: Option<Level>,
    pub division_code: Option<&'a str>,
    pub active: Option<bool>,
    pub email: Option<Option<&'a str>>,
}
