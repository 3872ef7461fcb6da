//! Admin endpoints for staff accounts: `/users`, `/users/{id}`.

use actix_web::{get, patch, post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::models::{UserChanges, UserRoleRow};
use super::{create_user, valid_username, CreateUserError, NewUser};
use crate::audit;
use crate::auth::accounts::{list_user_views, load_user_view, UserView};
use crate::auth::extract::Staff;
use crate::auth::{tokens, AuthState};
use crate::db::schema::{user_roles, users};
use crate::db::{self, DbPool};
use crate::domain::ids::UserId;
use crate::domain::password_policy;
use crate::domain::permissions::Permission;
use crate::domain::roles::Role;
use crate::domain::text;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError, FieldViolation, Problem};
use crate::http::pagination::{page, Page, PageQuery};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    /// `null` clears the email; absent leaves it.
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub active: Option<bool>,
    /// Sets a new password (reset). Ends the user's sessions.
    pub password: Option<String>,
}

/// Why an administrator's change to a staff account was not made. Mapped to `ApiError` at the
/// HTTP edge (`From` below).
#[derive(Debug, thiserror::Error)]
pub enum UserAdminError {
    /// Fields broke their rules; each violation names its field.
    #[error("{} field(s) of the request are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Another account has this username.
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    /// No account has this id.
    #[error("no user has this id")]
    NotFound,
    /// The Argon2 pool is full (503), the database or the server failed; already an `ApiError`.
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for UserAdminError {
    fn from(e: diesel::result::Error) -> UserAdminError {
        UserAdminError::Failed(e.into())
    }
}

impl From<CreateUserError> for UserAdminError {
    fn from(e: CreateUserError) -> UserAdminError {
        match e {
            CreateUserError::UsernameTaken(name) => UserAdminError::UsernameTaken(name),
            CreateUserError::Database(d) => d.into(),
            other => UserAdminError::Invalid(vec![FieldError::new(
                "username",
                ErrorCode::Invalid,
                other.to_string(),
            )]),
        }
    }
}

impl From<UserAdminError> for ApiError {
    fn from(e: UserAdminError) -> ApiError {
        match e {
            UserAdminError::Invalid(violations) => ApiError::validation(violations),
            UserAdminError::UsernameTaken(_) => {
                ApiError::conflict(ErrorCode::UsernameTaken, e.to_string())
            }
            UserAdminError::NotFound => ApiError::not_found("No user has this id."),
            UserAdminError::Failed(e) => e,
        }
    }
}

fn parse_roles(names: &[String], errors: &mut Vec<FieldError>) -> Vec<Role> {
    if names.is_empty() {
        errors.push(FieldError::new(
            "roles",
            ErrorCode::Required,
            "give at least one role",
        ));
    }
    let mut roles = Vec::new();
    for name in names {
        match name.parse::<Role>() {
            Ok(r) if !roles.contains(&r) => roles.push(r),
            Ok(_) => {}
            Err(e) => errors.push(FieldError::new(
                "roles",
                ErrorCode::UnknownRole,
                e.to_string(),
            )),
        }
    }
    roles
}

fn check_email(email: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(e) = email {
        if !crate::domain::email::is_valid(e) {
            errors.push(FieldError::new(
                "email",
                ErrorCode::Invalid,
                "not a valid email address",
            ));
        }
    }
}

fn check_display_name(name: &str, errors: &mut Vec<FieldError>) {
    // At least one visible character (domain::text).
    let name = text::clean(name);
    if text::check_length(&name, 1, 100).is_some() {
        errors.push(FieldError::new(
            "display_name",
            ErrorCode::InvalidLength,
            "display_name must have 1–100 characters",
        ));
    }
}

fn check_password(username: &str, password: &str, errors: &mut Vec<FieldError>) {
    if let Err(v) = password_policy::check(username, password) {
        errors.push(FieldError::new("password", v.code(), v.to_string()));
    }
}

/// List staff accounts.
#[utoipa::path(
    tag = "users",
    params(PageQuery),
    responses((status = 200, body = Page<UserView>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    staff: Staff,
    query: web::Query<PageQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let (limit, after) = query.parse()?;
    let items = db::run(&pool, move |conn| {
        Ok(list_user_views(conn, after.as_deref(), limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |u| u.username.clone())))
}

/// Create a staff account.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserView),
        (status = 409, description = "username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create(
    staff: Staff,
    body: web::Json<CreateUserRequest>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let view = create_account(&staff, body.into_inner(), &auth, &pool).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Creates the account `req` describes, on behalf of `staff` (already allowed to administer),
/// and returns it as shown.
///
/// Errors: [`UserAdminError::Invalid`] listing every bad field; `UsernameTaken`; `Failed` for a
/// full Argon2 pool (503) or a database error.
pub async fn create_account(
    staff: &Staff,
    req: CreateUserRequest,
    auth: &AuthState,
    pool: &DbPool,
) -> Result<UserView, UserAdminError> {
    // Usernames are code-like: full-width forms fold (domain::text).
    let username = text::fold_code(&req.username).to_lowercase();
    let mut errors = Vec::new();
    if !valid_username(&username) {
        errors.push(FieldError::new(
            "username",
            ErrorCode::Invalid,
            "3–64 characters of a–z, 0–9, '.', '_' or '-'",
        ));
    }
    check_display_name(&req.display_name, &mut errors);
    let email = req.email.as_deref().map(text::fold_email);
    check_email(&email, &mut errors);
    let roles = parse_roles(&req.roles, &mut errors);
    check_password(&username, &req.password, &mut errors);
    if !errors.is_empty() {
        return Err(UserAdminError::Invalid(errors));
    }
    let hash = auth.hash_password(req.password).await?;
    let new_user = NewUser {
        username,
        display_name: text::clean(&req.display_name),
        email,
        roles,
    };
    let actor = staff.actor();
    let now = auth.clock.now_naive();
    let created = db::run(pool, move |conn| {
        let id = match create_user(conn, now, &actor, &new_user, &hash) {
            Ok(id) => id,
            Err(CreateUserError::Database(d)) => return Err(d.into()),
            Err(refused) => return Ok(Err(refused)),
        };
        let view =
            load_user_view(conn, &id)?.ok_or_else(|| ApiError::not_found("user vanished"))?;
        Ok(Ok(view))
    })
    .await?;
    Ok(created?)
}

/// One staff account.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let id = id.into_inner();
    let view = db::run(&pool, move |conn| Ok(load_user_view(conn, &id)?))
        .await?
        .ok_or_else(|| ApiError::not_found("No user has this id."))?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change roles, active flag, name, email, or reset the password. Changing roles, deactivating
/// or resetting the password ends the user's sessions at once.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path)),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<UpdateUserRequest>,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let view = update_account(&staff, id.into_inner(), body.into_inner(), &auth, &pool).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Applies `req` to account `id` on behalf of `staff` (already allowed to administer) and
/// returns the account as shown. Changing roles, deactivating or resetting the password ends
/// the account's sessions.
///
/// Errors: [`UserAdminError::NotFound`]; `Invalid` listing every bad field (including
/// `self_lockout`); `Failed` for a full Argon2 pool (503) or a database error.
pub async fn update_account(
    staff: &Staff,
    id: String,
    req: UpdateUserRequest,
    auth: &AuthState,
    pool: &DbPool,
) -> Result<UserView, UserAdminError> {
    let lookup = id.clone();
    let username: String = db::run(pool, move |conn| {
        Ok(users::table
            .find(&lookup)
            .select(users::username)
            .first(conn)
            .optional()?)
    })
    .await?
    .ok_or(UserAdminError::NotFound)?;

    let mut errors = Vec::new();
    if let Some(name) = &req.display_name {
        check_display_name(name, &mut errors);
    }
    // Emails are code-like: full-width forms fold as on create (domain::text).
    let mut req = req;
    req.email = req.email.map(|e| e.map(|e| text::fold_email(&e)));
    if let Some(email) = &req.email {
        check_email(email, &mut errors);
    }
    let roles = req.roles.as_ref().map(|r| parse_roles(r, &mut errors));
    if let Some(p) = &req.password {
        check_password(&username, p, &mut errors);
    }
    if id == staff.user_id()
        && (req.active == Some(false) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)))
    {
        errors.push(FieldError::new(
            "active",
            ErrorCode::SelfLockout,
            "you cannot deactivate yourself or remove your own admin role",
        ));
    }
    if !errors.is_empty() {
        return Err(UserAdminError::Invalid(errors));
    }
    let new_hash = match req.password {
        Some(p) => Some(auth.hash_password(p).await?),
        None => None,
    };
    let actor = staff.actor();
    let now = auth.clock.now_naive();
    let view = db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            let mut changed: Vec<&str> = Vec::new();
            let mut changes = UserChanges {
                updated_at: Some(now),
                ..UserChanges::default()
            };
            if let Some(name) = &req.display_name {
                changes.display_name = Some(text::clean(name));
                changed.push("display_name");
            }
            if let Some(email) = &req.email {
                changes.email = Some(email.clone());
                changed.push("email");
            }
            let mut ends_sessions = false;
            if let Some(active) = req.active {
                changes.active = Some(active);
                changed.push("active");
                ends_sessions |= !active;
            }
            if let Some(roles) = &roles {
                diesel::delete(user_roles::table.filter(user_roles::user_id.eq(&id)))
                    .execute(conn)?;
                for role in roles {
                    diesel::insert_into(user_roles::table)
                        .values(UserRoleRow {
                            user_id: UserId::from(id.as_str()),
                            role: *role,
                        })
                        .execute(conn)?;
                }
                changed.push("roles");
                ends_sessions = true;
            }
            if let Some(hash) = &new_hash {
                changes.password_hash = Some(hash.clone());
                changes.failed_logins = Some(0);
                changes.locked_until = Some(None);
                changed.push("password");
                ends_sessions = true;
            }
            diesel::update(users::table.find(&id))
                .set(&changes)
                .execute(conn)?;
            if ends_sessions {
                tokens::end_all_sessions(conn, now, &id)?;
            }
            let role_names: Option<Vec<&str>> = roles
                .as_ref()
                .map(|r| r.iter().map(|x| x.as_str()).collect());
            audit::record(
                conn,
                now,
                &actor,
                "user.updated",
                "user",
                &id,
                serde_json::json!({"changed": changed, "roles": role_names, "active": req.active}),
            )?;
            load_user_view(conn, &id)?.ok_or_else(|| UserAdminError::NotFound.into())
        })
    })
    .await?;
    Ok(view)
}
