//! The rows of the staff-account tables as diesel sees them: `users` (as the user
//! administration reads and writes it) and `user_roles` (teams are `routing::models`). Sign-in's own
//! views of `users` (credentials, TOTP, and `UserRow`, the account as shown) are in
//! `auth::models`, so that `auth` never reaches up into `users`. See docs/architecture.md → "The model layer".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{user_roles, users};
use crate::domain::ids::UserId;
use crate::domain::roles::Role;

/// A new account, with its password already hashed.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub id: &'a UserId,
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub active: bool,
    pub token_version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to an account by an administrator; `None` leaves a column as it is, and for a
/// nullable column `Some(None)` sets it to NULL.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    pub failed_logins: Option<i32>,
    pub locked_until: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// One role held by one user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_roles)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct UserRoleRow {
    pub user_id: UserId,
    pub role: Role,
}
