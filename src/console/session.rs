//! Signing in to the console, the [`Desk`] every page takes, and signing out.
//!
//! - `GET/POST /staff/login`: username and password. The API's own sign-in runs
//!   (`auth::routes::sign_in_with`): the same throttle, lock, failure count, audit entries and
//!   lockout email. An account with TOTP goes on to
//! - `GET/POST /staff/login/totp`: the 6-digit code. The password step is carried by a signed
//!   cookie that lives five minutes (`Path=/staff/login`), naming the account; nothing else.
//! - `GET/POST /staff/totp`: enrolment, for a role that must use TOTP (`auth.require_totp_for`)
//!   and has none yet: until it is confirmed, no other console page opens.
//! - `POST /staff/sign-out`: ends the sign-in at once (the session row, so the cookie is dead
//!   on its next use), and clears the cookie.
//!
//! A console sign-in is a staff session (`staff_sessions`) with the SHA-256 of the cookie's token
//! and `last_seen_at`. It ends after `console.idle_minutes` without a request, and with every
//! other ending of a staff session (password change, deactivation, role change).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;

use super::form::{self, FormData, Posted};
use super::page::{self, PageError, Shell};
use super::ConsoleState;
use crate::audit::{self, Actor};
use crate::auth::extract::{SignedIn, Staff};
use crate::auth::routes::{self as auth_routes, FirstFactor, LoginError, SignInOutcome};
use crate::auth::{tokens, AuthState};
use crate::db::schema::{staff_sessions, user_roles, users};
use crate::db::{self, DbPool};
use crate::domain::permissions::{allows, Permission};
use crate::domain::roles::Role;
use crate::error::ApiError;
use crate::web::csrf;

/// The session cookie.
pub const COOKIE: &str = "probity_staff";
/// The cookie carrying a sign-in from the password page to the TOTP page.
pub const PENDING_COOKIE: &str = "probity_staff_pending";
/// How long the TOTP page waits for its code after the password (seconds).
const PENDING_SECS: i64 = 300;
/// `last_seen_at` is written at most this often (seconds): the idle timeout is counted in
/// minutes, and a page view need not write a row each time.
const TOUCH_EVERY_SECS: i64 = 60;

/// The signed-in staff member of a console request, with their roles' permissions.
#[derive(Debug, Clone)]
pub struct Desk {
    /// The same `Staff` the API handlers hold: pass it (or its actor) to capability functions.
    pub staff: Staff,
    /// The name staff see (`users.display_name`). Never shown to reporters.
    pub display_name: String,
    /// The sign-in (`staff_sessions.id`).
    pub session_id: String,
    /// The CSRF token every form of this sign-in carries (`form::CSRF_FIELD`).
    pub csrf_token: String,
    /// The role needs TOTP and none is enrolled: only the enrolment page opens.
    pub enrolment_only: bool,
    /// The account signs in with TOTP.
    pub totp_enabled: bool,
}

impl Desk {
    pub fn user_id(&self) -> &str {
        self.staff.user_id()
    }

    pub fn roles(&self) -> &[Role] {
        &self.staff.0.roles
    }

    /// The user as the case capabilities see a reader (`cases::Viewer`: id and roles), for
    /// their visibility rules (investigators: their own teams' cases).
    pub fn viewer(&self) -> crate::cases::Viewer {
        crate::cases::Viewer {
            user_id: self.user_id().to_string(),
            roles: self.roles().to_vec(),
        }
    }

    /// Whether the user's roles allow `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        allows(self.roles(), permission)
    }

    /// Whether the user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// Errors: 403 page when the roles do not allow `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), PageError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(PageError::forbidden())
        }
    }

    /// Errors: 403 page unless the roles allow one of `permissions`.
    pub fn require_any(&self, permissions: &[Permission]) -> Result<(), PageError> {
        if permissions.iter().any(|p| self.can(*p)) {
            Ok(())
        } else {
            Err(PageError::forbidden())
        }
    }

    /// Checks a POST's provenance and its `csrf_token` (see `form`).
    ///
    /// Errors: 403 "page expired" page.
    pub fn check_csrf(&self, req: &HttpRequest, token: Option<&str>) -> Result<(), PageError> {
        let state = console_state(req);
        if csrf::check_request(req).is_err()
            || !form::csrf_matches(state.csrf_key(), &self.session_id, token)
        {
            return Err(PageError::csrf());
        }
        Ok(())
    }

    /// The layout's data for a page of area `area` titled `title`.
    pub fn shell(&self, area: &str, title: impl Into<String>) -> Shell {
        Shell::new(self, area, title)
    }
}

fn console_state(req: &HttpRequest) -> web::Data<ConsoleState> {
    req.app_data::<web::Data<ConsoleState>>()
        .cloned()
        .expect("ConsoleState is registered")
}

fn auth_state(req: &HttpRequest) -> web::Data<AuthState> {
    req.app_data::<web::Data<AuthState>>()
        .cloned()
        .expect("AuthState is registered")
}

fn pool(req: &HttpRequest) -> web::Data<DbPool> {
    req.app_data::<web::Data<DbPool>>()
        .cloned()
        .expect("DbPool is registered")
}

/// A console session as read for a request.
#[derive(Queryable, Selectable)]
#[diesel(table_name = staff_sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    ended_at: Option<NaiveDateTime>,
    last_seen_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct DeskUserRow {
    username: String,
    display_name: String,
    active: bool,
    totp_enabled: bool,
}

enum Found {
    Nobody,
    Idle,
    Desk {
        session_id: String,
        user_id: String,
        user: DeskUserRow,
        roles: Vec<Role>,
    },
}

fn hash(token: &str) -> String {
    tokens::hash_token(token)
}

/// The sign-in the request's cookie belongs to, if live: ends it when idle too long, and
/// records that it was used.
async fn find_desk(req: &HttpRequest) -> Result<Found, ApiError> {
    let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_string()) else {
        return Ok(Found::Nobody);
    };
    let console = console_state(req);
    let auth = auth_state(req);
    let pool = pool(req);
    let now = auth.clock.now_naive();
    let idle = chrono::Duration::minutes(i64::from(console.idle_minutes));
    let token_hash = hash(&token);
    db::run(&pool, move |conn| {
        let found: Option<(SessionRow, DeskUserRow)> = staff_sessions::table
            .inner_join(users::table)
            .filter(staff_sessions::console_token_hash.eq(&token_hash))
            .select((SessionRow::as_select(), DeskUserRow::as_select()))
            .first(conn)
            .optional()?;
        let Some((session, user)) = found else {
            return Ok(Found::Nobody);
        };
        if session.ended_at.is_some() || !user.active {
            return Ok(Found::Nobody);
        }
        let last_seen = session.last_seen_at.unwrap_or(now);
        if now - last_seen > idle {
            db::write_tx(conn, |conn| {
                tokens::revoke_family(conn, now, &session.id)?;
                audit::record(
                    conn,
                    now,
                    &Actor::System,
                    "auth.console_idle_ended",
                    "user",
                    &session.user_id,
                    serde_json::json!({"idle_minutes": idle.num_minutes()}),
                )?;
                Ok::<_, ApiError>(())
            })?;
            return Ok(Found::Idle);
        }
        if (now - last_seen).num_seconds() >= TOUCH_EVERY_SECS {
            diesel::update(staff_sessions::table.find(&session.id))
                .set(staff_sessions::last_seen_at.eq(Some(now)))
                .execute(conn)?;
        }
        let roles: Vec<String> = user_roles::table
            .filter(user_roles::user_id.eq(&session.user_id))
            .select(user_roles::role)
            .load(conn)?;
        Ok(Found::Desk {
            session_id: session.id,
            user_id: session.user_id,
            user,
            roles: roles.iter().filter_map(|r| r.parse().ok()).collect(),
        })
    })
    .await
}

fn request_path(req: &HttpRequest) -> String {
    match req.uri().query() {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_string(),
    }
}

impl FromRequest for Desk {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Desk, PageError>>;

    /// The signed-in staff member, or: 303 to the sign-in page (no live sign-in; after the
    /// idle timeout with `expired=1`), 303 to `/staff/totp` (enrolment still needed).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let next = (req.method() == actix_web::http::Method::GET).then(|| request_path(&req));
            match find_desk(&req).await.map_err(PageError::from)? {
                Found::Nobody => Err(PageError::sign_in(next.as_deref(), false)),
                Found::Idle => Err(PageError::sign_in(next.as_deref(), true)),
                Found::Desk {
                    session_id,
                    user_id,
                    user,
                    roles,
                } => {
                    let auth = auth_state(&req);
                    let enrolment_only = auth.requires_totp(&roles) && !user.totp_enabled;
                    let path = req.path();
                    if enrolment_only && path != "/staff/totp" && path != "/staff/sign-out" {
                        return Err(PageError::redirect("/staff/totp"));
                    }
                    let csrf_token = form::csrf_token(console_state(&req).csrf_key(), &session_id);
                    Ok(Desk {
                        staff: Staff(SignedIn {
                            user_id,
                            session_id: session_id.clone(),
                            username: user.username,
                            roles,
                            totp_enrolment_only: enrolment_only,
                        }),
                        display_name: user.display_name,
                        session_id,
                        csrf_token,
                        enrolment_only,
                        totp_enabled: user.totp_enabled,
                    })
                }
            }
        })
    }
}

fn session_cookie(value: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, value.to_string())
        .path("/staff")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

fn cleared(name: &'static str, path: &'static str) -> Cookie<'static> {
    Cookie::build(name, "")
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::ZERO)
        .finish()
}

// ---- the pending TOTP step ------------------------------------------------------------------

fn pending_mac(key: &[u8; 32], user_id: &str, username: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"totp pending\0");
    mac.update(user_id.as_bytes());
    mac.update(b"\0");
    mac.update(username.as_bytes());
    mac.update(&expires.to_be_bytes());
    mac
}

/// `user_id.username.expires.signature`, each part base64url.
fn pending_value(key: &[u8; 32], user_id: &str, username: &str, now: i64) -> String {
    let expires = now + PENDING_SECS;
    let signature = pending_mac(key, user_id, username, expires)
        .finalize()
        .into_bytes();
    format!(
        "{}.{}.{expires}.{}",
        URL_SAFE_NO_PAD.encode(user_id),
        URL_SAFE_NO_PAD.encode(username),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The account (id, username) a pending cookie names, if its signature holds and it is fresh.
fn read_pending(key: &[u8; 32], value: &str, now: i64) -> Option<(String, String)> {
    let mut parts = value.split('.');
    let (Some(id), Some(name), Some(expires), Some(signature), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let user_id = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let username = String::from_utf8(URL_SAFE_NO_PAD.decode(name).ok()?).ok()?;
    let expires: i64 = expires.parse().ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    pending_mac(key, &user_id, &username, expires)
        .verify_slice(&signature)
        .ok()?;
    (expires > now).then_some((user_id, username))
}

// ---- pages ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    shell: Shell,
    csrf: String,
    username: String,
    next: String,
    error: String,
}

#[derive(Template)]
#[template(path = "console/login_totp.html")]
struct TotpPage {
    shell: Shell,
    csrf: String,
    next: String,
    error: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    signed_out: Option<String>,
    totp_enabled: Option<String>,
}

fn public_csrf(req: &HttpRequest, console: &ConsoleState, now: i64) -> (String, Cookie<'static>) {
    let issued = csrf::issue(console.csrf_key(), csrf::cookie_nonce(req).as_deref(), now);
    (
        issued.token,
        csrf::cookie(&issued.nonce, crate::web::is_https(req)),
    )
}

fn sign_in_shell(title: &str, notice: Option<String>) -> Shell {
    Shell {
        title: title.to_string(),
        notice,
        ..Shell::default()
    }
}

/// `GET /staff/login`: the sign-in form (or straight to the console when signed in already).
pub async fn login_page(
    req: HttpRequest,
    query: web::Query<LoginQuery>,
    console: web::Data<ConsoleState>,
    auth: web::Data<AuthState>,
) -> HttpResponse {
    if let Ok(Found::Desk { .. }) = find_desk(&req).await {
        return page::see_other("/staff");
    }
    let query = query.into_inner();
    let notice = if query.expired.is_some() {
        Some(format!(
            "您已超过 {} 分钟没有操作，为了安全已自动退出，请重新登录。",
            console.idle_minutes
        ))
    } else if query.signed_out.is_some() {
        Some("您已安全退出。".to_string())
    } else if query.totp_enabled.is_some() {
        Some("动态验证码已启用。请用密码和动态验证码重新登录。".to_string())
    } else {
        None
    };
    login_form(
        &req,
        &console,
        &auth,
        notice,
        "",
        query.next.unwrap_or_default(),
        String::new(),
        StatusCode::OK,
    )
}

#[allow(clippy::too_many_arguments)]
fn login_form(
    req: &HttpRequest,
    console: &ConsoleState,
    auth: &AuthState,
    notice: Option<String>,
    username: &str,
    next: String,
    error: String,
    status: StatusCode,
) -> HttpResponse {
    let (csrf, cookie) = public_csrf(req, console, auth.clock.now().timestamp());
    let next = if page::safe_next(&next) {
        next
    } else {
        String::new()
    };
    let mut response = page::render(
        status,
        &LoginPage {
            shell: sign_in_shell("登录", notice),
            csrf,
            username: username.to_string(),
            next,
            error,
        },
    );
    let _ = response.add_cookie(&cookie);
    response
}

/// Reads an urlencoded body of a page without a sign-in, with the double-submit CSRF check.
async fn public_form(
    req: &HttpRequest,
    payload: web::Payload,
    console: &ConsoleState,
    now: i64,
) -> Result<FormData, PageError> {
    let body = payload
        .to_bytes_limited(16 * 1024)
        .await
        .map_err(|_| PageError::too_large())?
        .map_err(|_| PageError::bad_form())?;
    let form = FormData::parse(&body);
    csrf::check_request(req).map_err(|_| PageError::csrf())?;
    csrf::verify(
        console.csrf_key(),
        form.raw(csrf::FIELD),
        csrf::cookie_nonce(req).as_deref(),
        now,
    )
    .map_err(|_| PageError::csrf())?;
    Ok(form)
}

/// The Chinese for a refused sign-in, its status and its `Retry-After` (seconds).
fn login_refusal(e: LoginError) -> (String, StatusCode, Option<u64>) {
    let minutes = |wait: std::time::Duration| wait.as_secs().div_ceil(60).max(1);
    match e {
        LoginError::InvalidCredentials => (
            "用户名或密码不正确。".into(),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        LoginError::TotpRequired | LoginError::InvalidTotp => (
            "动态验证码不正确，或者已经用过。请输入验证器应用中当前显示的6位数字。".into(),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        LoginError::Throttled(wait) => (
            format!("登录失败的次数太多，请约 {} 分钟后再试。", minutes(wait)),
            StatusCode::TOO_MANY_REQUESTS,
            Some(wait.as_secs().max(1)),
        ),
        LoginError::Locked(wait) => (
            format!(
                "这个账号因多次登录失败已被暂时锁定，请约 {} 分钟后再试，或联系系统管理员。",
                minutes(wait)
            ),
            StatusCode::UNAUTHORIZED,
            Some(wait.as_secs().max(1)),
        ),
        LoginError::Failed(e) => {
            let refusal = page::Refusal::from_api(&e);
            (refusal.message, refusal.status, None)
        }
    }
}

fn with_retry_after(mut response: HttpResponse, retry: Option<u64>) -> HttpResponse {
    if let Some(secs) = retry {
        if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

/// Starts the console sign-in of session `session_id`: a new cookie token, its hash and
/// `last_seen_at` recorded, and the answer that sets the cookie and goes on to `next`.
async fn start_console_session(
    req: &HttpRequest,
    pool: &DbPool,
    now: NaiveDateTime,
    session_id: String,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let token_hash = hash(&token);
    db::run(pool, move |conn| {
        diesel::update(staff_sessions::table.find(&session_id))
            .set((
                staff_sessions::console_token_hash.eq(Some(token_hash)),
                staff_sessions::last_seen_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await?;
    let location = if page::safe_next(next) {
        next
    } else {
        "/staff"
    };
    let mut response = page::see_other(location);
    let _ = response.add_cookie(&session_cookie(&token, crate::web::is_https(req)));
    let _ = response.add_cookie(&cleared(PENDING_COOKIE, "/staff/login"));
    Ok(response)
}

/// `POST /staff/login`: the password step.
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    console: web::Data<ConsoleState>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let form = public_form(&req, payload, &console, auth.clock.now().timestamp()).await?;
    let username = form.text("username");
    let password = form.raw("password").unwrap_or_default().to_string();
    let next = form.text("next");
    if username.is_empty() || password.is_empty() {
        return Ok(login_form(
            &req,
            &console,
            &auth,
            None,
            &username,
            next,
            "请填写用户名和密码。".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    // The source address is used in memory by the throttle only: never stored or logged.
    let source = crate::web::peer(&req);
    let outcome = auth_routes::sign_in_with(
        &auth,
        &pool,
        &username,
        FirstFactor::Password(password),
        None,
        source,
        true,
    )
    .await;
    match outcome {
        Ok(SignInOutcome::Signed { session_id, .. }) => {
            start_console_session(&req, &pool, auth.clock.now_naive(), session_id, &next).await
        }
        Ok(SignInOutcome::TotpNeeded { user_id }) => {
            let folded = crate::domain::text::fold_code(&username).to_lowercase();
            let value = pending_value(
                console.pending_key(),
                &user_id,
                &folded,
                auth.clock.now().timestamp(),
            );
            let location = if page::safe_next(&next) {
                format!(
                    "/staff/login/totp?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                )
            } else {
                "/staff/login/totp".to_string()
            };
            let mut response = page::see_other(&location);
            let _ = response.add_cookie(
                &Cookie::build(PENDING_COOKIE, value)
                    .path("/staff/login")
                    .http_only(true)
                    .same_site(SameSite::Strict)
                    .secure(crate::web::is_https(&req))
                    .max_age(CookieDuration::seconds(PENDING_SECS))
                    .finish(),
            );
            Ok(response)
        }
        Err(e) => {
            let (message, status, retry) = login_refusal(e);
            Ok(with_retry_after(
                login_form(
                    &req, &console, &auth, None, &username, next, message, status,
                ),
                retry,
            ))
        }
    }
}

fn pending_of(req: &HttpRequest, console: &ConsoleState, now: i64) -> Option<(String, String)> {
    let value = req.cookie(PENDING_COOKIE)?;
    read_pending(console.pending_key(), value.value(), now)
}

fn totp_form(
    req: &HttpRequest,
    console: &ConsoleState,
    auth: &AuthState,
    next: String,
    error: String,
    status: StatusCode,
) -> HttpResponse {
    let (csrf, cookie) = public_csrf(req, console, auth.clock.now().timestamp());
    let next = if page::safe_next(&next) {
        next
    } else {
        String::new()
    };
    let mut response = page::render(
        status,
        &TotpPage {
            shell: sign_in_shell("输入动态验证码", None),
            csrf,
            next,
            error,
        },
    );
    let _ = response.add_cookie(&cookie);
    response
}

/// `GET /staff/login/totp`: the code form, after a right password.
pub async fn totp_page(
    req: HttpRequest,
    query: web::Query<LoginQuery>,
    console: web::Data<ConsoleState>,
    auth: web::Data<AuthState>,
) -> HttpResponse {
    if pending_of(&req, &console, auth.clock.now().timestamp()).is_none() {
        return page::see_other("/staff/login");
    }
    totp_form(
        &req,
        &console,
        &auth,
        query.into_inner().next.unwrap_or_default(),
        String::new(),
        StatusCode::OK,
    )
}

/// `POST /staff/login/totp`: the code step.
pub async fn totp_step(
    req: HttpRequest,
    payload: web::Payload,
    console: web::Data<ConsoleState>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let now = auth.clock.now().timestamp();
    let form = public_form(&req, payload, &console, now).await?;
    let next = form.text("next");
    let Some((user_id, username)) = pending_of(&req, &console, now) else {
        return Ok(login_form(
            &req,
            &console,
            &auth,
            None,
            "",
            next,
            "输入动态验证码的时间已过，请重新输入用户名和密码。".into(),
            StatusCode::UNAUTHORIZED,
        ));
    };
    let code = form.text("totp");
    if code.is_empty() {
        return Ok(totp_form(
            &req,
            &console,
            &auth,
            next,
            "请输入验证器应用中显示的6位数字。".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let source = crate::web::peer(&req);
    match auth_routes::sign_in_with(
        &auth,
        &pool,
        &username,
        FirstFactor::CheckedFor(user_id),
        Some(code),
        source,
        false,
    )
    .await
    {
        Ok(SignInOutcome::Signed { session_id, .. }) => {
            start_console_session(&req, &pool, auth.clock.now_naive(), session_id, &next).await
        }
        Ok(SignInOutcome::TotpNeeded { .. }) => Ok(page::see_other("/staff/login")),
        Err(e) => {
            let (message, status, retry) = login_refusal(e);
            Ok(with_retry_after(
                totp_form(&req, &console, &auth, next, message, status),
                retry,
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "console/totp_enrolment.html")]
struct EnrolmentPage {
    shell: Shell,
    /// The new secret (base32) and its `otpauth://` URI, once started.
    secret: String,
    uri: String,
    enabled: bool,
}

/// `GET /staff/totp`: TOTP enrolment (required before anything else for roles that need it).
pub async fn enrolment_page(desk: Desk) -> HttpResponse {
    let enabled = desk.totp_enabled;
    let shell = desk.shell("", "启用动态验证码");
    page::render(
        StatusCode::OK,
        &EnrolmentPage {
            shell,
            secret: String::new(),
            uri: String::new(),
            enabled,
        },
    )
}

/// `POST /staff/totp`: `action=start` shows a new secret; `action=confirm` with `code` turns
/// TOTP on, which ends every sign-in of the account (sign in again with a code).
pub async fn enrol(
    posted: Posted,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    let signed_in = desk.staff.0.clone();
    match form.get("action").as_deref() {
        Some("confirm") => {
            let code = form.text("code");
            match auth_routes::confirm_totp_enrolment(
                auth.clone().into_inner(),
                &pool,
                &signed_in,
                code,
            )
            .await
            {
                Ok(()) => {
                    let mut response = page::see_other("/staff/login?totp_enabled=1");
                    let _ = response.add_cookie(&cleared(COOKIE, "/staff"));
                    Ok(response)
                }
                Err(e) => {
                    let refusal = page::Refusal::from_api(&e);
                    let shell = desk.shell("", "启用动态验证码").with_refusal(Some(refusal));
                    Ok(page::show(
                        &shell,
                        &EnrolmentPage {
                            secret: form.text("secret"),
                            uri: form.text("uri"),
                            enabled: false,
                            shell: shell.clone(),
                        },
                    ))
                }
            }
        }
        _ => match auth_routes::begin_totp_enrolment(&auth, &pool, &signed_in).await {
            Ok(enrolment) => {
                let shell = desk.shell("", "启用动态验证码");
                Ok(page::render(
                    StatusCode::OK,
                    &EnrolmentPage {
                        shell,
                        secret: enrolment.secret,
                        uri: enrolment.otpauth_uri,
                        enabled: false,
                    },
                ))
            }
            Err(e) => {
                let shell = desk
                    .shell("", "启用动态验证码")
                    .with_refusal(Some(page::Refusal::from_api(&e)));
                Ok(page::show(
                    &shell,
                    &EnrolmentPage {
                        shell: shell.clone(),
                        secret: String::new(),
                        uri: String::new(),
                        enabled: e.code == crate::error::ErrorCode::TotpAlreadyEnabled,
                    },
                ))
            }
        },
    }
}

/// `POST /staff/sign-out`: ends the sign-in at once and clears the cookie.
pub async fn sign_out(
    posted: Posted,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let desk = posted.desk;
    let now = auth.clock.now_naive();
    let (session_id, user_id) = (desk.session_id.clone(), desk.user_id().to_string());
    db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            tokens::revoke_family(conn, now, &session_id)?;
            audit::record(
                conn,
                now,
                &Actor::User(user_id.clone()),
                "auth.logout",
                "user",
                &user_id,
                serde_json::json!({"console": true}),
            )?;
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    let mut response = page::see_other("/staff/login?signed_out=1");
    let _ = response.add_cookie(&cleared(COOKIE, "/staff"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_cookie_names_its_account_until_it_expires() {
        let key = [3u8; 32];
        let value = pending_value(&key, "user-1", "wang", 1_000);
        assert_eq!(
            read_pending(&key, &value, 1_100),
            Some(("user-1".into(), "wang".into()))
        );
        assert_eq!(read_pending(&key, &value, 1_000 + PENDING_SECS), None);
        assert_eq!(read_pending(&[4u8; 32], &value, 1_100), None);
        let forged = value.replacen(
            &URL_SAFE_NO_PAD.encode("user-1"),
            &URL_SAFE_NO_PAD.encode("user-2"),
            1,
        );
        assert_eq!(read_pending(&key, &forged, 1_100), None);
        assert_eq!(read_pending(&key, "a.b.c", 1_100), None);
    }
}
