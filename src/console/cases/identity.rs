//! The case page's `identity` section: access to a real-name reporter's identity through the
//! custodian workflow (SPEC.md → "Reporter identity (custodian)"; `custodian`). The console
//! never shows a reporter's identity in any other way.
//!
//! - Everyone who reads the case sees the audit notice, the requests made for this case (who
//!   asked, why, the decision) and the disclosures so far (to whom, when).
//! - Request (with a reason): anyone who reads the case (`ReadCases`), when the case has a
//!   real-name report and they have no request pending or approved and running.
//! - Decide (approve or deny, with an optional reason): supervisors (`Supervise`), on pending
//!   requests that are not their own (`domain::custody::may_decide`: 403 `own_request`).
//! - Read: the requester alone, within 24 hours of the approval (`domain::custody::grants`).
//!   The read is a POST (it is recorded: one disclosure per report and an audit entry) answered
//!   with a page of its own, never cached (`Cache-Control: no-store`).
//!
//! The POST handlers call `custodian::{request, decide, read_identity}`, the functions the
//! API's handlers call.

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use super::investigations::{data, refuse, render, short, staff_names};
use super::{CaseView, Failed, Section};
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Shell};
use crate::console::session::Desk;
use crate::custodian::{
    self as capability, DecisionBody, IdentityRequestView, ReporterIdentity, Staffer,
};
use crate::db::schema::reports;
use crate::db::{self, DbPool};
use crate::domain::custody::{self, RequestStatus};
use crate::domain::ids::UserId;
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::reports::ReportsState;
use crate::web::zh;

/// Notices after this section's actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[
    (
        "identity_requested",
        "查看申请已提交，等待另一位主管领导审批。",
    ),
    (
        "identity_approved",
        "已批准。申请人本人可在24小时内查看举报人身份，每次查看都会被记录。",
    ),
    ("identity_denied", "已驳回查看申请。"),
];

/// What every page of the section says about the reporter's identity.
pub const AUDIT_NOTICE: &str =
    "举报人身份依法严格保密。查看须经另一位主管领导批准，只有申请人本人可在批准后24小时内查看；\
     您的查看将被记录：每次查看都记入审计日志，举报人也会得知其身份已被办案人员查看。";

fn status_zh(status: &str) -> &'static str {
    match RequestStatus::parse(status) {
        Some(RequestStatus::Pending) => "待审批",
        Some(RequestStatus::Approved) => "已批准",
        Some(RequestStatus::Denied) => "已驳回",
        None => "",
    }
}

struct DecideForm {
    action: String,
    p: String,
    target: String,
    reason: String,
    refusal: Option<String>,
    err_reason: String,
}

struct RequestLine {
    requester: String,
    mine: bool,
    reason: String,
    status: &'static str,
    created: String,
    decision: String,
    decide: Option<DecideForm>,
}

struct RequestForm {
    action: String,
    reason: String,
    refusal: Option<String>,
    err_reason: String,
}

struct ReadForm {
    action: String,
    until: String,
    refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "console/sections/identity.html")]
struct SectionHtml {
    csrf: String,
    notice: &'static str,
    real_name: i64,
    requests: Vec<RequestLine>,
    disclosures: Vec<String>,
    request: Option<RequestForm>,
    read: Option<ReadForm>,
    /// The user has a request of their own pending.
    pending_mine: bool,
}

fn staffer(desk: &Desk) -> Staffer {
    Staffer {
        user_id: UserId::from(desk.user_id()),
        roles: desk.roles().to_vec(),
    }
}

/// This section of case `case`'s page, as HTML: the audit notice, the requests and disclosures,
/// and the forms the user's role and the requests' state allow (request, decide, read); `failed`
/// (a refused form of this section) fills that form in again with its message.
///
/// Errors: a database failure (500 page); 403/404 when the user may not see the case.
pub async fn section(
    req: &HttpRequest,
    desk: &Desk,
    case: &CaseView,
    failed: Option<&Failed>,
) -> Result<String, PageError> {
    let pool = data::<DbPool>(req)?;
    let now = data::<ReportsState>(req)?.clock.now_naive();
    let (who, case_id) = (staffer(desk), case.id.clone());
    let disclosed: Vec<String> = case
        .identity_disclosures
        .iter()
        .map(|d| d.to_user_id.clone())
        .collect();
    let (requests, real_name, names) = db::run(&pool, move |conn| {
        let requests = capability::requests_for_case(conn, &who, &case_id)?;
        let real_name: i64 = reports::table
            .filter(reports::case_id.eq(&case_id))
            .filter(reports::anonymous.eq(false))
            .count()
            .get_result(conn)?;
        let mut ids: Vec<&str> = disclosed.iter().map(String::as_str).collect();
        for r in &requests {
            ids.push(r.requester_id.as_str());
            ids.extend(r.decided_by.as_deref());
        }
        let names = staff_names(conn, &ids)?;
        Ok((requests, real_name, names))
    })
    .await?;
    let refused = failed.filter(|f| f.section == Section::Identity);
    let typed = |kind: &str, target: &str| {
        refused.filter(|f| {
            f.form.get("form").as_deref() == Some(kind)
                && f.form.get("target").unwrap_or_default() == target
        })
    };
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let me = desk.user_id();
    let granted = |r: &IdentityRequestView| {
        RequestStatus::parse(&r.status).is_some_and(|status| {
            custody::grants(
                &r.requester_id,
                status,
                r.expires_at.map(|t| t.naive_utc()),
                me,
                now,
            )
        })
    };
    let grant = requests
        .iter()
        .filter(|r| granted(r))
        .max_by_key(|r| r.expires_at);
    let pending_mine = requests
        .iter()
        .any(|r| r.requester_id == me && r.status == RequestStatus::Pending.as_str());
    let lines = requests
        .iter()
        .map(|r| {
            let pending = r.status == RequestStatus::Pending.as_str();
            let decide =
                (pending && r.requester_id != me && desk.can(Permission::Supervise)).then(|| {
                    let t = typed("decide", &r.id);
                    DecideForm {
                        action: format!("/staff/identity-requests/{}/decision", r.id),
                        p: format!("d{}", short(&r.id)),
                        target: r.id.clone(),
                        reason: t
                            .and_then(|f| f.form.raw("reason"))
                            .unwrap_or_default()
                            .to_string(),
                        refusal: t.map(|f| f.refusal.message.clone()),
                        err_reason: t
                            .and_then(|f| f.refusal.field("reason"))
                            .unwrap_or_default()
                            .to_string(),
                    }
                });
            RequestLine {
                requester: name(&r.requester_id),
                mine: r.requester_id == me,
                reason: r.reason.clone(),
                status: status_zh(&r.status),
                created: zh::time(r.created_at),
                decision: match (&r.decided_by, r.decided_at) {
                    (Some(by), Some(at)) => {
                        let mut text = format!("{}，{}", name(by), zh::time(at));
                        if let Some(reason) = r.decision_reason.as_deref() {
                            text.push_str("，理由：");
                            text.push_str(reason);
                        }
                        if let Some(until) = r.expires_at {
                            text.push_str(&format!("；查看期限至{}", zh::time(until)));
                        }
                        text
                    }
                    _ => String::new(),
                },
                decide,
            }
        })
        .collect();
    let request =
        (desk.can(Permission::ReadCases) && real_name > 0 && grant.is_none() && !pending_mine)
            .then(|| {
                let t = typed("request", "");
                RequestForm {
                    action: format!("/staff/cases/{}/identity-requests", case.id),
                    reason: t
                        .and_then(|f| f.form.raw("reason"))
                        .unwrap_or_default()
                        .to_string(),
                    refusal: t.map(|f| f.refusal.message.clone()),
                    err_reason: t
                        .and_then(|f| f.refusal.field("reason"))
                        .unwrap_or_default()
                        .to_string(),
                }
            });
    let read = grant.map(|g| ReadForm {
        action: format!("/staff/cases/{}/reporter-identity", case.id),
        until: g.expires_at.map(zh::time).unwrap_or_default(),
        refusal: typed("read", "").map(|f| f.refusal.message.clone()),
    });
    render(&SectionHtml {
        csrf: desk.csrf_token.clone(),
        notice: AUDIT_NOTICE,
        real_name,
        requests: lines,
        disclosures: case
            .identity_disclosures
            .iter()
            .map(|d| format!("{}，{}", zh::time(d.at), name(&d.to_user_id)))
            .collect(),
        request,
        read,
        pending_mine,
    })
}

/// `POST /staff/cases/{id}/identity-requests`: asks to read the identity of the case's
/// real-name reporters, with a reason, through `custodian::request` (`ReadCases`, as the API).
async fn request_identity(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::ReadCases)?;
    let case_id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let now = data::<ReportsState>(&req)?.clock.now_naive();
    let (who, actor, id, reason) = (
        staffer(&desk),
        desk.staff.actor(),
        case_id.clone(),
        form.get("reason"),
    );
    let done = db::run(&pool, move |conn| {
        Ok(capability::request(
            conn,
            now,
            &actor,
            &who,
            &id,
            reason.as_deref(),
        )?)
    })
    .await;
    match done {
        Ok(_) => Ok(page::see_other(&super::after(
            &case_id,
            "identity_requested",
            Section::Identity,
        ))),
        Err(e) => refuse(&req, &desk, &case_id, Section::Identity, e, form).await,
    }
}

/// `POST /staff/identity-requests/{id}/decision`: approves (`decision=approve`) or denies
/// (`decision=deny`) a request through `custodian::decide` (`Supervise`; not one's own request:
/// 403 `own_request`, shown on the case page).
async fn decide(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::Supervise)?;
    let id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let now = data::<ReportsState>(&req)?.clock.now_naive();
    let lookup = id.clone();
    let case_id = db::run(&pool, move |conn| {
        Ok(capability::case_of_request(conn, &lookup)?)
    })
    .await?
    .ok_or_else(PageError::not_found)?;
    let approve = match form.get("decision").as_deref() {
        Some("approve") => Some(true),
        Some("deny") => Some(false),
        _ => None,
    };
    let done = match approve {
        // The API's body requires `approve`; the form's buttons send it.
        None => Err(ApiError::validation(vec![FieldViolation::new(
            "approve",
            ErrorCode::Required,
            "choose to approve or to deny",
        )
        .zh("请选择批准或驳回。")])),
        Some(approve) => {
            let body = DecisionBody {
                approve,
                reason: form.get("reason"),
            };
            let (decider, actor) = (UserId::from(desk.user_id()), desk.staff.actor());
            db::run(&pool, move |conn| {
                Ok(capability::decide(conn, now, &actor, &decider, &id, &body)?)
            })
            .await
        }
    };
    match done {
        Ok(view) => Ok(page::see_other(&super::after(
            &case_id,
            if view.status == RequestStatus::Approved.as_str() {
                "identity_approved"
            } else {
                "identity_denied"
            },
            Section::Identity,
        ))),
        Err(e) => refuse(&req, &desk, &case_id, Section::Identity, e, form).await,
    }
}

#[derive(Template)]
#[template(path = "console/sections/identity_read.html")]
struct IdentityPage {
    shell: Shell,
    case_href: String,
    case_number: String,
    notice: &'static str,
    reports: Vec<ReporterIdentity>,
}

/// `POST /staff/cases/{id}/reporter-identity`: the identity of the case's real-name reporters
/// through `custodian::read_identity` (the requester of an approved request alone, within 24
/// hours; the read is recorded as a disclosure and audited), answered with its own page, not
/// cached. Anyone else: the case page with the refusal (403 `identity_access_required`).
async fn read_identity(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::ReadCases)?;
    let case_id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let state = data::<ReportsState>(&req)?;
    let (now, key) = (state.clock.now_naive(), state.data_key.clone());
    let (reader, actor, id) = (
        UserId::from(desk.user_id()),
        desk.staff.actor(),
        case_id.clone(),
    );
    let done = db::run(&pool, move |conn| {
        let identities = capability::read_identity(conn, &key, now, &actor, &reader, &id)?;
        let number: String = crate::db::schema::cases::table
            .find(&id)
            .select(crate::db::schema::cases::number)
            .first(conn)?;
        Ok((identities, number))
    })
    .await;
    let (identities, number) = match done {
        Ok(found) => found,
        Err(e) => return refuse(&req, &desk, &case_id, Section::Identity, e, form).await,
    };
    let shell = desk
        .shell("/staff/cases", format!("举报人身份（{number}）"))
        .with_notice(Some(format!(
            "本次查看已于{}记入审计日志。请勿复制、转发或向无关人员透露。",
            zh::time(now.and_utc())
        )));
    let html = render(&IdentityPage {
        shell,
        case_href: format!("/staff/cases/{case_id}#identity"),
        case_number: number,
        notice: AUDIT_NOTICE,
        reports: identities.reports,
    })?;
    Ok(HttpResponse::build(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}

/// Mounts the section's POST routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/cases/{id}/identity-requests")
            .route(web::post().to(request_identity)),
    )
    .service(web::resource("/staff/identity-requests/{id}/decision").route(web::post().to(decide)))
    .service(
        web::resource("/staff/cases/{id}/reporter-identity").route(web::post().to(read_identity)),
    );
}
