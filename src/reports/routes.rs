//! HTTP endpoints for reports: public submission, the reporter's follow-up, staff download of
//! evidence.

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{get, post, web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::follow_up::{self, EvidenceView, ReporterReportView, ThreadMessage};
use super::models::AttachmentRow;
use super::staff::{ReportSummary, StaffReportView};
use super::staged::StagedFiles;
use super::storage::StoreError;
use super::submit::{self, Idempotency, Receipt, StagedFile};
use super::ReportsState;
use crate::auth::extract::Staff;
use crate::clock::Clock;
use crate::db::schema::attachments;
use crate::db::{self, DbPool};
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::report as report_rules;
use crate::domain::report::RawSubmission;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::pagination::{page, Page, PageQuery};

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(submit_report)
        .service(intake_queue)
        .service(report_details)
        .service(open_session)
        .service(reporter_report)
        .service(reporter_message)
        .service(reporter_attachments)
        .service(download_attachment);
}

/// The reporter, identified by a session token from `/reporter/session`.
pub struct Reporter {
    pub report_id: String,
}

impl FromRequest for Reporter {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<ReportsState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let state = state.expect("ReportsState is registered");
            token
                .and_then(|t| state.sessions.verify(&t, state.clock.now()))
                .map(|report_id| Reporter { report_id })
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "Open a session with your receipt code first (POST /api/v1/reporter/session).",
                    )
                })
        })
    }
}

fn store_error(e: StoreError) -> ApiError {
    use actix_web::http::StatusCode;
    match e {
        StoreError::TooLarge { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::AttachmentTooLarge,
            format!("Each file may be at most {limit} bytes. 单个文件不能超过 {} MB。", limit / (1024 * 1024)),
        ),
        StoreError::UnsupportedType { detected } => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedAttachmentType,
            format!(
                "Only images, PDF, office documents, audio and video are accepted (this looks like {detected}). \
                 只接受图片、PDF、办公文档、音频和视频。"
            ),
        ),
        StoreError::Empty => ApiError::validation(vec![report_rules::file_empty()]),
        StoreError::Refused(why) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            why.code(),
            format!("{why}. {}", why.message_zh()),
        ),
        StoreError::Upload(why) => ApiError::bad_request(ErrorCode::UploadFailed, format!("The upload failed: {why}")),
        StoreError::Io(e) => ApiError::unexpected(e.into()),
    }
}

/// Reads a multipart body: the field named `report` (JSON, when `expect_report`) and every file
/// field, each typed, cleaned of metadata and encrypted to storage (`AttachmentStore::store`).
/// On any error the staged files are removed (the [`StagedFiles`] guard drops).
pub async fn read_multipart(
    state: &ReportsState,
    multipart: Multipart,
    expect_report: bool,
) -> Result<(Option<Vec<u8>>, StagedFiles), ApiError> {
    read_multipart_with(state, multipart, expect_report.then_some("report")).await
}

/// As [`read_multipart`], with the JSON part named `json_field` (none: files only), e.g.
/// `submission` for remediation evidence (`remediation::routes`).
pub async fn read_multipart_with(
    state: &ReportsState,
    mut multipart: Multipart,
    json_field: Option<&str>,
) -> Result<(Option<Vec<u8>>, StagedFiles), ApiError> {
    let mut report_json: Option<Vec<u8>> = None;
    let mut files = StagedFiles::new(&state.store);
    let outcome: Result<(), ApiError> = async {
        while let Some(field) = multipart.next().await {
            let mut field =
                field.map_err(|e| ApiError::bad_request(ErrorCode::BadMultipart, e.to_string()))?;
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .is_some();
            if json_field == Some(name.as_str()) && !is_file {
                let mut buf = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|e| {
                        ApiError::bad_request(ErrorCode::BadMultipart, e.to_string())
                    })?;
                    if buf.len() + chunk.len() > state.json_body_limit {
                        return Err(too_large(
                            state.json_body_limit,
                            &format!("The `{name}` field"),
                        ));
                    }
                    buf.extend_from_slice(&chunk);
                }
                report_json = Some(buf);
                continue;
            }
            if !is_file {
                continue;
            }
            if files.len() >= state.settings.max_attachments {
                return Err(ApiError::validation(vec![report_rules::too_many_files(
                    state.settings.max_attachments,
                )]));
            }
            // The client's file name is never used or kept.
            let attachment_id = uuid::Uuid::new_v4().to_string();
            let file = state
                .store
                .store(
                    &attachment_id,
                    &mut field,
                    state.settings.max_attachment_bytes,
                )
                .await
                .map_err(store_error)?;
            files.push(StagedFile {
                attachment_id,
                file,
            });
        }
        Ok(())
    }
    .await;
    outcome.map(|()| (report_json, files))
}

/// 413 `payload_too_large`: the submission JSON (`what`) is over `server.json_body_limit`.
fn too_large(limit: usize, what: &str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("{what} is larger than the {limit} bytes accepted."),
    )
}

fn parse_submission(body: &[u8]) -> Result<RawSubmission, ApiError> {
    // The multipart `report` field passes the same text gate as a JSON body.
    let body = crate::http::text_guard::normalise_json(web::Bytes::copy_from_slice(body))?;
    serde_json::from_slice(&body).map_err(|e| {
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
    })
}

fn source(req: &HttpRequest) -> Option<std::net::IpAddr> {
    // In memory for rate limiting only; never stored or logged.
    req.peer_addr().map(|a| a.ip())
}

/// Submit a report: JSON, or `multipart/form-data` with a `report` field (the same JSON) and up
/// to 10 files. Anonymous or real-name. `Idempotency-Key` makes retries safe. Intake officers
/// log phone, letter and visit reports here with their token and `channel`.
#[utoipa::path(
    tag = "reports",
    request_body(content = RawSubmission, description = "The submission (JSON), or multipart with a `report` part and files"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body → the same 201 answer; same key, different body → 409")),
    responses(
        (status = 201, body = Receipt),
        (status = 409, description = "`idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; for files `attachment_unreadable`, `attachment_contains_executable`, `office_document_invalid`, `archive_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[post("/reports")]
pub async fn submit_report(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    let staff = if req.headers().contains_key(header::AUTHORIZATION) {
        let staff = Staff::from_request(&req, &mut Payload::None).await?;
        staff.require(Permission::TriageReports)?;
        Some(staff)
    } else {
        state.submit_limit.check(source(&req))?;
        None
    };
    let idempotency_key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if idempotency_key.as_ref().is_some_and(|k| k.len() > 200) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key is at most 200 characters.",
        ));
    }
    let content_type = req.content_type().to_string();
    let (body, files) = if content_type == "application/json" {
        let limit = state.json_body_limit;
        let body = payload
            .to_bytes_limited(limit)
            .await
            .map_err(|_| too_large(limit, "The body"))?
            .map_err(|e| ApiError::bad_request(ErrorCode::BadBody, e.to_string()))?;
        (body.to_vec(), StagedFiles::new(&state.store))
    } else if content_type == "multipart/form-data" {
        let multipart = Multipart::new(req.headers(), payload.into_inner());
        let (json, files) = read_multipart(&state, multipart, true).await?;
        match json {
            Some(json) => (json, files),
            None => {
                return Err(ApiError::validation(vec![FieldError::new(
                    "report",
                    ErrorCode::Required,
                    "send the submission as a form field named `report` (JSON)",
                )]));
            }
        }
    } else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send application/json, or multipart/form-data with a `report` field and files.",
        ));
    };
    let raw = parse_submission(&body)?;
    let idempotency = idempotency_key.map(|key| Idempotency {
        fingerprint: submit::request_fingerprint(&body, &files),
        key,
    });
    let receipt = submit::submit(
        &state,
        raw,
        files,
        idempotency,
        staff.map(|s| s.user_id().to_string()),
    )
    .await?;
    Ok(HttpResponse::Created().json(receipt))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionRequest {
    /// The 16-digit receipt code; spaces are ignored.
    pub receipt_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterSession {
    /// Send as `Authorization: Bearer …` to the `/reporter/*` endpoints.
    pub token: String,
    pub expires_in: u64,
}

/// Exchange a receipt code for a short-lived session scoped to that one report.
#[utoipa::path(
    tag = "reporter",
    request_body = SessionRequest,
    responses(
        (status = 200, body = ReporterSession),
        (status = 401, description = "`invalid_receipt_code` — the same answer whether or not any report matches", body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reporter/session")]
pub async fn open_session(
    req: HttpRequest,
    body: web::Json<SessionRequest>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    state.receipt_limit.check(source(&req))?;
    let report_id = follow_up::report_for_code(&state, &body.receipt_code).await?;
    Ok(HttpResponse::Ok().json(ReporterSession {
        token: state.sessions.issue(&report_id, state.clock.now()),
        expires_in: state.sessions.minutes * 60,
    }))
}

/// The reporter's view: status with its explanation, the next deadline, the thread and evidence.
#[utoipa::path(
    tag = "reporter",
    responses((status = 200, body = ReporterReportView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("reporter" = []))
)]
#[get("/reporter/report")]
pub async fn reporter_report(
    reporter: Reporter,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(follow_up::reporter_view(&state, &reporter.report_id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReporterMessage {
    /// 1–5,000 characters.
    pub body: String,
}

/// Reply in the thread. Staff are told by email that there is a reply, never what it says.
#[utoipa::path(
    tag = "reporter",
    request_body = ReporterMessage,
    responses((status = 201, body = ThreadMessage), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("reporter" = []))
)]
#[post("/reporter/messages")]
pub async fn reporter_message(
    reporter: Reporter,
    body: web::Json<ReporterMessage>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    let message = follow_up::add_message(&state, &reporter.report_id, &body.body).await?;
    Ok(HttpResponse::Created().json(message))
}

/// Add evidence: `multipart/form-data` with up to 10 files. Each is cleaned of identifying
/// metadata before it is stored (docs/security.md → "Evidence metadata").
#[utoipa::path(
    tag = "reporter",
    responses(
        (status = 201, body = Vec<EvidenceView>),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`attachment_unreadable`, `attachment_contains_executable`, `office_document_invalid`, `archive_too_large`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("reporter" = []))
)]
#[post("/reporter/attachments")]
pub async fn reporter_attachments(
    reporter: Reporter,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ApiError> {
    if req.content_type() != "multipart/form-data" {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the files as multipart/form-data.",
        ));
    }
    let multipart = Multipart::new(req.headers(), payload.into_inner());
    let (_, files) = read_multipart(&state, multipart, false).await?;
    if files.is_empty() {
        return Err(ApiError::validation(vec![report_rules::files_required()]));
    }
    let added = follow_up::add_evidence(&state, &reporter.report_id, files).await?;
    Ok(HttpResponse::Created().json(added))
}

/// Download an attachment, decrypted. Staff who triage, work or read cases.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/attachments/{id}")]
pub async fn download_attachment(
    staff: Staff,
    id: web::Path<String>,
    state: web::Data<ReportsState>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    if staff.require(Permission::TriageReports).is_err()
        && staff.require(Permission::ReadCases).is_err()
    {
        return Err(ApiError::forbidden(
            "Your roles do not allow reading evidence.",
        ));
    }
    download(&state, &pool, staff.actor(), id.into_inner()).await
}

/// Attachment `id`, decrypted, as a download (`Content-Disposition: attachment`), after
/// recording `attachment.downloaded` (on the report, naming the attachment) by `actor`: the one
/// audited path for evidence, used by `GET /api/v1/attachments/{id}` and the staff console's
/// downloads. The caller checks the permission first (`TriageReports` or `ReadCases`).
///
/// Errors: 404 `not_found` when no attachment has this id; 500 when the store cannot open it;
/// database errors.
pub async fn download(
    state: &ReportsState,
    pool: &DbPool,
    actor: crate::audit::Actor,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let lookup = id.clone();
    let attachment: AttachmentRow = db::run(pool, move |conn| {
        Ok(attachments::table
            .find(&lookup)
            .select(AttachmentRow::as_select())
            .first(conn)
            .optional()?)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("No attachment has this id."))?;
    let (storage_name, content_type, report_id) = (
        attachment.storage_name,
        attachment.content_type,
        attachment.report_id.into_string(),
    );
    let audit_id = id.clone();
    let now = state.clock.now_naive();
    db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            crate::audit::record(
                conn,
                now,
                &actor,
                "attachment.downloaded",
                "report",
                &report_id,
                serde_json::json!({"attachment": audit_id}),
            )
        })?;
        Ok(())
    })
    .await?;
    let stream = state
        .store
        .open(&storage_name, &id)
        .await
        .map_err(|e| ApiError::unexpected(e.into()))?;
    let extension = crate::evidence::extension(&content_type);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"evidence-{id}.{extension}\""),
        ))
        .streaming(stream))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// `received` for the intake queue; omit for all.
    pub status: Option<String>,
    /// A report number (`JB-2026-000001`; full-width characters and any dash are folded): the
    /// one report of that number, or none (SPEC.md: staff find a report by its number).
    pub number: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The intake queue: reports, oldest first, with their triage deadline. Never identities.
#[utoipa::path(
    tag = "reports",
    params(QueueQuery),
    responses(
        (status = 200, body = Page<ReportSummary>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/reports")]
pub async fn intake_queue(
    staff: Staff,
    query: web::Query<QueueQuery>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(&[Permission::TriageReports, Permission::ReadCases])?;
    let q = query.into_inner();
    let (limit, after) = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let today = deadlines::today_in_county(clock.now());
    let status = q.status;
    let number = q.number.as_deref().map(|n| {
        crate::domain::text::fold_code(n)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase()
    });
    let items = db::run(&pool, move |conn| {
        super::staff::queue(
            conn,
            status.as_deref(),
            number.as_deref(),
            after.as_deref(),
            limit,
            today,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |r| r.report_number.clone())))
}

/// One report as staff see it: what was reported, the thread and the evidence — not who
/// reported it.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = StaffReportView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/reports/{id}")]
pub async fn report_details(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(&[Permission::TriageReports, Permission::ReadCases])?;
    let id = id.into_inner();
    let today = deadlines::today_in_county(clock.now());
    let view = db::run(&pool, move |conn| super::staff::details(conn, &id, today)).await?;
    Ok(HttpResponse::Ok().json(view))
}
