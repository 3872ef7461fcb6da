//! HTTP endpoints of the custodian workflow: thin handlers over `custodian`.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{DecisionBody, IdentityRequestBody, IdentityRequestView, ReporterIdentities, Staffer};
use crate::auth::extract::Staff;
use crate::db::{self, DbPool};
use crate::domain::ids::UserId;
use crate::domain::permissions::Permission;
use crate::error::ApiError;
use crate::reports::ReportsState;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(request_identity)
        .service(decide_request)
        .service(reporter_identity);
}

/// Ask to read the identity of a case's real-name reporters, with a reason (SPEC.md →
/// "Reporter identity (custodian)"). Any staff member who can see the case (investigators of its
/// team, supervisors, auditors); the request is pending until a supervisor who is not the
/// requester decides it. Audited (`identity.requested`).
#[utoipa::path(
    tag = "custodian",
    params(("id" = String, Path, description = "The case's id")),
    request_body = IdentityRequestBody,
    responses((status = 201, description = "The request, pending", body = IdentityRequestView)),
    security(("bearer" = []))
)]
#[post("/cases/{id}/identity-requests")]
pub async fn request_identity(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<IdentityRequestBody>,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let who = Staffer {
        user_id: UserId::from(staff.user_id()),
        roles: staff.0.roles.clone(),
    };
    let (id, body, actor, now) = (
        id.into_inner(),
        body.into_inner(),
        staff.actor(),
        state.clock.now_naive(),
    );
    let view = db::run(&pool, move |conn| {
        Ok(super::request(
            conn,
            now,
            &actor,
            &who,
            &id,
            body.reason.as_deref(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Approve or deny a request for a reporter's identity (supervisor, not the requester: 403
/// `own_request`). An approval lets the requester alone read the identity for 24 hours.
/// Audited (`identity.approved` / `identity.denied`).
#[utoipa::path(
    tag = "custodian",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionBody,
    responses((status = 200, description = "The decided request", body = IdentityRequestView)),
    security(("bearer" = []))
)]
#[post("/identity-requests/{id}/decision")]
pub async fn decide_request(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<DecisionBody>,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let decider = UserId::from(staff.user_id());
    let (id, body, actor, now) = (
        id.into_inner(),
        body.into_inner(),
        staff.actor(),
        state.clock.now_naive(),
    );
    let view = db::run(&pool, move |conn| {
        Ok(super::decide(conn, now, &actor, &decider, &id, &body)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The identity of the case's real-name reporters, decrypted: for the requester of an approved
/// request alone, within 24 hours of the approval; anyone else gets 403
/// `identity_access_required`. Each read is audited (`identity.read`) and recorded as a
/// disclosure, which the reporter's view and the case view show.
#[utoipa::path(
    tag = "custodian",
    params(("id" = String, Path, description = "The case's id")),
    responses((status = 200, body = ReporterIdentities)),
    security(("bearer" = []))
)]
#[get("/cases/{id}/reporter-identity")]
pub async fn reporter_identity(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let reader = UserId::from(staff.user_id());
    let (id, actor, now) = (id.into_inner(), staff.actor(), state.clock.now_naive());
    let key = state.data_key.clone();
    let identities = db::run(&pool, move |conn| {
        Ok(super::read_identity(conn, &key, now, &actor, &reader, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(identities))
}
