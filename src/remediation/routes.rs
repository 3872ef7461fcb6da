//! HTTP endpoints for remediation plans: thin handlers over `super` (see the module docs there).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use diesel::prelude::*;
use utoipa_actix_web::service_config::ServiceConfig;

use super::models::RemediationFileRow;
use super::{
    Moment, NewItemRequest, RejectRequest, RemediationItemView, RemediationPlan, SubmitRequest,
    Verified, VerifyRequest,
};
use crate::auth::extract::Staff;
use crate::cases::Viewer;
use crate::clock::Clock;
use crate::db::schema::remediation_files;
use crate::db::{self, DbPool};
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::reports::routes::read_multipart_with;
use crate::reports::staged::StagedFiles;
use crate::reports::ReportsState;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(add_item)
        .service(list_items)
        .service(get_item)
        .service(submit_item)
        .service(verify_item)
        .service(reject_item)
        .service(download_file);
}

fn viewer(staff: &Staff) -> Viewer {
    Viewer {
        user_id: staff.user_id().to_string(),
        roles: staff.0.roles.clone(),
    }
}

fn moment(clock: &Clock) -> Moment {
    Moment {
        today: deadlines::today_in_county(clock.now()),
        now: clock.now_naive(),
    }
}

/// Add an item to a filed case's remediation plan (investigators of the case's team,
/// supervisors). A case that was never filed is 409 `case_not_filed`; a complete plan (every
/// item verified) is 409 `remediation_plan_complete`.
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The case's id")),
    request_body = NewItemRequest,
    responses(
        (status = 201, description = "The item, `open`", body = RemediationItemView),
        (status = 409, description = "`case_not_filed`, `remediation_plan_complete`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `description`, `responsible_unit`, `due_on`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/remediation-items")]
pub async fn add_item(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<NewItemRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (viewer, actor, at) = (viewer(&staff), staff.actor(), moment(&clock));
    let (id, body) = (id.into_inner(), body.into_inner());
    let item = db::run(&pool, move |conn| {
        Ok(super::add_item(conn, &viewer, &actor, &id, &body, at)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(item))
}

/// A case's remediation plan: its items (oldest first) with their history and evidence files,
/// and whether it is complete (at least one item, every item verified).
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The case's id")),
    responses((status = 200, body = RemediationPlan)),
    security(("bearer" = []))
)]
#[get("/cases/{id}/remediation-items")]
pub async fn list_items(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let (viewer, today) = (viewer(&staff), moment(&clock).today);
    let id = id.into_inner();
    let plan = db::run(&pool, move |conn| {
        Ok(super::plan_of(conn, &viewer, &id, today)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(plan))
}

/// One remediation item with its history (every submission and rejection) and files.
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The item's id")),
    responses((status = 200, body = RemediationItemView)),
    security(("bearer" = []))
)]
#[get("/remediation-items/{id}")]
pub async fn get_item(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let (viewer, today) = (viewer(&staff), moment(&clock).today);
    let id = id.into_inner();
    let item = db::run(&pool, move |conn| {
        Ok(super::get_item(conn, &viewer, &id, today)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Reads a submission: JSON `{"evidence", "version"}`, or multipart with a `submission` part
/// (the same JSON) and up to `reports.max_attachments` files, each cleaned of metadata and
/// encrypted (staged: deleted unless the submission commits).
async fn read_submission(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ReportsState,
) -> Result<(SubmitRequest, StagedFiles), ApiError> {
    let content_type = req.content_type().to_string();
    let (json, files) = if content_type == "application/json" {
        let limit = state.json_body_limit;
        let body = payload
            .to_bytes_limited(limit)
            .await
            .map_err(|_| {
                ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    format!("The body is larger than the {limit} bytes accepted."),
                )
            })?
            .map_err(|e| ApiError::bad_request(ErrorCode::BadBody, e.to_string()))?;
        (Some(body.to_vec()), StagedFiles::new(&state.store))
    } else if content_type == "multipart/form-data" {
        let multipart = Multipart::new(req.headers(), payload.into_inner());
        read_multipart_with(state, multipart, Some("submission")).await?
    } else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send application/json, or multipart/form-data with a `submission` part (JSON) and \
             files.",
        ));
    };
    let body = match json {
        None => SubmitRequest::default(),
        Some(bytes) => {
            // The multipart part passes the same text gate as a JSON body.
            let bytes = crate::http::text_guard::normalise_json(web::Bytes::from(bytes))?;
            serde_json::from_slice(&bytes).map_err(|e| {
                if e.is_data() {
                    ApiError::new(
                        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
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
        }
    };
    Ok((body, files))
}

/// Submit evidence for an item (investigators of the case's team, supervisors): `open` or
/// `rejected` → `submitted`. JSON `{"evidence": "..."}`, or `multipart/form-data` with a
/// `submission` part (that JSON) and files (images, PDF, office documents, audio, video; each
/// cleaned of identifying metadata and encrypted at rest, as a report's evidence).
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The item's id")),
    request_body(content = SubmitRequest, description = "JSON, or multipart with a `submission` part (the same JSON) and files"),
    responses(
        (status = 200, description = "The item, `submitted`", body = RemediationItemView),
        (status = 409, description = "`invalid_transition` (with `item_status` and `allowed_actions`), `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (`evidence`); for files `attachment_unreadable`, `attachment_contains_executable`, `office_document_invalid`, `archive_too_large`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/remediation-items/{id}/submit")]
pub async fn submit_item(
    staff: Staff,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (body, files) = read_submission(&req, payload, &state).await?;
    let (viewer, actor, at) = (viewer(&staff), staff.actor(), moment(&state.clock));
    let id = id.into_inner();
    let item = db::run(&pool, move |conn| {
        let item = super::submit(conn, &viewer, &actor, &id, &body, &files, at)?;
        // Committed: the files belong to the submission now.
        files.commit();
        Ok(item)
    })
    .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Verify an item's evidence (supervisor): `submitted` → `verified`. When this completes the
/// case's plan, the case stops blocking its village; when no other filed case of the village
/// blocks, the village's suspension is lifted in this same transaction, with this supervisor
/// recorded as the one who lifted it. `suspension` says which: `lifted`, or `still_blocking`
/// naming the cases that keep the village suspended.
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The item's id")),
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The item, `verified`, and what it did to the suspension", body = Verified),
        (status = 409, description = "`invalid_transition` (with `item_status` and `allowed_actions`), `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/remediation-items/{id}/verify")]
pub async fn verify_item(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<VerifyRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let (viewer, actor, at) = (viewer(&staff), staff.actor(), moment(&clock));
    let (id, body) = (id.into_inner(), body.into_inner());
    let verified = db::run(&pool, move |conn| {
        Ok(super::verify(conn, &viewer, &actor, &id, &body, at)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(verified))
}

/// Reject an item's evidence (supervisor), with the reason: `submitted` → `rejected`; it may
/// be submitted again, and the rejected submission stays in its history.
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The item's id")),
    request_body = RejectRequest,
    responses(
        (status = 200, description = "The item, `rejected`", body = RemediationItemView),
        (status = 409, description = "`invalid_transition` (with `item_status` and `allowed_actions`), `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `reason`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/remediation-items/{id}/reject")]
pub async fn reject_item(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<RejectRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let (viewer, actor, at) = (viewer(&staff), staff.actor(), moment(&clock));
    let (id, body) = (id.into_inner(), body.into_inner());
    let item = db::run(&pool, move |conn| {
        Ok(super::reject(conn, &viewer, &actor, &id, &body, at)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Download a remediation evidence file, decrypted (who reads the case; the download is
/// audited).
#[utoipa::path(
    tag = "remediation",
    params(("id" = String, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/remediation-files/{id}")]
pub async fn download_file(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let viewer = viewer(&staff);
    let (id, actor, now) = (id.into_inner(), staff.actor(), state.clock.now_naive());
    let lookup = id.clone();
    let file: RemediationFileRow = db::run(&pool, move |conn| {
        let file: RemediationFileRow = remediation_files::table
            .find(&lookup)
            .select(RemediationFileRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found("No remediation file has this id."))?;
        let case_id: String = crate::db::schema::remediation_items::table
            .find(file.item_id.as_str())
            .select(crate::db::schema::remediation_items::case_id)
            .first(conn)?;
        crate::cases::visible_case(conn, &viewer, &case_id).map_err(ApiError::from)?;
        db::write_tx(conn, |conn| {
            crate::audit::record(
                conn,
                now,
                &actor,
                "remediation.file_downloaded",
                "case",
                &case_id,
                serde_json::json!({"file_id": file.id, "item_id": file.item_id}),
            )
        })?;
        Ok(file)
    })
    .await?;
    let stream = state
        .store
        .open(&file.storage_name, file.id.as_str())
        .await
        .map_err(|e| ApiError::unexpected(e.into()))?;
    let extension = crate::evidence::extension(&file.content_type);
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"remediation-{id}.{extension}\""),
        ))
        .streaming(stream))
}
