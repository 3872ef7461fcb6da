//! 工作人员账号: the staff accounts (SPEC.md → "Users", "Roles and permissions").
//!
//! - `GET /staff/admin/users`: every account by username, 100 a page.
//! - `GET /staff/admin/users/new`, `POST /staff/admin/users`: a new account with its roles and
//!   an initial password (`users::routes::create_account`: the API's checks, password policy
//!   and `user.created` entry).
//! - `GET /staff/admin/users/{id}`: one account, with its forms; each POST goes through
//!   `users::routes::update_account` as `PATCH /api/v1/users/{id}` does:
//!   `…/profile` (name, email), `…/roles`, `…/active` (deactivate, reactivate), `…/password`
//!   (reset). Changing roles, deactivating and resetting the password end the account's
//!   sessions at once, console sign-ins included. An administrator cannot deactivate themselves
//!   or give up their own admin role (`self_lockout`).

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use super::{admin, also_beside, refusal, role_boxes, role_label, with_field, RoleBox, AREA};
use crate::auth::accounts::{list_user_views, load_user_view, UserView};
use crate::auth::AuthState;
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::console::zh;
use crate::db::{self, DbPool};
use crate::domain::password_policy::MIN_PASSWORD_CHARS;
use crate::error::{ApiError, ErrorCode};
use crate::users::routes::{create_account, update_account, CreateUserRequest, UpdateUserRequest};

/// Accounts on one page of the list.
const PAGE_SIZE: i64 = 100;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/admin/users")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/staff/admin/users/new").route(web::get().to(new_form)))
    .service(web::resource("/staff/admin/users/{id}").route(web::get().to(show)))
    .service(web::resource("/staff/admin/users/{id}/profile").route(web::post().to(set_profile)))
    .service(web::resource("/staff/admin/users/{id}/roles").route(web::post().to(set_roles)))
    .service(web::resource("/staff/admin/users/{id}/active").route(web::post().to(set_active)))
    .service(
        web::resource("/staff/admin/users/{id}/password").route(web::post().to(reset_password)),
    );
}

const NOTICES: [(&str, &str); 6] = [
    (
        "created",
        "账号已建立。请通过安全的方式把用户名和初始密码告诉本人。",
    ),
    ("profile", "姓名和邮箱已保存。"),
    (
        "roles",
        "角色已更新。这个账号原来的登录已全部结束，本人需要重新登录。",
    ),
    (
        "deactivated",
        "账号已停用。这个账号的所有登录已立即结束，不能再登录。",
    ),
    ("reactivated", "账号已恢复，本人可以重新登录。"),
    (
        "password",
        "密码已重置。这个账号原来的登录已全部结束，请通过安全的方式把新密码告诉本人。",
    ),
];

/// The Chinese hint for passwords under the policy (`domain::password_policy`).
fn password_hint() -> String {
    format!("至少{MIN_PASSWORD_CHARS}个字符，不能与用户名相同，不能是常见的密码。")
}

fn roles_zh(roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| role_label(r))
        .collect::<Vec<_>>()
        .join("、")
}

/// One account as the list shows it.
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    roles: String,
    teams: String,
    active: bool,
    locked_until: String,
    totp_enabled: bool,
}

impl From<UserView> for UserRow {
    fn from(u: UserView) -> UserRow {
        UserRow {
            roles: roles_zh(&u.roles),
            teams: u.teams.join("、"),
            locked_until: u.locked_until.map(crate::web::zh::time).unwrap_or_default(),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            active: u.active,
            totp_enabled: u.totp_enabled,
        }
    }
}

#[derive(Template)]
#[template(path = "console/admin/users.html")]
struct ListPage {
    shell: Shell,
    users: Vec<UserRow>,
    /// The next page's link, when there may be one.
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<String>,
    after: Option<String>,
}

/// `GET /staff/admin/users`: the accounts by username (what `GET /api/v1/users` lists).
async fn list(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let query = query.into_inner();
    let after = query.after.clone();
    let users = db::run(&pool, move |conn| {
        Ok(list_user_views(conn, after.as_deref(), PAGE_SIZE)?)
    })
    .await?;
    let next = (users.len() as i64 == PAGE_SIZE)
        .then(|| users.last())
        .flatten()
        .map(|u| {
            format!(
                "/staff/admin/users?after={}",
                url::form_urlencoded::byte_serialize(u.username.as_bytes()).collect::<String>()
            )
        });
    let page = ListPage {
        shell: desk
            .shell(AREA, "工作人员账号")
            .with_notice(page::notice(query.done.as_deref(), &NOTICES)),
        users: users.into_iter().map(UserRow::from).collect(),
        next,
    };
    Ok(page::render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console/admin/user_new.html")]
struct NewPage {
    shell: Shell,
    username: String,
    display_name: String,
    email: String,
    roles: Vec<RoleBox>,
    password_hint: String,
}

/// `GET /staff/admin/users/new`: the form for a new account.
async fn new_form(desk: Desk) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let page = NewPage {
        shell: desk.shell(AREA, "新建工作人员账号"),
        username: String::new(),
        display_name: String::new(),
        email: String::new(),
        roles: role_boxes(&[]),
        password_hint: password_hint(),
    };
    Ok(page::render(StatusCode::OK, &page))
}

/// `POST /staff/admin/users`: creates the account (`create_account`), then 303 to its page.
/// A refusal shows the form again with the API's status (422 with each bad field, 409 for a
/// username taken), what was typed kept except the password.
async fn create(
    posted: Posted,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let req = CreateUserRequest {
        username: form.text("username"),
        display_name: form.text("display_name"),
        email: form.get("email"),
        roles: form.all("roles"),
        // As typed: the policy counts what the user typed, spaces included.
        password: form.raw("password").unwrap_or_default().to_string(),
    };
    let typed = (
        req.username.clone(),
        req.display_name.clone(),
        req.email.clone().unwrap_or_default(),
        req.roles.clone(),
    );
    match create_account(&desk.staff, req, &auth, &pool).await {
        Ok(user) => Ok(page::see_other(&format!(
            "/staff/admin/users/{}?done=created",
            user.id
        ))),
        Err(e) => {
            let e = ApiError::from(e);
            let mut shown = refusal(&e);
            if e.code == ErrorCode::UsernameTaken {
                shown = with_field(shown, "username", zh::problem(ErrorCode::UsernameTaken));
            }
            let (username, display_name, email, roles) = typed;
            let page = NewPage {
                shell: desk
                    .shell(AREA, "新建工作人员账号")
                    .with_refusal(Some(shown)),
                username,
                display_name,
                email,
                roles: role_boxes(&roles),
                password_hint: password_hint(),
            };
            Ok(page::show(&page.shell, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "console/admin/user.html")]
struct UserPage {
    shell: Shell,
    user: UserRow,
    email: String,
    /// The values of the name and email form.
    form_display_name: String,
    form_email: String,
    roles: Vec<RoleBox>,
    /// The account is the signed-in administrator's own.
    is_self: bool,
    password_hint: String,
}

/// What a refused form of the account page had typed.
#[derive(Default)]
struct Typed {
    display_name: Option<String>,
    email: Option<String>,
    roles: Option<Vec<String>>,
}

async fn user_page(
    desk: &Desk,
    pool: &DbPool,
    id: String,
    notice: Option<String>,
    refused: Option<Refusal>,
    typed: Typed,
) -> Result<HttpResponse, PageError> {
    let user = db::run(pool, move |conn| Ok(load_user_view(conn, &id)?))
        .await?
        .ok_or_else(PageError::not_found)?;
    let title = format!("账号：{}", user.display_name);
    let page = UserPage {
        shell: desk
            .shell(AREA, title)
            .with_notice(notice)
            .with_refusal(refused),
        is_self: user.id == desk.user_id(),
        email: user.email.clone().unwrap_or_default(),
        form_display_name: typed
            .display_name
            .unwrap_or_else(|| user.display_name.clone()),
        form_email: typed
            .email
            .unwrap_or_else(|| user.email.clone().unwrap_or_default()),
        roles: role_boxes(typed.roles.as_deref().unwrap_or(&user.roles)),
        password_hint: password_hint(),
        user: UserRow::from(user),
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/admin/users/{id}`: one account and what may be changed.
///
/// Errors: 403 page; 404 page when no account has the id.
async fn show(
    desk: Desk,
    id: web::Path<String>,
    query: web::Query<super::DoneQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let notice = page::notice(query.done.as_deref(), &NOTICES);
    user_page(
        &desk,
        &pool,
        id.into_inner(),
        notice,
        None,
        Typed::default(),
    )
    .await
}

/// Runs `update_account` with `req`: 303 back to the account with `?done=done`, or the page
/// again with the refusal (`beside` moves a field's message next to the form that was used).
#[allow(clippy::too_many_arguments)]
async fn update(
    desk: Desk,
    id: String,
    req: UpdateUserRequest,
    done: &str,
    typed: Typed,
    beside: Option<(&str, &str)>,
    auth: &AuthState,
    pool: &DbPool,
) -> Result<HttpResponse, PageError> {
    match update_account(&desk.staff, id.clone(), req, auth, pool).await {
        Ok(_) => Ok(page::see_other(&format!(
            "/staff/admin/users/{id}?done={done}"
        ))),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                return Err(PageError::not_found());
            }
            let mut shown = refusal(&e);
            if let Some((from, to)) = beside {
                shown = also_beside(shown, from, to);
            }
            user_page(&desk, pool, id, None, Some(shown), typed).await
        }
    }
}

fn no_change() -> UpdateUserRequest {
    UpdateUserRequest {
        display_name: None,
        email: None,
        roles: None,
        active: None,
        password: None,
    }
}

/// `POST /staff/admin/users/{id}/profile`: the name and email (blank email: none).
async fn set_profile(
    posted: Posted,
    id: web::Path<String>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let display_name = form.text("display_name");
    let email = form.get("email");
    let req = UpdateUserRequest {
        display_name: Some(display_name.clone()),
        email: Some(email.clone()),
        ..no_change()
    };
    let typed = Typed {
        display_name: Some(display_name),
        email: Some(email.unwrap_or_default()),
        roles: None,
    };
    update(
        desk,
        id.into_inner(),
        req,
        "profile",
        typed,
        None,
        &auth,
        &pool,
    )
    .await
}

/// `POST /staff/admin/users/{id}/roles`: the roles ticked replace the account's roles.
async fn set_roles(
    posted: Posted,
    id: web::Path<String>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let roles = form.all("roles");
    let req = UpdateUserRequest {
        roles: Some(roles.clone()),
        ..no_change()
    };
    let typed = Typed {
        roles: Some(roles),
        ..Typed::default()
    };
    // `self_lockout` names `active`; here it is about the roles.
    update(
        desk,
        id.into_inner(),
        req,
        "roles",
        typed,
        Some(("active", "roles")),
        &auth,
        &pool,
    )
    .await
}

/// `POST /staff/admin/users/{id}/active`: `active=false` deactivates (ending every sign-in of
/// the account at once), `active=true` reactivates.
///
/// Errors: 403 page; 404 page when no account has the id; 400 page for another value.
async fn set_active(
    posted: Posted,
    id: web::Path<String>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let active = match form.get("active").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::bad_form()),
    };
    let req = UpdateUserRequest {
        active: Some(active),
        ..no_change()
    };
    let done = if active { "reactivated" } else { "deactivated" };
    update(
        desk,
        id.into_inner(),
        req,
        done,
        Typed::default(),
        None,
        &auth,
        &pool,
    )
    .await
}

/// `POST /staff/admin/users/{id}/password`: a new password set by the administrator.
async fn reset_password(
    posted: Posted,
    id: web::Path<String>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let req = UpdateUserRequest {
        password: Some(form.raw("password").unwrap_or_default().to_string()),
        ..no_change()
    };
    update(
        desk,
        id.into_inner(),
        req,
        "password",
        Typed::default(),
        None,
        &auth,
        &pool,
    )
    .await
}
