//! The case page's `remediation` section (整改; SPEC.md rule 4, "Suspension", "Remediation"):
//! the case's remediation plan (its items, each with its state, evidence and history) and the
//! suspension status of the case's village (since when its agriculture-related preferential
//! policies are suspended, whether this case still keeps it suspended, when it was lifted).
//! Other cases that share the suspension are counted, never named: the case's own view and
//! timeline do not name them either (`cases::timeline`).
//!
//! Who sees which form (the API's permissions and `domain::remediation`'s state rules):
//! - add an item: `WorkCases` (investigators of the case's team, supervisors), on a case that
//!   was filed (`remediation::was_filed`) whose plan is not complete (`may_add_item`);
//! - submit evidence (text) on an `open` or `rejected` item: `WorkCases`;
//! - verify or reject (with a reason) a `submitted` item: `Supervise`. The verification that
//!   completes the last blocking plan of the village lifts its suspension in the same
//!   transaction (`suspensions::lifting`), and the notice says so.
//!
//! The POST handlers call `remediation::{add_item, submit, verify, reject}`, the functions the
//! API's handlers call. Evidence files are sent through the API's multipart submission; the
//! console's form sends the evidence text.

use std::collections::HashMap;

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use super::investigations::{data, division_names, refuse, render, short, staff_names};
use super::{CaseView, Failed, Section};
use crate::clock::Clock;
use crate::console::form::{FormData, Posted};
use crate::console::page::{self, PageError};
use crate::console::session::Desk;
use crate::db::schema::{remediation_items, suspension_periods, suspensions};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::benefit_status::POLICIES;
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::remediation::{ItemAction, ItemStatus};
use crate::error::ApiError;
use crate::remediation::{
    self as capability, Moment, NewItemRequest, RejectRequest, RemediationItemView,
    RemediationPlan, SubmitRequest, VerifyRequest,
};
use crate::reports::submit::StagedFile;
use crate::suspensions::models::{SuspensionPeriodRow, SuspensionRow};
use crate::suspensions::periods;
use crate::web::form::{FileProblem, PostedForm as UploadedFiles};
use crate::web::zh;

/// Notices after this section's actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[
    ("remediation_item_added", "整改事项已添加。"),
    (
        "remediation_submitted",
        "整改材料已提交，等待主管领导验收。",
    ),
    ("remediation_verified", "已验收通过。"),
    (
        "remediation_all_verified",
        "已验收通过，本案整改计划全部完成，本案不再影响所在村的暂停；同村还有其他案件尚未整改完毕，暂停继续。",
    ),
    (
        "remediation_plan_complete_no_suspension",
        "已验收通过，本案整改计划全部完成。",
    ),
    (
        "remediation_lifted",
        "已验收通过，本案整改计划全部完成。所在村的涉农优惠政策暂停已解除。",
    ),
    (
        "remediation_rejected",
        "已退回整改材料，责任单位可以重新提交。",
    ),
];

fn status_zh(status: &str) -> &'static str {
    match ItemStatus::parse(status) {
        Some(ItemStatus::Open) => "待整改",
        Some(ItemStatus::Submitted) => "已提交，待验收",
        Some(ItemStatus::Verified) => "验收通过",
        Some(ItemStatus::Rejected) => "已退回，待重新提交",
        None => "",
    }
}

fn event_zh(event: &str) -> &'static str {
    match event {
        "created" => "添加事项",
        "submitted" => "提交整改材料",
        "verified" => "验收通过",
        "rejected" => "退回",
        _ => "",
    }
}

struct HistoryLine {
    what: &'static str,
    by: String,
    at: String,
    text: String,
}

/// A text form of one item (submit, reject), or the verify button.
struct ItemForm {
    action: String,
    p: String,
    target: String,
    version: i32,
    text: String,
    refusal: Option<String>,
    err: String,
}

struct Item {
    anchor: String,
    description: String,
    unit: String,
    due_on: String,
    overdue: bool,
    status: &'static str,
    evidence: String,
    rejection: String,
    files: Vec<String>,
    history: Vec<HistoryLine>,
    submit: Option<ItemForm>,
    verify: Option<ItemForm>,
    reject: Option<ItemForm>,
}

struct AddForm {
    action: String,
    description: String,
    unit: String,
    due_on: String,
    refusal: Option<String>,
    err_description: String,
    err_unit: String,
    err_due_on: String,
}

/// The suspension of the case's village, as this case's page may show it.
struct SuspensionView {
    village: String,
    policies: &'static str,
    since: String,
    lifted: Option<String>,
    /// Whether this case's plan was verified complete (it no longer keeps the village
    /// suspended), and when.
    cleared: Option<String>,
    /// Other cases behind the suspension, and how many of them still keep it.
    others: usize,
    others_blocking: usize,
}

#[derive(Template)]
#[template(path = "console/sections/remediation.html")]
struct SectionHtml {
    csrf: String,
    filed: bool,
    complete: bool,
    items: Vec<Item>,
    add: Option<AddForm>,
    suspension: Option<SuspensionView>,
}

struct Loaded {
    plan: RemediationPlan,
    staff: HashMap<String, String>,
    period: Option<(SuspensionPeriodRow, SuspensionRow, String)>,
}

fn load(
    conn: &mut DbConnection,
    who: &crate::cases::Viewer,
    case: &CaseView,
    today: chrono::NaiveDate,
) -> Result<Loaded, ApiError> {
    let plan = capability::plan_of(conn, who, &case.id, today)?;
    let period = match &case.suspension_id {
        None => None,
        Some(id) => {
            let period: Option<SuspensionPeriodRow> = suspension_periods::table
                .find(id)
                .select(SuspensionPeriodRow::as_select())
                .first(conn)
                .optional()?;
            let suspension: Option<SuspensionRow> = suspensions::table
                .find(id)
                .select(SuspensionRow::as_select())
                .first(conn)
                .optional()?;
            match (period, suspension) {
                (Some(period), Some(suspension)) => {
                    let name = division_names(conn, &[period.village_code.as_str()])?
                        .remove(&period.village_code)
                        .unwrap_or_else(|| period.village_code.clone());
                    Some((period, suspension, name))
                }
                _ => None,
            }
        }
    };
    let mut ids: Vec<String> = Vec::new();
    for item in &plan.items {
        ids.extend(item.submitted_by.clone());
        ids.extend(item.decided_by.clone());
        ids.extend(item.history.iter().map(|h| h.by.clone()));
    }
    if let Some((_, s, _)) = &period {
        ids.extend(s.lifted_by.as_ref().map(|u| u.to_string()));
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let staff = staff_names(conn, &refs)?;
    Ok(Loaded {
        plan,
        staff,
        period,
    })
}

/// What a refused form of this section typed, when it is form `kind` about `target`.
fn typed<'a>(refused: Option<&'a Failed>, kind: &str, target: &str) -> Option<&'a Failed> {
    refused.filter(|f| {
        f.form.get("form").as_deref() == Some(kind)
            && f.form.get("target").unwrap_or_default() == target
    })
}

fn item_form(
    item: &RemediationItemView,
    kind: &str,
    field: &str,
    refused: Option<&Failed>,
) -> ItemForm {
    let t = typed(refused, kind, &item.id);
    ItemForm {
        action: format!("/staff/remediation-items/{}/{kind}", item.id),
        p: format!("{}{}", &kind[..1], short(&item.id)),
        target: item.id.clone(),
        version: item.version,
        text: t
            .and_then(|f| f.form.raw(field))
            .unwrap_or_default()
            .to_string(),
        refusal: t.map(|f| f.refusal.message.clone()),
        err: t
            .and_then(|f| f.refusal.field(field).or_else(|| f.refusal.field("files")))
            .unwrap_or_default()
            .to_string(),
    }
}

fn item(
    v: &RemediationItemView,
    staff: &HashMap<String, String>,
    desk: &Desk,
    refused: Option<&Failed>,
) -> Item {
    let name = |id: &str| staff.get(id).cloned().unwrap_or_else(|| id.to_string());
    let allows = |a: ItemAction| v.allowed_actions.iter().any(|x| x == a.as_str());
    let works = desk.can(Permission::WorkCases);
    let supervises = desk.can(Permission::Supervise);
    Item {
        anchor: format!("remediation-item-{}", short(&v.id)),
        description: v.description.clone(),
        unit: v.responsible_unit.clone(),
        due_on: zh::date(v.due_on),
        overdue: v.overdue,
        status: status_zh(&v.status),
        evidence: v.evidence.clone().unwrap_or_default(),
        rejection: v.rejection_reason.clone().unwrap_or_default(),
        files: v
            .files
            .iter()
            .map(|f| {
                format!(
                    "{}，{}，{}上传",
                    zh::evidence_kind(&f.content_type),
                    zh::size(f.size_bytes),
                    zh::time(f.created_at)
                )
            })
            .collect(),
        history: v
            .history
            .iter()
            .map(|h| HistoryLine {
                what: event_zh(&h.event),
                by: name(&h.by),
                at: zh::time(h.at),
                text: h
                    .evidence
                    .clone()
                    .or_else(|| h.reason.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        submit: (works && allows(ItemAction::Submit))
            .then(|| item_form(v, "submit", "evidence", refused)),
        verify: (supervises && allows(ItemAction::Verify))
            .then(|| item_form(v, "verify", "version", refused)),
        reject: (supervises && allows(ItemAction::Reject))
            .then(|| item_form(v, "reject", "reason", refused)),
    }
}

fn suspension_view(
    case: &CaseView,
    period: &SuspensionPeriodRow,
    suspension: &SuspensionRow,
    village: String,
    staff: &HashMap<String, String>,
) -> SuspensionView {
    let p = periods::to_period(period);
    let mine = p.cases.iter().find(|c| c.case_id == case.id);
    let others: Vec<_> = p.cases.iter().filter(|c| c.case_id != case.id).collect();
    SuspensionView {
        village,
        policies: POLICIES,
        since: zh::time(p.started_at.and_utc()),
        lifted: p.lifted_at.map(|at| {
            let by = suspension
                .lifted_by
                .as_ref()
                .map(|u| {
                    staff
                        .get(u.as_str())
                        .cloned()
                        .unwrap_or_else(|| u.to_string())
                })
                .unwrap_or_default();
            format!("{}（{}验收后解除）", zh::time(at.and_utc()), by)
        }),
        cleared: mine
            .and_then(|c| c.cleared_at)
            .map(|at| zh::time(at.and_utc())),
        others: others.len(),
        others_blocking: others.iter().filter(|c| c.cleared_at.is_none()).count(),
    }
}

/// This section of case `case`'s page, as HTML: the remediation plan with the forms the user's
/// permissions and each item's state allow, and the village's suspension status; `failed` (a
/// refused form of this section) fills that form in again with the field messages.
///
/// Errors: a database failure (500 page).
pub async fn section(
    req: &HttpRequest,
    desk: &Desk,
    case: &CaseView,
    failed: Option<&Failed>,
) -> Result<String, PageError> {
    let pool = data::<DbPool>(req)?;
    let today = deadlines::today_in_county(data::<Clock>(req)?.now());
    let who = desk.viewer();
    let owned = case.clone();
    let loaded = db::run(&pool, move |conn| load(conn, &who, &owned, today)).await?;
    let refused = failed.filter(|f| f.section == Section::Remediation);
    let filed = CaseStatus::parse(&case.status).is_some_and(capability::was_filed);
    let statuses: Vec<ItemStatus> = loaded
        .plan
        .items
        .iter()
        .filter_map(|i| ItemStatus::parse(&i.status))
        .collect();
    let may_add = desk.can(Permission::WorkCases)
        && filed
        && crate::domain::remediation::may_add_item(&statuses);
    let add = may_add.then(|| {
        let t = typed(refused, "add", "");
        let value = |f: &str| {
            t.and_then(|x| x.form.raw(f))
                .unwrap_or_default()
                .to_string()
        };
        let err = |f: &str| {
            t.and_then(|x| x.refusal.field(f))
                .unwrap_or_default()
                .to_string()
        };
        AddForm {
            action: format!("/staff/cases/{}/remediation-items", case.id),
            description: value("description"),
            unit: value("responsible_unit"),
            due_on: value("due_on"),
            refusal: t.map(|x| x.refusal.message.clone()),
            err_description: err("description"),
            err_unit: err("responsible_unit"),
            err_due_on: err("due_on"),
        }
    });
    let items = loaded
        .plan
        .items
        .iter()
        .map(|i| item(i, &loaded.staff, desk, refused))
        .collect();
    let suspension = loaded
        .period
        .map(|(p, s, name)| suspension_view(case, &p, &s, name, &loaded.staff));
    render(&SectionHtml {
        csrf: desk.csrf_token.clone(),
        filed,
        complete: loaded.plan.complete,
        items,
        add,
        suspension,
    })
}

fn moment(clock: &Clock) -> Moment {
    Moment {
        today: deadlines::today_in_county(clock.now()),
        now: clock.now_naive(),
    }
}

/// `POST /staff/cases/{id}/remediation-items`: adds an item to the case's plan through
/// `remediation::add_item` (`WorkCases`). 409 `case_not_filed`, `remediation_plan_complete`
/// and 422 come back on the case page.
async fn add_item(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::WorkCases)?;
    let case_id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let at = moment(data::<Clock>(&req)?.get_ref());
    let body = NewItemRequest {
        description: form.get("description"),
        responsible_unit: form.get("responsible_unit"),
        due_on: form.get("due_on"),
    };
    let (who, actor, id) = (desk.viewer(), desk.staff.actor(), case_id.clone());
    let done = db::run(&pool, move |conn| {
        Ok(capability::add_item(conn, &who, &actor, &id, &body, at)?)
    })
    .await;
    match done {
        Ok(_) => Ok(page::see_other(&super::after(
            &case_id,
            "remediation_item_added",
            Section::Remediation,
        ))),
        Err(e) => refuse(&req, &desk, &case_id, Section::Remediation, e, form).await,
    }
}

/// The change an item form asks for.
enum Change {
    Submit,
    Verify,
    Reject,
}

/// `POST /staff/remediation-items/{id}/{submit|verify|reject}`: one change of an item through
/// `remediation::{submit, verify, reject}` (submit: `WorkCases`; verify and reject:
/// `Supervise`). 409 `invalid_transition`/`version_conflict` and 422 come back on the case
/// page.
async fn change_item(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
    change: Change,
    upload: Option<UploadedFiles>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(match change {
        Change::Submit => Permission::WorkCases,
        Change::Verify | Change::Reject => Permission::Supervise,
    })?;
    let id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let at = moment(data::<Clock>(&req)?.get_ref());
    let lookup = id.clone();
    let case_id: String = db::run(&pool, move |conn| {
        Ok(remediation_items::table
            .find(&lookup)
            .select(remediation_items::case_id)
            .first::<String>(conn)
            .optional()?)
    })
    .await?
    .ok_or_else(PageError::not_found)?;
    if let Some(problem) = upload.as_ref().and_then(|u| u.file_problem.as_ref()) {
        let e = file_refusal(problem);
        return refuse(&req, &desk, &case_id, Section::Remediation, e, form).await;
    }
    let files = upload.map(|u| u.files);
    let (who, actor, sent) = (desk.viewer(), desk.staff.actor(), form.clone());
    let done = db::run(&pool, move |conn| {
        Ok(match change {
            Change::Submit => {
                let body = SubmitRequest {
                    evidence: sent.get("evidence"),
                    version: sent.version(),
                };
                let staged: &[StagedFile] = files.as_deref().unwrap_or(&[]);
                let done = capability::submit(conn, &who, &actor, &id, &body, staged, at)
                    .map(|_| "remediation_submitted");
                if done.is_ok() {
                    // Committed: the files belong to the submission now.
                    if let Some(files) = files {
                        files.commit();
                    }
                }
                done
            }
            Change::Verify => {
                let body = VerifyRequest {
                    version: sent.version(),
                };
                capability::verify(conn, &who, &actor, &id, &body, at).map(|v| {
                    match (v.plan_complete, v.suspension) {
                        (true, Some(s)) if s.lifted => "remediation_lifted",
                        (true, Some(s)) if s.suspension_id.is_some() => "remediation_all_verified",
                        (true, _) => "remediation_plan_complete_no_suspension",
                        (false, _) => "remediation_verified",
                    }
                })
            }
            Change::Reject => {
                let body = RejectRequest {
                    reason: sent.get("reason"),
                    version: sent.version(),
                };
                capability::reject(conn, &who, &actor, &id, &body, at)
                    .map(|_| "remediation_rejected")
            }
        })
    })
    .await
    .and_then(|outcome| outcome.map_err(ApiError::from));
    match done {
        Ok(key) => Ok(page::see_other(&super::after(
            &case_id,
            key,
            Section::Remediation,
        ))),
        Err(e) => refuse(&req, &desk, &case_id, Section::Remediation, e, form).await,
    }
}

/// `POST /staff/remediation-items/{id}/submit`: the evidence text and, when the form is sent as
/// `multipart/form-data`, evidence files (as `POST /api/v1/remediation-items/{id}/submit` takes
/// them: cleaned of metadata and encrypted by the same store, staged until the submission
/// commits). The CSRF token is checked before the first file is stored.
///
/// Errors: 403 "page expired" without the sign-in's token; 400 for an unreadable body; a refused
/// file (too large 413, wrong type 415, unreadable or holding programs 422) or any refusal of the
/// capability comes back on the case page.
async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    use actix_web::FromRequest;
    let mut payload = payload.into_inner();
    if !req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"))
    {
        let posted = Posted::from_request(&req, &mut payload).await?;
        return change_item(req, path, posted, Change::Submit, None).await;
    }
    let desk = Desk::from_request(&req, &mut actix_web::dev::Payload::None).await?;
    crate::web::csrf::check_request(&req).map_err(|_| PageError::csrf())?;
    let console = data::<crate::console::ConsoleState>(&req)?;
    let reports = data::<crate::reports::ReportsState>(&req)?;
    let (key, session) = (*console.csrf_key(), desk.session_id.clone());
    let multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let read = crate::web::form::read_checked(&reports, multipart, &|token| {
        if crate::console::form::csrf_matches(&key, &session, token) {
            Ok(())
        } else {
            Err(crate::web::csrf::CsrfError::BadToken)
        }
    })
    .await;
    let upload = match read {
        Ok(upload) => upload,
        Err(crate::web::form::ReadError::Csrf(_)) => return Err(PageError::csrf()),
        Err(_) => return Err(PageError::bad_form()),
    };
    let form = FormData::from_pairs(upload.fields().to_vec());
    change_item(
        req,
        path,
        Posted { desk, form },
        Change::Submit,
        Some(upload),
    )
    .await
}

/// A refused evidence file as the API refuses it: the file's status, and the Chinese reason
/// beside the file input (`files`).
fn file_refusal(problem: &FileProblem) -> ApiError {
    use crate::error::ErrorCode;
    let code = match problem {
        FileProblem::TooLarge { .. } => ErrorCode::AttachmentTooLarge,
        FileProblem::Unsupported => ErrorCode::UnsupportedAttachmentType,
        FileProblem::Empty => ErrorCode::Empty,
        FileProblem::TooMany { .. } => ErrorCode::TooMany,
        FileProblem::Interrupted => ErrorCode::UploadFailed,
        FileProblem::Refused(_) => ErrorCode::AttachmentUnreadable,
    };
    let mut violation = crate::error::FieldViolation::new("files", code, "the file was refused");
    violation.message_zh = problem.message_zh();
    let mut e = ApiError::validation(vec![violation]);
    e.status = problem.status();
    e.code = code;
    e
}

async fn verify(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    change_item(req, path, posted, Change::Verify, None).await
}

async fn reject(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    change_item(req, path, posted, Change::Reject, None).await
}

/// Mounts the section's POST routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/cases/{id}/remediation-items").route(web::post().to(add_item)),
    )
    .service(web::resource("/staff/remediation-items/{id}/submit").route(web::post().to(submit)))
    .service(web::resource("/staff/remediation-items/{id}/verify").route(web::post().to(verify)))
    .service(web::resource("/staff/remediation-items/{id}/reject").route(web::post().to(reject)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_status_reads_in_chinese() {
        for s in ItemStatus::ALL {
            assert!(!status_zh(s.as_str()).is_empty(), "{s:?}");
        }
        for e in ["created", "submitted", "verified", "rejected"] {
            assert!(!event_zh(e).is_empty(), "{e}");
        }
    }

    #[test]
    fn done_keys_are_unique_across_the_sections() {
        let mut keys: Vec<&str> = [
            DONE,
            super::super::actions::DONE,
            super::super::investigations::DONE,
            super::super::clawbacks::DONE,
            super::super::identity::DONE,
        ]
        .iter()
        .flat_map(|l| l.iter().map(|(k, _)| *k))
        .collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }
}
