//! Access tokens (JWT, HS256 pinned) and refresh tokens (256-bit random, stored as SHA-256,
//! single use, rotated within a family; reuse of a spent token revokes the family).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::models::{NewRefreshToken, RefreshTokenRow};
use crate::db::schema::{refresh_tokens, staff_sessions};
use crate::db::DbConnection;
use crate::domain::ids::RefreshTokenId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub roles: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// The user's token_version when issued; a bump invalidates the token at once.
    pub tv: i32,
    /// Issued to a user who must enrol TOTP first: good only for `/me` and `/me/totp*`.
    #[serde(default)]
    pub totp_enrolment_only: bool,
    /// The sign-in (session) this token belongs to: a `staff_sessions` row, whose id is also
    /// the refresh-token family id. Each request checks the row is not ended, so a sign-out
    /// ends the token at once (OWASP ASVS 3.3.1). A token without it is refused.
    #[serde(default)]
    pub sid: String,
}

/// Seconds of clock skew allowed when checking a token's `exp`.
pub const EXPIRY_LEEWAY_SECS: i64 = 5;

/// Whether a token with expiry `exp` (Unix seconds) is still good `now` (the application's
/// clock), allowing [`EXPIRY_LEEWAY_SECS`]. Used for staff and reporter tokens alike; the
/// library's own expiry check (system clock) is turned off.
pub fn unexpired(exp: i64, now: DateTime<Utc>) -> bool {
    exp + EXPIRY_LEEWAY_SECS >= now.timestamp()
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the application's clock in `verify`, not the system clock.
        validation.validate_exp = false;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        }
    }

    /// Signs an access token for `user_id` in session `session_id` (see [`start_session`]),
    /// issued `now` and valid for `ttl_secs`.
    ///
    /// Errors: only if signing fails.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        now: DateTime<Utc>,
        user_id: &str,
        session_id: &str,
        roles: Vec<String>,
        token_version: i32,
        ttl_secs: u64,
        totp_enrolment_only: bool,
    ) -> anyhow::Result<String> {
        let now = now.timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            roles,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ttl_secs as i64,
            jti: uuid::Uuid::new_v4().to_string(),
            tv: token_version,
            totp_enrolment_only,
            sid: session_id.to_string(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Checks signature (HS256 only), issuer, audience and expiry (against `now`, the
    /// application's clock). Returns the claims, or `None` when any check fails.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<AccessClaims> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
            .filter(|claims| unexpired(claims.exp, now))
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Stores a new refresh token in `family_id`, issued `now` and good for `ttl_secs`, and returns
/// it (the only time it exists in clear).
///
/// Errors: any database error.
pub fn issue_refresh(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    user_id: &str,
    family_id: &str,
    ttl_secs: u64,
) -> QueryResult<String> {
    let token = random_token();
    diesel::insert_into(refresh_tokens::table)
        .values(NewRefreshToken {
            id: RefreshTokenId::generate(),
            user_id,
            family_id,
            token_hash: hash_token(&token),
            issued_at: now,
            expires_at: now + chrono::Duration::seconds(ttl_secs as i64),
        })
        .execute(conn)?;
    Ok(token)
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was live and is now spent: (user id, family id).
    Rotated {
        user_id: String,
        family_id: String,
    },
    /// The token was already spent or revoked: its family is now revoked.
    Reused {
        user_id: String,
        family_id: String,
    },
    Unknown,
    Expired,
}

/// Spends a refresh token `now`. Call inside a write transaction. The spend is a conditional
/// update, so two concurrent uses of one token cannot both succeed.
///
/// Errors: any database error.
pub fn spend_refresh(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    token: &str,
) -> QueryResult<RefreshOutcome> {
    let hash = hash_token(token);
    let row: Option<RefreshTokenRow> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(RefreshOutcome::Unknown);
    };
    let (id, user_id, family_id, expires_at) = (
        row.id,
        row.user_id.into_string(),
        row.family_id,
        row.expires_at,
    );
    let spent = diesel::update(
        refresh_tokens::table
            .find(&id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if spent == 0 {
        revoke_family(conn, now, &family_id)?;
        return Ok(RefreshOutcome::Reused { user_id, family_id });
    }
    if expires_at <= now {
        return Ok(RefreshOutcome::Expired);
    }
    Ok(RefreshOutcome::Rotated { user_id, family_id })
}

/// Starts a session (one sign-in) for `user_id` at `now` and returns its id, which is also the
/// id of its refresh-token family and the `sid` of its access tokens. Call inside a write
/// transaction.
///
/// Errors: any database error.
pub fn start_session(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    user_id: &str,
) -> QueryResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(staff_sessions::table)
        .values((
            staff_sessions::id.eq(&id),
            staff_sessions::user_id.eq(user_id),
            staff_sessions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// True when the session exists and has not ended.
pub fn session_is_live(conn: &mut DbConnection, session_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        staff_sessions::table
            .find(session_id)
            .filter(staff_sessions::ended_at.is_null()),
    ))
    .get_result(conn)
}

/// Ends one sign-in: its session (so its access tokens stop working on their next request)
/// and every refresh token of its family, as of `now`. For logout and refresh-token reuse.
///
/// Errors: any database error.
pub fn revoke_family(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    family_id: &str,
) -> QueryResult<usize> {
    diesel::update(
        staff_sessions::table
            .find(family_id)
            .filter(staff_sessions::ended_at.is_null()),
    )
    .set(staff_sessions::ended_at.eq(Some(now)))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// The family a refresh token belongs to, with its user.
pub fn family_of(conn: &mut DbConnection, token: &str) -> QueryResult<Option<(String, String)>> {
    let row: Option<RefreshTokenRow> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_token(token)))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| (r.family_id, r.user_id.into_string())))
}

/// Ends every session of a user at once: bumps `token_version` and ends every session row, so
/// issued access tokens stop working on their next request, and revokes every refresh token. For password changes,
/// role changes, deactivation and TOTP enrolment. `now` is when they end.
///
/// Errors: any database error.
pub fn end_all_sessions(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    user_id: &str,
) -> QueryResult<()> {
    use crate::db::schema::users;
    diesel::update(users::table.find(user_id))
        .set(users::token_version.eq(users::token_version + 1))
        .execute(conn)?;
    revoke_all_for_user(conn, now, user_id)?;
    Ok(())
}

/// Ends every session of a user and revokes every refresh token, as of `now`.
///
/// Errors: any database error.
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    user_id: &str,
) -> QueryResult<usize> {
    diesel::update(
        staff_sessions::table
            .filter(staff_sessions::user_id.eq(user_id))
            .filter(staff_sessions::ended_at.is_null()),
    )
    .set(staff_sessions::ended_at.eq(Some(now)))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_right_key_issuer_and_audience() {
        let keys = JwtKeys::new(&[1u8; 32], "probity", "probity-api");
        let now = crate::clock::Clock::system().now();
        let token = keys
            .issue(now, "u1", "s1", vec!["admin".into()], 3, 900, false)
            .unwrap();
        let claims = keys.verify(&token, now).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.tv, 3);
        assert_eq!(claims.sid, "s1");
        assert!(JwtKeys::new(&[2u8; 32], "probity", "probity-api")
            .verify(&token, now)
            .is_none());
        assert!(JwtKeys::new(&[1u8; 32], "other", "probity-api")
            .verify(&token, now)
            .is_none());
        assert!(JwtKeys::new(&[1u8; 32], "probity", "other")
            .verify(&token, now)
            .is_none());
        // Expiry beyond the 5-second leeway is refused.
        let mut claims = keys.verify(&token, now).unwrap();
        claims.exp = now.timestamp() - 60;
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(keys.verify(&expired, now).is_none());
        // Expiry follows the clock passed in, not the system clock.
        assert!(keys
            .verify(&token, now + chrono::Duration::seconds(900))
            .is_some());
        assert!(keys
            .verify(&token, now + chrono::Duration::seconds(906))
            .is_none());
    }

    #[test]
    fn refresh_tokens_are_256_bit_and_hashed() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert_eq!(hash_token(&t).len(), 64);
        assert_ne!(random_token(), t);
    }
}
