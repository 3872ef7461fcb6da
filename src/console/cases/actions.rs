//! The case page's own actions, each a POST of a form of the page calling the capability the
//! API's handler calls, with the same permission check first:
//!
//! | form | route | capability | permission |
//! |---|---|---|---|
//! | disposition (Art 17; `file` asks for filing) | `/staff/cases/{id}/disposition` | `cases::disposition::dispose` | `WorkCases` |
//! | filing decision (`decision=approve|reject`) | `/staff/cases/{id}/filing-decision` | `cases::disposition::decide_filing` | `Supervise` |
//! | assign | `/staff/cases/{id}/assign` | `cases::assign::assign` | `Supervise` |
//! | clawback statement | `/staff/cases/{id}/clawback-statement` | `cases::closing::record_clawback_statement` | `WorkCases` |
//! | close | `/staff/cases/{id}/close` | `cases::closing::close` | `Supervise` |
//! | reopen | `/staff/cases/{id}/reopen` | `cases::closing::reopen` | `Supervise` |
//! | message to the reporters | `/staff/cases/{id}/messages` | `cases::messages::send` | `WorkCases` |
//! | internal note | `/staff/cases/{id}/notes` | `cases::notes::add_note` | `WorkCases` |
//!
//! Every form carries the CSRF token (`Posted`). Done: 303 to the case page with `?done=<key>`
//! ([`DONE`]). Refused: a role without the permission, or an investigator of another team, gets
//! the Chinese 403 page (as the API's 403); anything else the capability refuses (422, 409 …)
//! shows the case page again with the refusal, the API's status, the field messages beside
//! their fields and the form filled in as typed. Which forms the page shows is
//! `page::allowed_actions`; a form posted anyway is refused here by the capability.

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};

use super::page::show_case;
use super::{after, Failed, Section};
use crate::cases::assign::AssignRequest;
use crate::cases::closing::{CaseDecisionRequest, ClawbackStatementRequest};
use crate::cases::disposition::{DispositionRequest, FilingDecisionRequest};
use crate::cases::messages::MessageRequest;
use crate::cases::notes::NoteRequest;
use crate::cases::routes::{context, filing_context, reopen_context};
use crate::cases::CasesState;
use crate::console::form::{FormData, Posted};
use crate::console::page::{self as console_page, PageError, Refusal};
use crate::console::session::Desk;
use crate::db::{self, DbPool};
use crate::domain::permissions::Permission;
use crate::error::ApiError;

/// Notices after these actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[
    ("case_assigned", "已分配承办人，承办人会收到邮件通知。"),
    ("disposition_inquiry", "已决定谈话函询。"),
    (
        "disposition_preliminary_verification",
        "已决定初步核实，核实期限从今天开始计算。",
    ),
    ("disposition_on_hold", "已暂存待查，到复查日期前请复查。"),
    (
        "disposition_close_without_action",
        "已予以了结。实名举报人会看到了结理由。",
    ),
    ("disposition_file", "已提请立案，等待主管领导审批。"),
    (
        "filing_approved",
        "已批准立案：调查已经开始，本案所在村已暂停发放。",
    ),
    ("filing_rejected", "已不予立案，案件退回初步核实。"),
    ("clawback_statement", "已说明没有违规发放的资金。"),
    ("case_closed", "已结案。"),
    ("case_reopened", "已重新办理，调查重新开始。"),
    ("message_sent", "消息已发送，举报人可以在查询页面看到。"),
    ("note_added", "备注已添加。"),
];

/// Mounts the actions' POST handlers.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/staff/cases/{id}/disposition").route(web::post().to(dispose)))
        .service(
            web::resource("/staff/cases/{id}/filing-decision").route(web::post().to(decide_filing)),
        )
        .service(web::resource("/staff/cases/{id}/assign").route(web::post().to(assign)))
        .service(
            web::resource("/staff/cases/{id}/clawback-statement")
                .route(web::post().to(clawback_statement)),
        )
        .service(web::resource("/staff/cases/{id}/close").route(web::post().to(close)))
        .service(web::resource("/staff/cases/{id}/reopen").route(web::post().to(reopen)))
        .service(web::resource("/staff/cases/{id}/messages").route(web::post().to(send_message)))
        .service(web::resource("/staff/cases/{id}/notes").route(web::post().to(add_note)));
}

/// The answer to an action on case `id` that the capability answered with `result`: 303 to the
/// case page with `done`; or the refusal (403 and 404 as whole pages, a server failure as the
/// 500 page, anything else on the case page in `section`, with the API's status).
async fn answer<T>(
    req: &HttpRequest,
    desk: &Desk,
    id: &str,
    result: Result<T, ApiError>,
    done: &str,
    section: Section,
    form: FormData,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(_) => Ok(console_page::see_other(&after(id, done, section))),
        Err(e)
            if e.status == StatusCode::FORBIDDEN
                || e.status == StatusCode::NOT_FOUND
                || e.status.is_server_error() =>
        {
            Err(PageError::from(e))
        }
        Err(e) => {
            show_case(
                req,
                desk,
                id,
                Some(Failed {
                    section,
                    refusal: Refusal::from_api(&e),
                    form,
                }),
            )
            .await
        }
    }
}

/// `POST /staff/cases/{id}/disposition`: `disposition`, `reason`, `review_on`, `version`.
pub async fn dispose(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::WorkCases)?;
    let id = id.into_inner();
    let body = DispositionRequest {
        disposition: form.text("disposition"),
        reason: form.get("reason"),
        review_on: form.get("review_on"),
        version: form.version(),
    };
    let done = match body.disposition.as_str() {
        "inquiry" => "disposition_inquiry",
        "preliminary_verification" => "disposition_preliminary_verification",
        "on_hold" => "disposition_on_hold",
        "close_without_action" => "disposition_close_without_action",
        _ => "disposition_file",
    };
    let (viewer, actor, ctx) = (desk.viewer(), desk.staff.actor(), context(&state));
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::disposition::dispose(
            conn, &viewer, &actor, &case, &body, ctx,
        )?)
    })
    .await;
    answer(&req, &desk, &id, result, done, Section::Actions, form).await
}

/// `POST /staff/cases/{id}/filing-decision`: `decision` (`approve` or `reject`), `reason`,
/// `version`.
pub async fn decide_filing(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::Supervise)?;
    let id = id.into_inner();
    let approve = match form.get("decision").as_deref() {
        Some("approve") => true,
        Some("reject") => false,
        // As the API's body without `approve`: nothing is decided.
        _ => {
            let e = ApiError::validation(vec![crate::error::FieldError::new(
                "decision",
                crate::error::ErrorCode::Required,
                "decision is approve or reject",
            )]);
            return answer::<()>(&req, &desk, &id, Err(e), "", Section::Actions, form).await;
        }
    };
    let body = FilingDecisionRequest {
        approve,
        reason: form.get("reason"),
        version: form.version(),
    };
    let (viewer, actor, ctx) = (desk.viewer(), desk.staff.actor(), context(&state));
    let filing = filing_context(&state, ctx);
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::disposition::decide_filing(
            conn, &viewer, &actor, &case, &body, ctx, &filing,
        )?)
    })
    .await;
    let done = if approve {
        "filing_approved"
    } else {
        "filing_rejected"
    };
    answer(&req, &desk, &id, result, done, Section::Actions, form).await
}

/// `POST /staff/cases/{id}/assign`: `assignee_id`, `version`.
pub async fn assign(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::Supervise)?;
    let id = id.into_inner();
    let body = AssignRequest {
        assignee_id: form.text("assignee_id"),
        version: form.version(),
    };
    let (viewer, actor, now) = (desk.viewer(), desk.staff.actor(), state.clock.now_naive());
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::assign::assign(
            conn, &viewer, &actor, &case, &body, now,
        )?)
    })
    .await;
    answer(
        &req,
        &desk,
        &id,
        result,
        "case_assigned",
        Section::Actions,
        form,
    )
    .await
}

/// `POST /staff/cases/{id}/clawback-statement`: `no_improper_payment` (a ticked box), `reason`.
pub async fn clawback_statement(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::WorkCases)?;
    let id = id.into_inner();
    let body = ClawbackStatementRequest {
        // An unticked box says nothing: the capability asks for it.
        no_improper_payment: form.checked("no_improper_payment").then_some(true),
        reason: form.get("reason"),
    };
    let (viewer, actor, now) = (desk.viewer(), desk.staff.actor(), state.clock.now_naive());
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::closing::record_clawback_statement(
            conn, &viewer, &actor, &case, &body, now,
        )?)
    })
    .await;
    answer(
        &req,
        &desk,
        &id,
        result,
        "clawback_statement",
        Section::Actions,
        form,
    )
    .await
}

/// `POST /staff/cases/{id}/close`: `reason`, `version`. Refused with every closing blocker
/// (409 `close_blocked`); the page lists them in words with where each is resolved.
pub async fn close(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::Supervise)?;
    let id = id.into_inner();
    let body = CaseDecisionRequest {
        reason: form.get("reason"),
        version: form.version(),
    };
    let (viewer, actor, ctx) = (desk.viewer(), desk.staff.actor(), context(&state));
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::closing::close(
            conn, &viewer, &actor, &case, &body, ctx.now,
        )?)
    })
    .await;
    answer(
        &req,
        &desk,
        &id,
        result,
        "case_closed",
        Section::Actions,
        form,
    )
    .await
}

/// `POST /staff/cases/{id}/reopen`: `reason`, `version`.
pub async fn reopen(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::Supervise)?;
    let id = id.into_inner();
    let body = CaseDecisionRequest {
        reason: form.get("reason"),
        version: form.version(),
    };
    let (viewer, actor, ctx) = (desk.viewer(), desk.staff.actor(), context(&state));
    let reopen = reopen_context(&state, ctx);
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::closing::reopen(
            conn, &viewer, &actor, &case, &body, reopen,
        )?)
    })
    .await;
    answer(
        &req,
        &desk,
        &id,
        result,
        "case_reopened",
        Section::Actions,
        form,
    )
    .await
}

/// `POST /staff/cases/{id}/messages`: `kind`, `body`, `report_id` (blank: every report's
/// reporter).
pub async fn send_message(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::WorkCases)?;
    let id = id.into_inner();
    let body = MessageRequest {
        body: form.raw("body").map(str::to_string),
        kind: form.get("kind"),
        report_id: form.get("report_id"),
        version: form.version(),
    };
    let (viewer, actor, now) = (desk.viewer(), desk.staff.actor(), state.clock.now_naive());
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::messages::send(
            conn, &viewer, &actor, &case, &body, now,
        )?)
    })
    .await;
    answer(
        &req,
        &desk,
        &id,
        result,
        "message_sent",
        Section::Messages,
        form,
    )
    .await
}

/// `POST /staff/cases/{id}/notes`: `body`.
pub async fn add_note(
    req: HttpRequest,
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::WorkCases)?;
    let id = id.into_inner();
    let body = NoteRequest {
        body: form.raw("body").map(str::to_string),
    };
    let (viewer, actor, now) = (desk.viewer(), desk.staff.actor(), state.clock.now_naive());
    let case = id.clone();
    let result = db::run(&pool, move |conn| {
        Ok(crate::cases::notes::add_note(
            conn, &viewer, &actor, &case, &body, now,
        )?)
    })
    .await;
    answer(&req, &desk, &id, result, "note_added", Section::Notes, form).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_done_key_has_its_notice_once() {
        let mut keys: Vec<&str> = DONE.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), DONE.len());
        for (key, _) in DONE {
            assert!(super::super::done_notice(Some(key)).is_some());
        }
    }
}
