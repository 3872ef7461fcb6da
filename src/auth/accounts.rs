//! How a staff account is shown through the API (sign-in's `me` and the user administration).
//! Never the password hash or TOTP secret. It lives in `auth`, below `users`, so both use it and
//! every import points down.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::UserRow;
use crate::db::schema::{team_members, teams, user_roles, users};
use crate::db::DbConnection;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub teams: Vec<String>,
    pub active: bool,
    pub totp_enabled: bool,
    /// Set while the account is locked after failed sign-ins.
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn view(conn: &mut DbConnection, row: UserRow) -> QueryResult<UserView> {
    let mut roles: Vec<String> = user_roles::table
        .filter(user_roles::user_id.eq(&row.id))
        .select(user_roles::role)
        .load(conn)?;
    roles.sort();
    let team_names: Vec<String> = team_members::table
        .inner_join(teams::table)
        .filter(team_members::user_id.eq(&row.id))
        .select(teams::name)
        .order(teams::name)
        .load(conn)?;
    Ok(UserView {
        id: row.id.into_string(),
        username: row.username,
        display_name: row.display_name,
        email: row.email,
        roles,
        teams: team_names,
        active: row.active,
        totp_enabled: row.totp_enabled,
        locked_until: row.locked_until.map(|t| t.and_utc()),
        created_at: row.created_at.and_utc(),
    })
}

pub fn load_user_view(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserView>> {
    let row = users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| view(conn, r)).transpose()
}

/// A page of users ordered by username, after `after` (the cursor).
pub fn list_user_views(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<UserView>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::username.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(users::username.gt(after.to_string()));
    }
    let rows = query.load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}
