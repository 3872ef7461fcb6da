//! Who is calling: extractors for handlers.
//!
//! - `Principal`: a signed-in staff member or a service API key.
//! - `SignedIn`: a staff member, including one whose token only allows TOTP enrolment.
//! - `Staff`: a fully signed-in staff member. Most staff endpoints take this.
//!
//! A staff token is checked on every request against its user (active, `token_version`) and
//! its session (`sid`, not ended). Missing, malformed, expired or revoked credentials are 401 with `WWW-Authenticate: Bearer`;
//! valid credentials without the permission are 403.

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

use super::api_keys::KeyLookup;
use super::models::{ApiKeyRow, SessionUserRow};
use super::AuthState;
use crate::audit::Actor;
use crate::db::schema::{api_keys, staff_sessions, user_roles, users};
use crate::db::{self, DbPool};
use crate::domain::permissions::{allows, scope_permission, Permission};
use crate::domain::roles::Role;
use crate::error::ApiError;
use crate::error::ErrorCode;

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    /// The sign-in (staff session) the access token belongs to: its `sid` claim.
    pub session_id: String,
    pub username: String,
    pub roles: Vec<Role>,
    pub totp_enrolment_only: bool,
}

impl SignedIn {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id.clone())
    }
}

#[derive(Debug, Clone)]
pub struct Staff(pub SignedIn);

impl Staff {
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if allows(&self.0.roles, permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden("Your roles do not allow this action."))
        }
    }

    /// Allowed when any one of `permissions` is held.
    pub fn require_any(&self, permissions: &[Permission]) -> Result<(), ApiError> {
        if permissions.iter().any(|p| allows(&self.0.roles, *p)) {
            Ok(())
        } else {
            Err(ApiError::forbidden("Your roles do not allow this action."))
        }
    }

    pub fn actor(&self) -> Actor {
        self.0.actor()
    }

    pub fn user_id(&self) -> &str {
        &self.0.user_id
    }
}

#[derive(Debug, Clone)]
pub struct ServiceKey {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Principal {
    Staff(SignedIn),
    Service(ServiceKey),
}

impl Principal {
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        let allowed = match self {
            Principal::Staff(s) => !s.totp_enrolment_only && allows(&s.roles, permission),
            Principal::Service(k) => k
                .scopes
                .iter()
                .any(|s| scope_permission(s) == Some(permission)),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "These credentials do not allow this action.",
            ))
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::Staff(s) => s.actor(),
            Principal::Service(k) => Actor::Service(k.id.clone()),
        }
    }
}

enum Credential {
    Bearer(String),
    ApiKey(String),
}

pub const API_KEY_PREFIX: &str = "pk_";

fn credential(req: &HttpRequest) -> Option<Credential> {
    if let Some(key) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(Credential::ApiKey(key.trim().to_string()));
    }
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim().to_string();
    if token.starts_with(API_KEY_PREFIX) {
        Some(Credential::ApiKey(token))
    } else {
        Some(Credential::Bearer(token))
    }
}

fn state(req: &HttpRequest) -> (web::Data<AuthState>, web::Data<DbPool>) {
    (
        req.app_data::<web::Data<AuthState>>()
            .cloned()
            .expect("AuthState is registered"),
        req.app_data::<web::Data<DbPool>>()
            .cloned()
            .expect("DbPool is registered"),
    )
}

async fn authenticate_user(
    auth: &AuthState,
    pool: &DbPool,
    token: &str,
) -> Result<SignedIn, ApiError> {
    let claims = auth
        .keys
        .verify(token, auth.clock.now())
        .ok_or_else(|| ApiError::unauthorized("The access token is invalid or expired."))?;
    let user_id = claims.sub.clone();
    let session_id = claims.sid.clone();
    let found = db::run(pool, move |conn| {
        // One primary-key lookup of the session, joined to its user: an ended session (any
        // sign-out), a session of someone else, or no session at all is refused.
        let user: Option<SessionUserRow> = staff_sessions::table
            .inner_join(users::table)
            .filter(staff_sessions::id.eq(&session_id))
            .filter(staff_sessions::ended_at.is_null())
            .filter(users::id.eq(&user_id))
            .select(SessionUserRow::as_select())
            .first(conn)
            .optional()?;
        let roles: Vec<String> = user_roles::table
            .filter(user_roles::user_id.eq(&user_id))
            .select(user_roles::role)
            .load(conn)?;
        Ok(user.map(|u| (u, roles)))
    })
    .await?;
    match found {
        Some((user, roles)) if user.active && user.token_version == claims.tv => Ok(SignedIn {
            user_id: claims.sub,
            session_id: claims.sid,
            username: user.username,
            roles: roles.iter().filter_map(|r| r.parse().ok()).collect(),
            totp_enrolment_only: claims.totp_enrolment_only,
        }),
        _ => Err(ApiError::unauthorized(
            "The access token has been revoked; sign in again.",
        )),
    }
}

/// Splits `pk_<id>_<secret>`.
pub fn parse_api_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// The service key `key` names, if its secret matches and it is not revoked; marks it used
/// (at most once a minute) at the clock's now.
///
/// The hot path (issue 12: a disbursement run asks about every village of every payment): a
/// key's secret is 32 random bytes, so it is checked by its SHA-256 (no slow hash is needed
/// against guessing), compared in constant time. Once a key's row has been read, the key is
/// trusted from memory (`auth.api_key_cache_secs`, `api_keys::KeyCache`): a request then reads
/// nothing from the database, and writes `last_used_at` at most once a minute.
///
/// Errors: 401 when the key is malformed, unknown, wrong or revoked; database errors.
async fn authenticate_key(
    auth: &AuthState,
    pool: &DbPool,
    key: &str,
) -> Result<ServiceKey, ApiError> {
    let invalid = || ApiError::unauthorized("The API key is invalid or revoked.");
    let (id, secret) = parse_api_key(key).ok_or_else(invalid)?;
    let (id, secret_hash) = (id.to_string(), super::tokens::hash_token(secret));
    let now = auth.clock.now_naive();
    match auth.key_cache.lookup(&id, &secret_hash, now) {
        KeyLookup::Hit { key, mark_used } => {
            if mark_used {
                let key_id = id.clone();
                db::run(pool, move |conn| {
                    mark_used_at(conn, &key_id, now)?;
                    Ok(())
                })
                .await?;
            }
            return Ok(key);
        }
        KeyLookup::Wrong => return Err(invalid()),
        KeyLookup::Miss => {}
    }
    let lookup = id.clone();
    let found = db::run(pool, move |conn| {
        let row: Option<ApiKeyRow> = api_keys::table
            .find(&lookup)
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        if !bool::from(row.secret_hash.as_bytes().ct_eq(secret_hash.as_bytes())) {
            return Ok(None);
        }
        mark_used_at(conn, &lookup, now)?;
        Ok(Some(row))
    })
    .await?;
    let row = found.ok_or_else(invalid)?;
    let key = ServiceKey {
        id: row.id.to_string(),
        name: row.name.clone(),
        scopes: row.scopes.split(',').map(str::to_string).collect(),
    };
    auth.key_cache
        .store(&id, &row.secret_hash, key.clone(), now);
    Ok(key)
}

/// Sets key `id`'s `last_used_at` to `now` unless it was set less than a minute before.
fn mark_used_at(
    conn: &mut crate::db::DbConnection,
    id: &str,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    diesel::update(
        api_keys::table.find(id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(now - chrono::Duration::seconds(60))),
        ),
    )
    .set(api_keys::last_used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = credential(req);
        let (auth, pool) = state(req);
        Box::pin(async move {
            match credential {
                None => Err(ApiError::unauthorized(
                    "Sign in first: send `Authorization: Bearer <access token>`.",
                )),
                Some(Credential::Bearer(token)) => Ok(Principal::Staff(
                    authenticate_user(&auth, &pool, &token).await?,
                )),
                Some(Credential::ApiKey(key)) => Ok(Principal::Service(
                    authenticate_key(&auth, &pool, &key).await?,
                )),
            }
        })
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            match principal.await? {
                Principal::Staff(s) => Ok(s),
                Principal::Service(_) => Err(ApiError::forbidden(
                    "Service API keys cannot use this endpoint; it is for staff.",
                )),
            }
        })
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let signed_in = SignedIn::from_request(req, payload);
        Box::pin(async move {
            let s = signed_in.await?;
            if s.totp_enrolment_only {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::TotpEnrolmentRequired,
                    "Your role requires two-factor sign-in: enrol with POST /api/v1/me/totp, \
                     confirm, then sign in again with a code.",
                ));
            }
            Ok(Staff(s))
        })
    }
}
