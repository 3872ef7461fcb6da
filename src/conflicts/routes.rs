//! HTTP endpoints for conflict-of-interest declarations (SPEC.md → "Teams, routing,
//! conflicts"). Any staff member, for themselves: `POST /me/conflicts`, `GET /me/conflicts`,
//! `POST /me/conflicts/{id}/withdraw`. Supervisors and administrators: `GET /conflicts`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{ConflictDeclaration, ConflictError};
use crate::auth::extract::Staff;
use crate::clock::Clock;
use crate::db::schema::conflict_declarations;
use crate::db::{self, DbPool};
use crate::domain::ids::{ConflictId, UserId};
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode};
use crate::http::pagination::{page, Page, PageQuery};

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(declare)
        .service(list_mine)
        .service(withdraw)
        .service(list_all);
}

impl From<ConflictError> for ApiError {
    fn from(e: ConflictError) -> ApiError {
        match e {
            ConflictError::Invalid(v) => ApiError::validation(v),
            ConflictError::NotFound => ApiError::not_found(e.to_string()),
            ConflictError::AlreadyWithdrawn => {
                ApiError::conflict(ErrorCode::AlreadyRetired, e.to_string())
            }
            ConflictError::Database(d) => d.into(),
        }
    }
}

/// A declaration as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictView {
    pub id: String,
    /// Who declared it (for themselves).
    pub user_id: String,
    /// The county, township or village; a township's declaration covers its villages.
    pub division_code: String,
    pub reason: String,
    pub declared_at: DateTime<Utc>,
    /// True until withdrawn.
    pub active: bool,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
}

impl From<ConflictDeclaration> for ConflictView {
    fn from(d: ConflictDeclaration) -> ConflictView {
        ConflictView {
            id: d.id.into_string(),
            user_id: d.user_id.into_string(),
            division_code: d.division_code,
            reason: d.reason,
            declared_at: d.declared_at.and_utc(),
            active: d.withdrawn_at.is_none(),
            withdrawn_at: d.withdrawn_at.map(|t| t.and_utc()),
            withdrawn_reason: d.withdrawn_reason,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    /// An existing division's code: a village (12 digits), a township (9) or the county (6).
    pub division_code: String,
    /// 1–500 characters, e.g. `本人配偶的娘家在该村`.
    pub reason: String,
}

/// Declare a conflict of interest for yourself (any staff member). Records `conflict.declared`.
#[utoipa::path(
    tag = "conflicts",
    request_body = DeclareRequest,
    responses((status = 201, body = ConflictView)),
    security(("bearer" = []))
)]
#[post("/me/conflicts")]
pub async fn declare(
    staff: Staff,
    body: web::Json<DeclareRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let user = UserId::from(staff.user_id());
    let actor = staff.actor();
    let now = clock.now_naive();
    let row = db::run(&pool, move |conn| {
        Ok(super::declare(
            conn,
            now,
            &actor,
            &user,
            &req.division_code,
            &req.reason,
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(ConflictView::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConflictsQuery {
    /// Only this staff member's declarations.
    pub user_id: Option<String>,
    /// `true`: only active declarations; `false`: only withdrawn ones; absent: both.
    pub active: Option<bool>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MyConflictsQuery {
    /// `true`: only active declarations; `false`: only withdrawn ones; absent: both.
    pub active: Option<bool>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// One page of declarations by id, optionally of one user and by state.
async fn page_of(
    pool: &DbPool,
    user: Option<String>,
    active: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
) -> Result<Page<ConflictView>, ApiError> {
    let (limit, after) = PageQuery { limit, cursor }.parse()?;
    let items = db::run(pool, move |conn| {
        let mut q = conflict_declarations::table
            .select(ConflictDeclaration::as_select())
            .into_boxed();
        if let Some(user) = &user {
            q = q.filter(conflict_declarations::user_id.eq(user.clone()));
        }
        match active {
            Some(true) => q = q.filter(conflict_declarations::withdrawn_at.is_null()),
            Some(false) => q = q.filter(conflict_declarations::withdrawn_at.is_not_null()),
            None => {}
        }
        if let Some(after) = &after {
            q = q.filter(conflict_declarations::id.gt(after.clone()));
        }
        let rows = q.order(conflict_declarations::id).limit(limit).load(conn)?;
        Ok(rows.into_iter().map(ConflictView::from).collect::<Vec<_>>())
    })
    .await?;
    Ok(page(items, limit, |d| d.id.clone()))
}

/// Your own declarations, active and withdrawn, by id (any staff member).
#[utoipa::path(
    tag = "conflicts",
    params(MyConflictsQuery),
    responses((status = 200, body = Page<ConflictView>)),
    security(("bearer" = []))
)]
#[get("/me/conflicts")]
pub async fn list_mine(
    staff: Staff,
    query: web::Query<MyConflictsQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let user = staff.user_id().to_string();
    let page = page_of(&pool, Some(user), q.active, q.limit, q.cursor).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// Why the conflict no longer holds, 1–500 characters. Kept on record.
    pub reason: String,
}

/// Withdraw one of your declarations (any staff member, their own only). The declaration stays
/// on record with the reason and time. Records `conflict.withdrawn`.
#[utoipa::path(
    tag = "conflicts",
    params(("id" = String, Path, description = "the declaration's id")),
    request_body = WithdrawRequest,
    responses((status = 200, body = ConflictView)),
    security(("bearer" = []))
)]
#[post("/me/conflicts/{id}/withdraw")]
pub async fn withdraw(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<WithdrawRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let id = ConflictId::from(id.into_inner());
    let reason = body.into_inner().reason;
    let user = UserId::from(staff.user_id());
    let actor = staff.actor();
    let now = clock.now_naive();
    let row = db::run(&pool, move |conn| {
        Ok(super::withdraw(conn, now, &actor, &user, &id, &reason)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConflictView::from(row)))
}

/// Every declaration, by id (supervisor, admin).
#[utoipa::path(
    tag = "conflicts",
    params(ConflictsQuery),
    responses((status = 200, body = Page<ConflictView>)),
    security(("bearer" = []))
)]
#[get("/conflicts")]
pub async fn list_all(
    staff: Staff,
    query: web::Query<ConflictsQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(&[Permission::Supervise, Permission::Administer])?;
    let q = query.into_inner();
    let page = page_of(&pool, q.user_id, q.active, q.limit, q.cursor).await?;
    Ok(HttpResponse::Ok().json(page))
}
