//! HTTP endpoints for clawbacks: thin handlers over `record`, `ledger`, `view` and `export`.
//! There is no route that changes or removes a clawback's signers or recoveries: PATCH, PUT
//! and DELETE on these paths are 405 (the known paths) or 404.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::ledger::{
    self, AmendmentRequest, Recorded, RecoveryAnswer, RecoveryRequest, WriteOffRequest,
};
use super::record::{self, ClawbackRequest};
use super::view::{
    self, ClawbackQuery, ClawbackSummary, ClawbackSummaryReport, ClawbackView, Responsibility,
};
use super::{export, ClawbacksState, Reader, When};
use crate::auth::extract::{Principal, Staff};
use crate::cases::Viewer;
use crate::db::{self, DbPool};
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::error::{ApiError, Problem};
use crate::http::csv;
use crate::http::pagination::Page;

/// Mounted under `/api/v1`. `/clawbacks/summary` comes before `/clawbacks/{id}`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_clawback)
        .service(list_clawbacks)
        .service(clawback_summary)
        .service(get_clawback)
        .service(amend_clawback)
        .service(record_recovery)
        .service(write_off)
        .service(official_responsibility);
}

fn when(state: &ClawbacksState) -> When {
    When {
        now: state.clock.now_naive(),
        today: deadlines::today_in_county(state.clock.now()),
    }
}

fn reader(staff: &Staff) -> Reader {
    Reader {
        user_id: Some(staff.user_id().to_string()),
        roles: staff.0.roles.clone(),
    }
}

/// Record a clawback on a filed case (SPEC.md → "Clawbacks"): the beneficiary (name and ID
/// number sealed at rest), programme, grant period, amount due in integer fen, deadline, and
/// the signers of the approval chain, each an official whose level is the stage's. Investigators
/// of the case's team and supervisors. Signers with an email address are told.
#[utoipa::path(
    tag = "clawbacks",
    params(("id" = String, Path, description = "The case's id")),
    request_body = ClawbackRequest,
    responses(
        (status = 201, description = "Recorded", body = ClawbackView),
        (status = 409, description = "`case_not_filed` (with `status`): clawbacks are recorded on filed, concluded or closed cases", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: every bad field, e.g. `amount_due_fen` not an integer of fen, an unknown official, `stage_level_mismatch`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/clawbacks")]
pub async fn record_clawback(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<ClawbackRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::RecordClawbacks)?;
    let viewer = Viewer {
        user_id: staff.user_id().to_string(),
        roles: staff.0.roles.clone(),
    };
    let (actor, id, body, when) = (
        staff.actor(),
        id.into_inner(),
        body.into_inner(),
        when(&state),
    );
    let key = state.data_key.clone();
    let view = db::run(&pool, move |conn| {
        Ok(record::record(
            conn, &key, &viewer, &actor, &id, &body, when,
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The clawbacks, oldest first, filtered; keyset pages. With `Accept: text/csv`, every match as
/// CSV (UTF-8 with a BOM; formula cells neutralised). Investigators see their teams' cases'
/// clawbacks; supervisors, benefits officers and auditors all.
#[utoipa::path(
    tag = "clawbacks",
    params(ClawbackQuery),
    responses(
        (status = 200, description = "A page of clawbacks, or every match as CSV", content(
            (Page<ClawbackSummary> = "application/json"),
            (String = "text/csv"),
        )),
    ),
    security(("bearer" = []))
)]
#[get("/clawbacks")]
pub async fn list_clawbacks(
    req: HttpRequest,
    staff: Staff,
    query: web::Query<ClawbackQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadClawbacks)?;
    let (reader, query, today) = (reader(&staff), query.into_inner(), when(&state).today);
    let key = state.data_key.clone();
    let as_csv = csv::wants_csv(&req);
    let answer = db::run(&pool, move |conn| {
        let page = view::list(conn, &key, &reader, &query, today, as_csv)?;
        Ok(if as_csv {
            Err(export::clawbacks_csv(conn, &page.items)?)
        } else {
            Ok(page)
        })
    })
    .await?;
    Ok(match answer {
        Ok(page) => HttpResponse::Ok().json(page),
        Err(bytes) => csv::response(&format!("clawbacks-{today}.csv"), bytes),
    })
}

/// The county summary: every clawback by the beneficiary's township and programme, with the
/// county total (amounts in fen; overdue counted on today's county date). With
/// `Accept: text/csv`, as CSV.
#[utoipa::path(
    tag = "clawbacks",
    responses(
        (status = 200, description = "The summary, as JSON or CSV", content(
            (ClawbackSummaryReport = "application/json"),
            (String = "text/csv"),
        )),
    ),
    security(("bearer" = []))
)]
#[get("/clawbacks/summary")]
pub async fn clawback_summary(
    req: HttpRequest,
    staff: Staff,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadClawbacks)?;
    let today = when(&state).today;
    let report = db::run(&pool, move |conn| Ok(view::summary(conn, today)?)).await?;
    Ok(if csv::wants_csv(&req) {
        csv::response(
            &format!("clawback-summary-{today}.csv"),
            export::summary_csv(&report),
        )
    } else {
        HttpResponse::Ok().json(report)
    })
}

/// One clawback: its figures (outstanding derived from the ledger), signers, recoveries and
/// corrections.
#[utoipa::path(
    tag = "clawbacks",
    params(("id" = String, Path)),
    responses((status = 200, body = ClawbackView)),
    security(("bearer" = []))
)]
#[get("/clawbacks/{id}")]
pub async fn get_clawback(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadClawbacks)?;
    let (reader, id, today) = (reader(&staff), id.into_inner(), when(&state).today);
    let key = state.data_key.clone();
    let view = db::run(&pool, move |conn| {
        let (row, case) = super::find_visible(conn, &reader, &id)?;
        Ok(view::clawback_view(conn, &key, row, case, today)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Correct a clawback: an added amendment with a reason, keeping each corrected field's value
/// before and after (the original stays visible). The amount due may be corrected, never below
/// what is recovered and written off. Investigators of the case's team and supervisors.
#[utoipa::path(
    tag = "clawbacks",
    params(("id" = String, Path)),
    request_body = AmendmentRequest,
    responses(
        (status = 201, description = "The correction was added: the clawback with every amendment", body = ClawbackView),
        (status = 409, description = "`version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no reason, no change (`no_change`), an amount below what is recovered and written off (`below_recovered`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/clawbacks/{id}/amendments")]
pub async fn amend_clawback(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<AmendmentRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::RecordClawbacks)?;
    let (reader, actor) = (reader(&staff), staff.actor());
    let (id, body, when) = (id.into_inner(), body.into_inner(), when(&state));
    let key = state.data_key.clone();
    let view = db::run(&pool, move |conn| {
        Ok(ledger::amend(
            conn, &key, &reader, &actor, &id, &body, when,
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Record a recovery payment: investigators (their teams' cases), supervisors, benefits
/// officers, or a service key with `recoveries:write`. 201 with the clawback's new figures.
/// The same `reference` again with the same amount is answered 200 with the recovery as first
/// recorded, and records nothing.
#[utoipa::path(
    tag = "clawbacks",
    params(("id" = String, Path)),
    request_body = RecoveryRequest,
    responses(
        (status = 201, description = "Recorded: the clawback's new figures and the recovery", body = RecoveryAnswer),
        (status = 200, description = "A replay (same reference and amount): nothing recorded; the recovery as first recorded", body = RecoveryAnswer),
        (status = 409, description = "`reference_reused` (with `amount_fen`, the amount first recorded under it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`over_recovery` (with `outstanding_fen`), or `validation_failed`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/clawbacks/{id}/recoveries")]
pub async fn record_recovery(
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<RecoveryRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::RecordRecoveries)?;
    let reader = match &principal {
        Principal::Staff(s) => Reader {
            user_id: Some(s.user_id.clone()),
            roles: s.roles.clone(),
        },
        Principal::Service(_) => Reader {
            user_id: None,
            roles: Vec::new(),
        },
    };
    let actor = principal.actor();
    let (id, body, when) = (id.into_inner(), body.into_inner(), when(&state));
    let key = state.data_key.clone();
    let done = db::run(&pool, move |conn| {
        Ok(ledger::record_recovery(
            conn, &key, &reader, &actor, &id, &body, when,
        )?)
    })
    .await?;
    Ok(match done {
        Recorded::New(answer) => HttpResponse::Created().json(answer),
        Recorded::Replay(answer) => HttpResponse::Ok().json(answer),
    })
}

/// Write off what is outstanding (supervisor, with a reason). The amount stays on each
/// signer's responsibility record as written off, not recovered.
#[utoipa::path(
    tag = "clawbacks",
    params(("id" = String, Path)),
    request_body = WriteOffRequest,
    responses(
        (status = 200, description = "Written off", body = ClawbackView),
        (status = 409, description = "`nothing_outstanding`, or `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/clawbacks/{id}/write-off")]
pub async fn write_off(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<WriteOffRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let (reader, actor) = (reader(&staff), staff.actor());
    let (id, body, when) = (id.into_inner(), body.into_inner(), when(&state));
    let key = state.data_key.clone();
    let view = db::run(&pool, move |conn| {
        Ok(ledger::write_off(
            conn, &key, &reader, &actor, &id, &body, when,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A signer's responsibility (谁签字谁负责): every clawback the official signed, each with its
/// whole figures (joint responsibility), and the totals: due, recovered, written off,
/// outstanding, overdue. With `Accept: text/csv`, one CSV row per clawback.
#[utoipa::path(
    tag = "clawbacks",
    params(("id" = String, Path, description = "The official's id")),
    responses(
        (status = 200, description = "The responsibility, as JSON or CSV", content(
            (Responsibility = "application/json"),
            (String = "text/csv"),
        )),
    ),
    security(("bearer" = []))
)]
#[get("/officials/{id}/responsibility")]
pub async fn official_responsibility(
    req: HttpRequest,
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadClawbacks)?;
    let (id, today) = (id.into_inner(), when(&state).today);
    let as_csv = csv::wants_csv(&req);
    let answer = db::run(&pool, move |conn| {
        let r = view::responsibility(conn, &id, today)?;
        Ok(if as_csv {
            Err((r.official_id.clone(), export::responsibility_csv(conn, &r)?))
        } else {
            Ok(r)
        })
    })
    .await?;
    Ok(match answer {
        Ok(r) => HttpResponse::Ok().json(r),
        Err((official, bytes)) => {
            csv::response(&format!("responsibility-{official}-{today}.csv"), bytes)
        }
    })
}
