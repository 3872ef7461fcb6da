//! Staff accounts. The foundation creates them (the first admin through `probity user create`);
//! sign-in and the admin API build on this.

pub mod models;
pub mod routes;

use diesel::prelude::*;

use self::models::{NewUserRow, UserRoleRow};
use chrono::NaiveDateTime;

use crate::audit::{self, Actor};
use crate::db::schema::{user_roles, users};
use crate::db::{self, DbConnection};
use crate::domain::ids::UserId;
use crate::domain::roles::Role;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username must be 3–64 characters of a–z, 0–9, '.', '_' or '-'")]
    BadUsername,
    #[error("a user needs at least one role")]
    NoRoles,
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub fn valid_username(username: &str) -> bool {
    (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Creates a user with an already-computed password hash, its roles and an audit entry, in one
/// write transaction, all stamped `now` (the caller's clock). Returns the new user's id.
///
/// Errors: [`CreateUserError`] for a bad username, no roles, a taken username or a database
/// error.
pub fn create_user(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    user: &NewUser,
    password_hash: &str,
) -> Result<String, CreateUserError> {
    if !valid_username(&user.username) {
        return Err(CreateUserError::BadUsername);
    }
    if user.roles.is_empty() {
        return Err(CreateUserError::NoRoles);
    }
    db::write_tx(conn, |conn| {
        let taken: i64 = users::table
            .filter(users::username.eq(&user.username))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(CreateUserError::UsernameTaken(user.username.clone()));
        }
        let user_id = UserId::generate();
        let id = user_id.as_str().to_string();
        diesel::insert_into(users::table)
            .values(NewUserRow {
                id: &user_id,
                username: &user.username,
                display_name: &user.display_name,
                email: user.email.as_deref(),
                password_hash,
                active: true,
                token_version: 0,
                created_at: now,
                updated_at: now,
            })
            .execute(conn)?;
        let mut held: Vec<Role> = user.roles.clone();
        held.sort_by_key(|r| r.as_str());
        held.dedup();
        let roles: Vec<&str> = held.iter().map(|r| r.as_str()).collect();
        for role in &held {
            diesel::insert_into(user_roles::table)
                .values(UserRoleRow {
                    user_id: user_id.clone(),
                    role: *role,
                })
                .execute(conn)?;
        }
        audit::record(
            conn,
            now,
            actor,
            "user.created",
            "user",
            &id,
            serde_json::json!({ "username": user.username, "roles": roles }),
        )?;
        Ok(id)
    })
}
