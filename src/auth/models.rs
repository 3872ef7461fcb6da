//! Sign-in's rows, as diesel sees them: `refresh_tokens`, `api_keys`, and sign-in's own views of
//! `users` (credentials, session checks, TOTP) with the changes sign-in makes to an account.
//! Kept here rather than borrowed from `users`, so that `auth` never reaches up into `users`.
//! See docs/architecture.md → "The model layer".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{api_keys, refresh_tokens, users};
use crate::domain::ids::{ApiKeyId, RefreshTokenId, UserId};

/// What signing in needs to know about an account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct CredentialsRow {
    pub id: UserId,
    pub password_hash: String,
    pub active: bool,
    pub email: Option<String>,
    pub token_version: i32,
    pub locked_until: Option<NaiveDateTime>,
    /// Sealed under the data key.
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
}

/// What checking an access token or a refresh needs to know about an account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SessionUserRow {
    pub username: String,
    pub active: bool,
    pub token_version: i32,
    pub totp_enabled: bool,
}

/// An account's TOTP state during enrolment.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct TotpRow {
    /// Sealed under the data key.
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled: bool,
    /// The last TOTP time step accepted: a code of this step or earlier is refused.
    pub totp_last_step: Option<i64>,
}

/// Changes sign-in makes to an account; `None` leaves a column as it is, and for a nullable
/// column `Some(None)` sets it to NULL.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct CredentialChanges {
    pub password_hash: Option<String>,
    pub failed_logins: Option<i32>,
    pub locked_until: Option<Option<NaiveDateTime>>,
    pub totp_secret: Option<Option<Vec<u8>>>,
    pub totp_enabled: Option<bool>,
    pub totp_last_step: Option<Option<i64>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A refresh token: only its hash is stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RefreshTokenRow {
    pub id: RefreshTokenId,
    pub user_id: UserId,
    pub family_id: String,
    pub token_hash: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: RefreshTokenId,
    pub user_id: &'a str,
    pub family_id: &'a str,
    pub token_hash: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A service API key: only the hash of its secret is stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    pub secret_hash: String,
    /// Comma-separated scope names.
    pub scopes: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub name: &'a str,
    pub secret_hash: String,
    pub scopes: String,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
}

/// A staff account as the administration shows it. Never the password hash or TOTP secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub active: bool,
    pub totp_enabled: bool,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}
