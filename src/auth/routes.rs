//! `/auth/login`, `/auth/refresh`, `/auth/logout`, `/me`, `/me/totp`, `/me/totp/confirm`.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::{load_user_view, UserView};
use super::extract::{Principal, SignedIn};
use super::models::{CredentialChanges, CredentialsRow, SessionUserRow, TotpRow};
use super::throttle::{Attempt, Refusal};
use super::tokens::{self, RefreshOutcome};
use super::{totp, AuthState};
use crate::audit::{self, Actor};
use crate::db::schema::{user_roles, users};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::password_policy;
use crate::domain::permissions::{permissions_of, Permission};
use crate::domain::roles::Role;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError, Problem};
use crate::notify;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The current 6-digit code, for accounts with TOTP enabled.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT (HS256), valid for `expires_in` seconds. Send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Single use: exchange at `/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// True when the account's role requires TOTP and none is enrolled yet: the access token
    /// then only allows `/me` and `/me/totp*`.
    pub totp_enrolment_required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

struct LoginUser {
    id: String,
    password_hash: String,
    active: bool,
    email: Option<String>,
    token_version: i32,
    locked_until: Option<NaiveDateTime>,
    totp_secret: Option<Vec<u8>>,
    totp_enabled: bool,
    totp_last_step: Option<i64>,
    roles: Vec<Role>,
}

fn load_login_user(conn: &mut DbConnection, username: &str) -> QueryResult<Option<LoginUser>> {
    let row: Option<CredentialsRow> = users::table
        .filter(users::username.eq(username))
        .select(CredentialsRow::as_select())
        .first(conn)
        .optional()?;
    let Some(r) = row else { return Ok(None) };
    let roles = roles_of(conn, r.id.as_str())?;
    Ok(Some(LoginUser {
        id: r.id.into_string(),
        password_hash: r.password_hash,
        active: r.active,
        email: r.email,
        token_version: r.token_version,
        locked_until: r.locked_until,
        totp_secret: r.totp_secret,
        totp_enabled: r.totp_enabled,
        totp_last_step: r.totp_last_step,
        roles,
    }))
}

pub fn roles_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<Role>> {
    let names: Vec<String> = user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role)
        .load(conn)?;
    Ok(names.iter().filter_map(|r| r.parse().ok()).collect())
}

/// Why a sign-in was refused. Mapped to `ApiError` at the HTTP edge (`From` below).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password or inactive account: one answer for all three.
    #[error("the username or password is wrong")]
    InvalidCredentials,
    /// The account signs in with TOTP and no code was sent.
    #[error("this account needs a TOTP code")]
    TotpRequired,
    /// The TOTP code is wrong or its time step was already used.
    #[error("the TOTP code is wrong or already used")]
    InvalidTotp,
    /// Too many recent failures (of the account or the source): try again after this long.
    #[error("too many failed sign-ins")]
    Throttled(std::time::Duration),
    /// The account is locked for this long.
    #[error("the account is locked")]
    Locked(std::time::Duration),
    /// The Argon2 pool is full (503), the database or the server failed; already an `ApiError`.
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for LoginError {
    fn from(e: diesel::result::Error) -> LoginError {
        LoginError::Failed(e.into())
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> ApiError {
        let retry_after = |error: ApiError, wait: std::time::Duration| {
            error.with_header(header::RETRY_AFTER, wait.as_secs().max(1).to_string())
        };
        match e {
            LoginError::InvalidCredentials => {
                ApiError::unauthorized("The username or password is wrong.")
                    .with_code(ErrorCode::InvalidCredentials)
            }
            LoginError::TotpRequired => {
                ApiError::unauthorized("This account signs in with a TOTP code: send it as `totp`.")
                    .with_code(ErrorCode::TotpRequired)
            }
            LoginError::InvalidTotp => {
                ApiError::unauthorized("The TOTP code is wrong or already used.")
                    .with_code(ErrorCode::InvalidTotp)
            }
            LoginError::Throttled(wait) => retry_after(
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::LoginThrottled,
                    "Too many failed sign-ins; wait before trying again (see Retry-After).",
                ),
                wait,
            ),
            LoginError::Locked(wait) => retry_after(
                ApiError::unauthorized(
                    "This account is locked after repeated failed sign-ins; try again later.",
                )
                .with_code(ErrorCode::AccountLocked),
                wait,
            ),
            LoginError::Failed(e) => e,
        }
    }
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_string()).collect()
}

/// Records a failed sign-in whose attempt the throttle already counted: failure count, lock,
/// audit entry and (for the one attempt that locked the account) the lockout email, in one
/// transaction.
async fn record_failure(
    auth: &AuthState,
    pool: &DbPool,
    username: &str,
    attempt: Attempt,
    user: Option<&LoginUser>,
    reason: &'static str,
) -> Result<(), ApiError> {
    let Attempt {
        failures,
        locked_now,
    } = attempt;
    let username = username.to_string();
    let user_id = user.map(|u| u.id.clone());
    let email = user.and_then(|u| u.email.clone());
    let lock_minutes = auth.settings.lockout_minutes;
    let now = auth.clock.now_naive();
    db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            let entity_id = user_id.clone().unwrap_or_else(|| "unknown".into());
            if let Some(id) = &user_id {
                diesel::update(users::table.find(id))
                    .set(users::failed_logins.eq(failures as i32))
                    .execute(conn)?;
            }
            audit::record(
                conn,
                now,
                &Actor::System,
                "auth.login_failed",
                "user",
                &entity_id,
                serde_json::json!({"username": username, "failures": failures, "reason": reason}),
            )?;
            if locked_now {
                if let Some(id) = &user_id {
                    let until = now + chrono::Duration::minutes(lock_minutes as i64);
                    diesel::update(users::table.find(id))
                        .set(users::locked_until.eq(Some(until)))
                        .execute(conn)?;
                    audit::record(
                        conn,
                        now,
                        &Actor::System,
                        "auth.account_locked",
                        "user",
                        id,
                        serde_json::json!({"username": username, "minutes": lock_minutes}),
                    )?;
                    if let Some(email) = &email {
                        notify::enqueue(
                            conn,
                            "account_locked",
                            email,
                            serde_json::json!({"username": username, "minutes": lock_minutes}),
                        )
                        .map_err(|e| ApiError::unexpected(e.into()))?;
                    }
                }
            }
            Ok::<_, ApiError>(())
        })
    })
    .await
}

/// Sign in with username and password (and a TOTP code where enrolled).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "`invalid_credentials`, `totp_required`, `account_locked`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`login_throttled`, with Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    body: web::Json<LoginRequest>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    // The peer address is used in memory for throttling only: never stored, never logged.
    let source = req.peer_addr().map(|a| a.ip());
    let pair = sign_in(&auth, &pool, body.into_inner(), source).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Signs `request`'s user in from `source` (for throttling, in memory only): checks the
/// throttle, the account lock, the password and the TOTP code, then starts a session and
/// returns its token pair. Every failure is counted, audited and (at the lock) emailed.
///
/// Errors: [`LoginError`]: invalid credentials, a missing or wrong TOTP code, throttled, locked;
/// `Failed` for a full Argon2 pool (503) or a database error.
pub async fn sign_in(
    auth: &AuthState,
    pool: &DbPool,
    request: LoginRequest,
    source: Option<std::net::IpAddr>,
) -> Result<TokenPair, LoginError> {
    let LoginRequest {
        username,
        password,
        totp,
    } = request;
    match sign_in_with(
        auth,
        pool,
        &username,
        FirstFactor::Password(password),
        totp,
        source,
        false,
    )
    .await?
    {
        SignInOutcome::Signed { pair, .. } => Ok(pair),
        // Not reached: without `ask_for_totp` a missing code is `TotpRequired`.
        SignInOutcome::TotpNeeded { .. } => Err(LoginError::TotpRequired),
    }
}

/// The first factor of a sign-in.
pub enum FirstFactor {
    /// The password, checked now.
    Password(String),
    /// The password was checked by an earlier step of the same sign-in, for the user with this
    /// id: the staff console's TOTP page (`console::session`), which asks for the code on a
    /// second page and proves the first step with a signed, five-minute cookie.
    CheckedFor(String),
}

/// What a sign-in came to.
pub enum SignInOutcome {
    /// Signed in: the token pair and the session (`staff_sessions.id`) it belongs to.
    Signed { pair: TokenPair, session_id: String },
    /// The password is right and the account signs in with TOTP, but no code was sent (only
    /// with `ask_for_totp`): ask for it. Nothing was recorded as a failure.
    TotpNeeded { user_id: String },
}

/// [`sign_in`] for both doors: the API (password and code in one request) and the staff
/// console (password, then the code on a second page: `ask_for_totp` answers `TotpNeeded`
/// instead of failing when the code is missing). The same throttle, lock, audit entries and
/// session either way (issue 13: "locked accounts and throttling behave exactly as in the API").
///
/// Errors: as [`sign_in`].
pub async fn sign_in_with(
    auth: &AuthState,
    pool: &DbPool,
    username: &str,
    first: FirstFactor,
    totp_code: Option<String>,
    source: Option<std::net::IpAddr>,
    ask_for_totp: bool,
) -> Result<SignInOutcome, LoginError> {
    // The same folding as at creation (domain::text): full-width forms read as ASCII.
    let username = crate::domain::text::fold_code(username).to_lowercase();
    // The attempt is counted before its password is checked, in one step with the decision,
    // so a burst cannot get more attempts evaluated than the throttle allows.
    let attempt = match auth.throttle.reserve(&username, source, auth.clock.now()) {
        Ok(attempt) => attempt,
        Err(Refusal::Wait(wait)) => return Err(LoginError::Throttled(wait)),
        Err(Refusal::Locked(wait)) => return Err(LoginError::Locked(wait)),
    };
    let lookup = username.clone();
    let user = db::run(pool, move |conn| Ok(load_login_user(conn, &lookup)?)).await?;
    let now = auth.clock.now_naive();
    if let Some(until) = user.as_ref().and_then(|u| u.locked_until) {
        if until > now {
            let wait = (until - now).to_std().unwrap_or_default();
            return Err(LoginError::Locked(wait));
        }
    }
    let password_ok = match first {
        FirstFactor::Password(password) => {
            auth.verify_password(password, user.as_ref().map(|u| u.password_hash.clone()))
                .await?
        }
        FirstFactor::CheckedFor(id) => user.as_ref().is_some_and(|u| u.id == id),
    };
    let user = match user {
        Some(u) if password_ok && u.active => u,
        other => {
            record_failure(auth, pool, &username, attempt, other.as_ref(), "password").await?;
            return Err(LoginError::InvalidCredentials);
        }
    };

    let mut accepted_step = None;
    if user.totp_enabled {
        let Some(code) = totp_code.filter(|c| !c.trim().is_empty()) else {
            if ask_for_totp {
                return Ok(SignInOutcome::TotpNeeded { user_id: user.id });
            }
            record_failure(auth, pool, &username, attempt, Some(&user), "totp_missing").await?;
            return Err(LoginError::TotpRequired);
        };
        let secret = user
            .totp_secret
            .as_ref()
            .and_then(|s| auth.data_key.decrypt(s, &totp_aad(&user.id)).ok())
            .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("TOTP secret unreadable")))?;
        let now_unix = auth.clock.now().timestamp() as u64;
        match totp::verify(&secret, &username, &code, now_unix, user.totp_last_step) {
            Some(step) => accepted_step = Some(step),
            None => {
                record_failure(auth, pool, &username, attempt, Some(&user), "totp").await?;
                return Err(LoginError::InvalidTotp);
            }
        }
    }

    let enrolment_only = auth.requires_totp(&user.roles) && !user.totp_enabled;
    let refresh_ttl = auth.settings.refresh_token_ttl_secs;
    let user_id = user.id.clone();
    let now = auth.clock.now_naive();
    let issued = db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            if let Some(step) = accepted_step {
                // Exactly one sign-in per code and time step: whoever records the step first
                // wins; a concurrent or later use of the same step changes no row.
                if !claim_totp_step(conn, &user_id, step)? {
                    return Ok(None);
                }
            }
            diesel::update(users::table.find(&user_id))
                .set(&CredentialChanges {
                    failed_logins: Some(0),
                    locked_until: Some(None),
                    ..CredentialChanges::default()
                })
                .execute(conn)?;
            let family = tokens::start_session(conn, now, &user_id)?;
            let token = tokens::issue_refresh(conn, now, &user_id, &family, refresh_ttl)?;
            audit::record(
                conn,
                now,
                &Actor::User(user_id.clone()),
                "auth.login_succeeded",
                "user",
                &user_id,
                serde_json::json!({"totp": accepted_step.is_some(), "enrolment_only": enrolment_only}),
            )?;
            Ok::<_, ApiError>(Some((family, token)))
        })
    })
    .await?;
    let Some((session_id, refresh_token)) = issued else {
        record_failure(auth, pool, &username, attempt, Some(&user), "totp_replay").await?;
        return Err(LoginError::InvalidTotp);
    };
    auth.throttle.record_success(&username, source);
    let ttl = auth.settings.access_token_ttl_secs;
    let access_token = auth
        .keys
        .issue(
            auth.clock.now(),
            &user.id,
            &session_id,
            role_names(&user.roles),
            user.token_version,
            ttl,
            enrolment_only,
        )
        .map_err(ApiError::from)?;
    Ok(SignInOutcome::Signed {
        pair: TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: ttl,
            totp_enrolment_required: enrolment_only,
        },
        session_id,
    })
}

/// Records `step` as the user's last accepted TOTP time step, only if it is newer than the one
/// recorded: a conditional update, atomic on both backends. Returns false when the step (or a
/// later one) was already used, i.e. the code is a replay. Rule: RFC 6238 §5.2, issue 7 fault 5.
fn claim_totp_step(conn: &mut DbConnection, user_id: &str, step: i64) -> QueryResult<bool> {
    let claimed = diesel::update(
        users::table.find(user_id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(claimed == 1)
}

fn totp_already_enabled() -> ApiError {
    ApiError::conflict(
        ErrorCode::TotpAlreadyEnabled,
        "TOTP is already enabled for this account.",
    )
}

pub fn totp_aad(user_id: &str) -> String {
    format!("totp:{user_id}")
}

enum RefreshResult {
    Issued {
        user_id: String,
        session_id: String,
        refresh_token: String,
        roles: Vec<Role>,
        token_version: i32,
        totp_enabled: bool,
    },
    Refused(&'static str),
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting a spent
/// one revokes every token of its sign-in.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    body: web::Json<RefreshRequest>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let ttl = auth.settings.refresh_token_ttl_secs;
    let now = auth.clock.now_naive();
    let result = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let (user_id, family_id) = match tokens::spend_refresh(conn, now, &presented)? {
                RefreshOutcome::Rotated { user_id, family_id } => (user_id, family_id),
                RefreshOutcome::Reused { user_id, family_id } => {
                    audit::record(
                        conn,
                        now,
                        &Actor::User(user_id.clone()),
                        "auth.refresh_reuse_detected",
                        "user",
                        &user_id,
                        serde_json::json!({"family": family_id}),
                    )?;
                    return Ok(RefreshResult::Refused(
                        "This refresh token was already used; every session from that sign-in is now revoked.",
                    ));
                }
                RefreshOutcome::Unknown | RefreshOutcome::Expired => {
                    return Ok(RefreshResult::Refused("The refresh token is invalid or expired."))
                }
            };
            let user: Option<SessionUserRow> = users::table
                .find(&user_id)
                .select(SessionUserRow::as_select())
                .first(conn)
                .optional()?;
            let Some((token_version, totp_enabled)) = user
                .filter(|u| u.active)
                .map(|u| (u.token_version, u.totp_enabled))
            else {
                tokens::revoke_family(conn, now, &family_id)?;
                return Ok(RefreshResult::Refused("The account is not active."));
            };
            if !tokens::session_is_live(conn, &family_id)? {
                tokens::revoke_family(conn, now, &family_id)?;
                return Ok(RefreshResult::Refused(
                    "This sign-in has ended; sign in again.",
                ));
            }
            let refresh_token = tokens::issue_refresh(conn, now, &user_id, &family_id, ttl)?;
            let roles = roles_of(conn, &user_id)?;
            Ok::<_, ApiError>(RefreshResult::Issued {
                user_id,
                session_id: family_id,
                refresh_token,
                roles,
                token_version,
                totp_enabled,
            })
        })
    })
    .await?;
    match result {
        RefreshResult::Refused(why) => {
            Err(ApiError::unauthorized(why).with_code(ErrorCode::InvalidRefreshToken))
        }
        RefreshResult::Issued {
            user_id,
            session_id,
            refresh_token,
            roles,
            token_version,
            totp_enabled,
        } => {
            let enrolment_only = auth.requires_totp(&roles) && !totp_enabled;
            let expires_in = auth.settings.access_token_ttl_secs;
            let access_token = auth.keys.issue(
                auth.clock.now(),
                &user_id,
                &session_id,
                role_names(&roles),
                token_version,
                expires_in,
                enrolment_only,
            )?;
            Ok(HttpResponse::Ok().json(TokenPair {
                access_token,
                refresh_token,
                token_type: "Bearer",
                expires_in,
                totp_enrolment_required: enrolment_only,
            }))
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// Optional. When given it must be a refresh token of the bearer's own sign-in.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Sign out: ends the caller's own sign-in — the session named by the bearer access token's
/// `sid` — at once. Its refresh tokens are revoked and every access token of that sign-in
/// answers 401 from the next request on (OWASP ASVS 3.3.1). Other sign-ins of the same user go
/// on. The body is optional (`{}` or none); a `refresh_token` in it must belong to the same
/// sign-in, so a request can never end someone else's (docs/security.md → "Sign-out").
///
/// Errors: 401 without a valid bearer token; 422 `validation_failed` naming `refresh_token`
/// (`other_session`) when the token is unknown or of another sign-in — nothing is ended then.
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "optional"),
    responses(
        (status = 204, description = "the bearer's sign-in has ended"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    signed_in: SignedIn,
    body: web::Bytes,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let request: LogoutRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidBody,
                    format!("The JSON does not have the expected shape: {e}"),
                )
            } else {
                ApiError::bad_request(
                    ErrorCode::MalformedJson,
                    format!("The body is not valid JSON: {e}"),
                )
            }
        })?
    };
    let session_id = signed_in.session_id.clone();
    let user_id = signed_in.user_id.clone();
    let now = auth.clock.now_naive();
    db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            if let Some(presented) = &request.refresh_token {
                let family = tokens::family_of(conn, presented)?.map(|(family, _)| family);
                if family.as_deref() != Some(session_id.as_str()) {
                    return Err(ApiError::validation(vec![FieldError::new(
                        "refresh_token",
                        ErrorCode::OtherSession,
                        "is not a refresh token of the signed-in session; leave it out to sign out",
                    )]));
                }
            }
            tokens::revoke_family(conn, now, &session_id)?;
            audit::record(
                conn,
                now,
                &Actor::User(user_id.clone()),
                "auth.logout",
                "user",
                &user_id,
                serde_json::json!({}),
            )?;
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `staff` or `service`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
    /// What these credentials may do.
    pub permissions: Vec<String>,
    /// For a staff token issued before TOTP enrolment: only `/me/totp*` work.
    pub totp_enrolment_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

/// Who the credentials belong to, and what they may do.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = Me),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me")]
pub async fn me(principal: Principal, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let me = match principal {
        Principal::Staff(s) => {
            let id = s.user_id.clone();
            let view = db::run(&pool, move |conn| Ok(load_user_view(conn, &id)?))
                .await?
                .ok_or_else(|| ApiError::unauthorized("The account no longer exists."))?;
            let mut permissions: Vec<Permission> = Vec::new();
            for role in &s.roles {
                for p in permissions_of(*role) {
                    if !permissions.contains(p) {
                        permissions.push(*p);
                    }
                }
            }
            Me {
                kind: "staff",
                user: Some(view),
                permissions: permissions.iter().map(|p| format!("{p:?}")).collect(),
                totp_enrolment_only: s.totp_enrolment_only,
                service: None,
            }
        }
        Principal::Service(k) => Me {
            kind: "service",
            user: None,
            permissions: k.scopes.clone(),
            totp_enrolment_only: false,
            service: Some(ServiceView {
                id: k.id,
                name: k.name,
                scopes: k.scopes,
            }),
        },
    };
    Ok(HttpResponse::Ok().json(me))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/…` URI, for a QR code.
    pub otpauth_uri: String,
}

/// Start TOTP enrolment: returns a new secret. It takes effect once confirmed with a code.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = TotpEnrolment),
        (status = 409, description = "TOTP already enabled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/totp")]
pub async fn start_totp(
    who: SignedIn,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(begin_totp_enrolment(&auth, &pool, &who).await?))
}

/// Starts TOTP enrolment for `who`: a new secret, sealed into the account, effective once
/// confirmed ([`confirm_totp_enrolment`]). Returns the secret (base32) and its `otpauth://` URI.
/// For both doors: `POST /me/totp` and the staff console.
///
/// Errors: 409 `totp_already_enabled`; 500 on a database error.
pub async fn begin_totp_enrolment(
    auth: &AuthState,
    pool: &DbPool,
    who: &SignedIn,
) -> Result<TotpEnrolment, ApiError> {
    let secret = totp::new_secret();
    let (base32, uri) = totp::enrolment(&secret, &who.username)?;
    let sealed = auth.data_key.encrypt(&secret, &totp_aad(&who.user_id));
    let user_id = who.user_id.clone();
    let now = auth.clock.now_naive();
    db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            let enabled: bool = users::table
                .find(&user_id)
                .select(users::totp_enabled)
                .first(conn)?;
            if enabled {
                return Err(totp_already_enabled());
            }
            diesel::update(users::table.find(&user_id))
                .set(users::totp_secret.eq(Some(sealed)))
                .execute(conn)?;
            audit::record(
                conn,
                now,
                &Actor::User(user_id.clone()),
                "user.totp_enrolment_started",
                "user",
                &user_id,
                serde_json::json!({}),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(TotpEnrolment {
        secret: base32,
        otpauth_uri: uri,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpConfirm {
    pub code: String,
}

/// Confirm TOTP enrolment with a current code. Existing sessions end: sign in again with a code.
#[utoipa::path(
    tag = "auth",
    request_body = TotpConfirm,
    responses(
        (status = 200, description = "TOTP enabled"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/totp/confirm")]
pub async fn confirm_totp(
    who: SignedIn,
    body: web::Json<TotpConfirm>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    confirm_totp_enrolment(auth.into_inner(), &pool, &who, body.into_inner().code).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"totp_enabled": true})))
}

/// Confirms `who`'s TOTP enrolment with a current `code`: TOTP is on, and every session of the
/// account ends (sign in again with a code). For both doors: `POST /me/totp/confirm` and the
/// staff console.
///
/// Errors: 422 `validation_failed` (`code`: `invalid_totp`); 409 `totp_not_started`,
/// `totp_already_enabled`; 500 on a database error.
pub async fn confirm_totp_enrolment(
    auth: std::sync::Arc<AuthState>,
    pool: &DbPool,
    who: &SignedIn,
    code: String,
) -> Result<(), ApiError> {
    let user_id = who.user_id.clone();
    let username = who.username.clone();
    let now = auth.clock.now();
    db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            let totp_state: TotpRow = users::table
                .find(&user_id)
                .select(TotpRow::as_select())
                .first(conn)?;
            let (sealed, enabled, last_step) = (
                totp_state.totp_secret,
                totp_state.totp_enabled,
                totp_state.totp_last_step,
            );
            if enabled {
                return Err(totp_already_enabled());
            }
            let secret = sealed
                .and_then(|s| auth.data_key.decrypt(&s, &totp_aad(&user_id)).ok())
                .ok_or_else(|| {
                    ApiError::conflict(
                        ErrorCode::TotpNotStarted,
                        "Start enrolment with POST /me/totp first.",
                    )
                })?;
            let now_unix = now.timestamp() as u64;
            let wrong_code = || {
                ApiError::validation(vec![FieldError::new(
                    "code",
                    ErrorCode::InvalidTotp,
                    "The code does not match or was already used; check the authenticator \
                     app's clock.",
                )])
            };
            let step = totp::verify(&secret, &username, &code, now_unix, last_step)
                .ok_or_else(wrong_code)?;
            // Conditional, like sign-in: one confirmation per code and time step, and only
            // while TOTP is still off, however many arrive at once.
            let enabled_now = diesel::update(
                users::table
                    .find(&user_id)
                    .filter(users::totp_enabled.eq(false))
                    .filter(
                        users::totp_last_step
                            .is_null()
                            .or(users::totp_last_step.lt(step)),
                    ),
            )
            .set((
                users::totp_enabled.eq(true),
                users::totp_last_step.eq(Some(step)),
                users::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
            if enabled_now != 1 {
                let enabled: bool = users::table
                    .find(&user_id)
                    .select(users::totp_enabled)
                    .first(conn)?;
                return Err(if enabled {
                    totp_already_enabled()
                } else {
                    wrong_code()
                });
            }
            tokens::end_all_sessions(conn, now.naive_utc(), &user_id)?;
            audit::record(
                conn,
                now.naive_utc(),
                &Actor::User(user_id.clone()),
                "user.totp_enabled",
                "user",
                &user_id,
                serde_json::json!({}),
            )?;
            Ok(())
        })
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password. Ends every session of the account, this one included: sign in again.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; sign in again"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
pub async fn change_password(
    who: SignedIn,
    body: web::Json<PasswordChange>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    if let Err(v) = password_policy::check(&who.username, &new_password) {
        return Err(ApiError::validation(vec![FieldError::new(
            "new_password",
            v.code(),
            v.to_string(),
        )]));
    }
    let user_id = who.user_id.clone();
    let stored: String = db::run(&pool, move |conn| {
        Ok(users::table
            .find(&user_id)
            .select(users::password_hash)
            .first(conn)?)
    })
    .await?;
    if !auth.verify_password(current_password, Some(stored)).await? {
        return Err(ApiError::unauthorized("The current password is wrong.")
            .with_code(ErrorCode::InvalidCredentials));
    }
    let hash = auth.hash_password(new_password).await?;
    let user_id = who.user_id.clone();
    let now = auth.clock.now_naive();
    db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            diesel::update(users::table.find(&user_id))
                .set(&CredentialChanges {
                    password_hash: Some(hash.clone()),
                    updated_at: Some(now),
                    ..CredentialChanges::default()
                })
                .execute(conn)?;
            tokens::end_all_sessions(conn, now, &user_id)?;
            audit::record(
                conn,
                now,
                &Actor::User(user_id.clone()),
                "user.password_changed",
                "user",
                &user_id,
                serde_json::json!({}),
            )?;
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
