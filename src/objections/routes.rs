//! HTTP endpoints of objections: thin handlers over `objections`.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{ObjectionPage, ObjectionQuery};
use crate::auth::extract::Staff;
use crate::db::{self, DbPool};
use crate::domain::deadlines;
use crate::domain::ids::UserId;
use crate::domain::permissions::Permission;
use crate::domain::roles::Role;
use crate::error::{ApiError, Problem};
use crate::reports::follow_up::ReporterObjection;
use crate::reports::routes::Reporter;
use crate::reports::ReportsState;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(reporter_objection).service(list_objections);
}

/// The body of `POST /reporter/objections`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObjectionBody {
    /// What the reporter objects to in the result fed back (1–5,000 characters). Evidence is
    /// added as usual with `POST /api/v1/reporter/attachments`.
    pub body: String,
}

/// Object to the result fed back (SPEC.md → "Real-name reporters"; issue 10, item 6): once
/// per feedback message, after one was sent. The commission handles it within 15 working days;
/// the case's deadline in the staff queue includes it. Supervisors are told by email, without
/// its content.
#[utoipa::path(
    tag = "reporter",
    request_body = ObjectionBody,
    responses(
        (status = 201, body = ReporterObjection),
        (status = 404, description = "`not_found`: the session's report no longer exists", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`objection_not_open`: no result was fed back yet; `objection_already_made`: the latest result was objected to already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("reporter" = []))
)]
#[post("/reporter/objections")]
pub async fn reporter_objection(
    reporter: Reporter,
    body: web::Json<ObjectionBody>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    let objection = super::file_for_reporter(&state, &reporter.report_id, &body.body).await?;
    Ok(HttpResponse::Created().json(objection))
}

/// Objections of reporters, oldest (so earliest due) first: `?status=open` is the supervisors'
/// list of objections to handle, each with its deadline and overdue flag. Supervisors and
/// auditors see all; investigators those of their teams' cases.
#[utoipa::path(
    tag = "objections",
    params(ObjectionQuery),
    responses((status = 200, body = ObjectionPage)),
    security(("bearer" = []))
)]
#[get("/objections")]
pub async fn list_objections(
    staff: Staff,
    query: web::Query<ObjectionQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    // The team rule of the case queue (`cases::Viewer::sees_all`).
    let sees_all = staff
        .0
        .roles
        .iter()
        .any(|r| matches!(r, Role::Supervisor | Role::Auditor));
    let user = UserId::from(staff.user_id());
    let query = query.into_inner();
    let today = deadlines::today_in_county(state.clock.now());
    let page = db::run(&pool, move |conn| {
        let visible = if sees_all {
            None
        } else {
            Some(crate::routing::teams_of(conn, &user)?)
        };
        Ok(super::list(conn, visible, &query, today)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
