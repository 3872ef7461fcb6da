//! HTTP endpoints for triage and cases: thin handlers over `triage`, `disposition` and `view`.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::closing::{self, CaseDecisionRequest, ClawbackStatement, ClawbackStatementRequest};
use super::disposition::{self, ChangeContext, DispositionRequest, FilingDecisionRequest};
use super::investigations::{
    self, ConcludeContext, ConcludeRequest, ConcludedInvestigation, InvestigationView,
};
use super::lifecycle::{AccountabilityOutcome, FilingContext};
use super::messages::{self, MessageRequest, MessagesSent};
use super::notes::{self, NoteRequest};
use super::triage::{self, AcceptedReport, TriageOutcome, TriageRequest, Triaged};
use super::view::CaseNote;
use super::view::{self, CasePage, CaseQuery, CaseView};
use super::{similar, CaseError, CasesState, Viewer};
use crate::auth::extract::Staff;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::deadlines;
use crate::domain::ids::TeamId;
use crate::domain::permissions::Permission;
use crate::domain::report::Programme;
use crate::domain::subject_level::SubjectLevel;
use crate::error::{ApiError, Problem};
use crate::http::pagination::Page;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(triage_report)
        .service(similar_cases)
        .service(list_cases)
        .service(get_case)
        .service(dispose_case)
        .service(decide_filing)
        .service(add_note)
        .service(list_investigations)
        .service(conclude_investigation)
        .service(clawback_statement)
        .service(close_case)
        .service(reopen_case)
        .service(send_message);
}

fn viewer(staff: &Staff) -> Viewer {
    Viewer {
        user_id: staff.user_id().to_string(),
        roles: staff.0.roles.clone(),
    }
}

/// The team of a new case, by the routing rules (the most specific rule wins).
fn route_new_case(
    conn: &mut DbConnection,
    programme: Programme,
    township_code: &str,
    subject_level: SubjectLevel,
) -> Result<TeamId, CaseError> {
    super::route_by_rules(conn, programme, township_code, subject_level)
}

/// Triage a received report (Art 14–16): `accept` opens a case routed to a team (201),
/// `transfer` and `escalate` pass it to another body, `merge` joins it to an open case (200).
/// Intake and supervisors. Every action is audited; the reporter's view shows the outcome.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The report's id")),
    request_body = TriageRequest,
    responses(
        (status = 201, description = "Accepted: the case it opened", body = AcceptedReport),
        (status = 200, description = "Transferred, escalated or merged", body = TriageOutcome),
        (status = 409, description = "`already_triaged`; `case_not_open` (merge); `version_conflict` (merge raced a change of the case)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`; `must_escalate` (Art 15); `no_default_rule`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/reports/{id}/triage")]
pub async fn triage_report(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<TriageRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::TriageReports)?;
    let (id, body, actor) = (id.into_inner(), body.into_inner(), staff.actor());
    let now = state.clock.now_naive();
    let done = db::run(&pool, move |conn| {
        Ok(triage::triage(
            conn,
            &id,
            &body,
            &actor,
            now,
            route_new_case,
        )?)
    })
    .await?;
    Ok(match done {
        Triaged::Accepted(a) => HttpResponse::Created().json(a),
        Triaged::Other(o) => HttpResponse::Ok().json(o),
    })
}

/// Open cases that may be the same matter as report `id`: same village and programme, opened
/// in the last 180 days, those naming an accused person the report names first.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The report's id")),
    responses((status = 200, body = Page<similar::SimilarCase>)),
    security(("bearer" = []))
)]
#[get("/reports/{id}/similar")]
pub async fn similar_cases(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(&[Permission::TriageReports, Permission::ReadCases])?;
    let viewer = viewer(&staff);
    let id = id.into_inner();
    let now = state.clock.now_naive();
    let items = db::run(&pool, move |conn| {
        Ok(similar::similar(conn, &viewer, &id, now)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// The investigator queue: cases by earliest running deadline (default), received or updated
/// time, filtered, with keyset pagination and counts per status. Investigators see their teams'
/// cases; supervisors and auditors all.
#[utoipa::path(
    tag = "cases",
    params(CaseQuery),
    responses((status = 200, body = CasePage)),
    security(("bearer" = []))
)]
#[get("/cases")]
pub async fn list_cases(
    staff: Staff,
    query: web::Query<CaseQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let viewer = viewer(&staff);
    let query = query.into_inner();
    let today = deadlines::today_in_county(state.clock.now());
    let calendar = state.calendar.current();
    let page = db::run(&pool, move |conn| {
        Ok(view::queue(conn, &viewer, &query, today, &calendar)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One case: its reports (never the reporter's identity), deadlines, the thread with the
/// reporters, notes and disclosures. Investigators of other teams get 403.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path)),
    responses((status = 200, body = CaseView)),
    security(("bearer" = []))
)]
#[get("/cases/{id}")]
pub async fn get_case(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let viewer = viewer(&staff);
    let id = id.into_inner();
    let today = deadlines::today_in_county(state.clock.now());
    let view = db::run(&pool, move |conn| {
        let row = super::visible_case(conn, &viewer, &id)?;
        let supervisor = investigations::reads_false_accusations(&viewer);
        Ok(view::case_view_for(conn, row, today, supervisor)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The days and limits of a change made now: today in the county, the time, and the configured
/// length of a preliminary verification (`deadlines.preliminary_verification_days`). Used by
/// the API's handlers and the console's.
pub fn context(state: &CasesState) -> ChangeContext {
    let now = state.clock.now();
    ChangeContext {
        today: deadlines::today_in_county(now),
        now: state.clock.now_naive(),
        preliminary_verification_days: state.deadlines.preliminary_verification_days,
    }
}

/// Give a case its disposition (Art 17): investigators of the case's team and supervisors.
/// `reason` is required for `close_without_action`, `review_on` for `on_hold`;
/// `preliminary_verification` starts its deadline; `file` asks a supervisor to file.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path)),
    request_body = DispositionRequest,
    responses(
        (status = 200, description = "The changed case", body = CaseView),
        (status = 409, description = "`invalid_transition` (with `status` and `allowed_actions`) or `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/disposition")]
pub async fn dispose_case(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<DispositionRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, ctx) = (id.into_inner(), body.into_inner(), context(&state));
    let view = db::run(&pool, move |conn| {
        let row = disposition::dispose(conn, &viewer, &actor, &id, &body, ctx)?;
        Ok(view::case_view(conn, row, ctx.today)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The answer of a filing decision: the case (now `filed`, with its investigations and
/// `suspension_id`, or back in `preliminary_verification`) and, when filed, whether an
/// accountability investigation was opened (一案双查).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FilingDecisionView {
    #[serde(flatten)]
    pub case: CaseView,
    /// Null when the filing was rejected.
    pub accountability: Option<AccountabilityOutcome>,
}

/// Decide a filing request (supervisor): reject → back to `preliminary_verification`; approve
/// → `filed`, and in the same transaction (一案双查, SPEC.md rule 2): the primary investigation,
/// the accountability investigation into the leadership one level up (escalation map), their
/// audit entries and assignee emails, and the village's suspension. A county-level subject gets
/// no accountability investigation, and `accountability` says why.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path)),
    request_body = FilingDecisionRequest,
    responses(
        (status = 200, description = "The changed case with `accountability`", body = FilingDecisionView),
        (status = 409, description = "`invalid_transition` (with `status` and `allowed_actions`) or `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/filing-decision")]
pub async fn decide_filing(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<FilingDecisionRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, ctx) = (id.into_inner(), body.into_inner(), context(&state));
    let filing = filing_context(&state, ctx);
    let view = db::run(&pool, move |conn| {
        let (row, effects) =
            disposition::decide_filing(conn, &viewer, &actor, &id, &body, ctx, &filing)?;
        Ok(FilingDecisionView {
            case: view::case_view_for(
                conn,
                row,
                ctx.today,
                investigations::reads_false_accusations(&viewer),
            )?,
            accountability: effects.map(|e| e.accountability),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// What a filing approved under `ctx` sets off needs (`lifecycle::FilingContext`): the
/// configured lengths of the two investigations and the escalation map. Used by the API's
/// handler and the console's.
pub fn filing_context(state: &CasesState, ctx: ChangeContext) -> FilingContext {
    FilingContext {
        today: ctx.today,
        now: ctx.now,
        investigation_days: state.deadlines.investigation_days,
        accountability_days: state.deadlines.accountability_days,
        escalation: state.escalation.clone(),
    }
}

/// What a reopen under `ctx` needs (`closing::ReopenContext`): the configured length of the
/// reopened primary investigation. Used by the API's handler and the console's.
pub fn reopen_context(state: &CasesState, ctx: ChangeContext) -> closing::ReopenContext {
    closing::ReopenContext {
        today: ctx.today,
        now: ctx.now,
        investigation_days: state.deadlines.investigation_days,
    }
}

/// Add an internal note: investigators of the case's team and supervisors. Never shown to a
/// reporter.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path)),
    request_body = NoteRequest,
    responses((status = 201, body = CaseNote)),
    security(("bearer" = []))
)]
#[post("/cases/{id}/notes")]
pub async fn add_note(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<NoteRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, now) = (id.into_inner(), body.into_inner(), state.clock.now_naive());
    let note = db::run(&pool, move |conn| {
        Ok(notes::add_note(conn, &viewer, &actor, &id, &body, now)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(note))
}

/// The investigations of a case (SPEC.md → "Investigations"): the primary first, then the
/// accountability investigation, each with its officials, assignee, due date, status, outcome,
/// findings, sanctions and earlier conclusions. False-accusation findings appear to supervisors
/// only. Investigators of other teams get 403.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The case's id")),
    responses((status = 200, body = Page<InvestigationView>)),
    security(("bearer" = []))
)]
#[get("/cases/{id}/investigations")]
pub async fn list_investigations(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let viewer = viewer(&staff);
    let id = id.into_inner();
    let items = db::run(&pool, move |conn| {
        let row = super::visible_case(conn, &viewer, &id)?;
        let supervisor = investigations::reads_false_accusations(&viewer);
        Ok(investigations::investigations_of(
            conn,
            supervisor,
            row.id.as_str(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Conclude an investigation (investigators of the case's team, supervisors): its outcome,
/// findings and sanctions (officials on record, each with its decision date and document
/// number; an accountability investigation's only against the leadership it looks into), and
/// for a primary investigation found `unsubstantiated`, a false-accusation finding (kept apart,
/// supervisors only, never naming the reporter). The primary's conclusion sets the feedback
/// deadline (15 working days, real-name reports); the last one concludes the case.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The investigation's id")),
    request_body = ConcludeRequest,
    responses(
        (status = 200, description = "The concluded investigation and the case's status", body = ConcludedInvestigation),
        (status = 409, description = "`investigation_concluded`, or `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, naming each field (`outcome`, `findings`, `sanctions[i].official_id` …)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/investigations/{id}/conclude")]
pub async fn conclude_investigation(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<ConcludeRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now();
    let ctx = ConcludeContext {
        today: deadlines::today_in_county(now),
        now: state.clock.now_naive(),
        calendar: state.calendar.current(),
    };
    let answer = db::run(&pool, move |conn| {
        let (investigation, case) =
            investigations::conclude(conn, &viewer, &actor, &id, &body, &ctx)?;
        Ok(ConcludedInvestigation {
            investigation,
            case_status: case.status.as_str().to_string(),
            case_version: case.version,
            feedback_due: case.feedback_due,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Answer the clawback question of a filed or concluded case when no clawback is recorded:
/// `{"no_improper_payment": true, "reason"}` (investigators of the case's team, supervisors).
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The case's id")),
    request_body = ClawbackStatementRequest,
    responses(
        (status = 201, description = "The statement recorded", body = ClawbackStatement),
        (status = 409, description = "`case_not_filed`: the case is not filed or concluded", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/clawback-statement")]
pub async fn clawback_statement(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<ClawbackStatementRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, now) = (id.into_inner(), body.into_inner(), state.clock.now_naive());
    let statement = db::run(&pool, move |conn| {
        Ok(closing::record_clawback_statement(
            conn, &viewer, &actor, &id, &body, now,
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(statement))
}

/// Close a case (supervisor). Refused with 409 `close_blocked` and every blocker at once
/// (`blockers`: `investigation_open` with `investigation_id`, `clawback_unanswered`,
/// `remediation_plan_missing`, `feedback_not_sent` with `report_ids`). No role overrides it.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The case's id")),
    request_body = CaseDecisionRequest,
    responses(
        (status = 200, description = "The closed case", body = CaseView),
        (status = 409, description = "`close_blocked` (with `blockers`), `invalid_transition` (with `status` and `allowed_actions`) or `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/close")]
pub async fn close_case(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<CaseDecisionRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, ctx) = (id.into_inner(), body.into_inner(), context(&state));
    let view = db::run(&pool, move |conn| {
        let row = closing::close(conn, &viewer, &actor, &id, &body, ctx.now)?;
        Ok(view::case_view_for(conn, row, ctx.today, true)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Reopen a case (supervisor, `reason` required), e.g. after an objection or new evidence: a
/// concluded or closed case returns to `filed` with its primary investigation open again (its
/// earlier conclusion stays readable in `earlier_conclusions`); a filed case whose primary is
/// concluded reopens the primary; a case closed without action returns to `registered`.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The case's id")),
    request_body = CaseDecisionRequest,
    responses(
        (status = 200, description = "The reopened case", body = CaseView),
        (status = 409, description = "`invalid_transition` (with `status` and `allowed_actions`) or `version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/reopen")]
pub async fn reopen_case(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<CaseDecisionRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, ctx) = (id.into_inner(), body.into_inner(), context(&state));
    let reopen = reopen_context(&state, ctx);
    let view = db::run(&pool, move |conn| {
        let row = closing::reopen(conn, &viewer, &actor, &id, &body, reopen)?;
        Ok(view::case_view_for(conn, row, ctx.today, true)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Send a message to the case's reporters (every report's, or the one `report_id` names):
/// investigators of the case's team and supervisors. `acknowledgement` stops the real-name
/// acknowledgement deadline of the reports it reaches; `feedback` ends the feedback deadline
/// once every real-name reporter has had one since the primary investigation concluded.
/// A reporter who gave an email is told, by an email with no content, that there is news.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path)),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Sent: one message per report reached", body = MessagesSent),
        (status = 409, description = "`version_conflict` (with `version`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`body`, `kind` or `report_id` (`report_not_in_case`) invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/messages")]
pub async fn send_message(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<MessageRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::WorkCases)?;
    let (viewer, actor) = (viewer(&staff), staff.actor());
    let (id, body, now) = (id.into_inner(), body.into_inner(), state.clock.now_naive());
    let sent = db::run(&pool, move |conn| {
        Ok(messages::send(conn, &viewer, &actor, &id, &body, now)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(sent))
}
