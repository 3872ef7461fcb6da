//! 待受理 (intake): the reports waiting for triage, one report's page with its triage form,
//! and the supervisors' lists of decisions waiting for them ([`decisions`]).
//!
//! - `GET /staff/intake`: received reports not yet triaged, oldest first (the order of the
//!   API's intake queue, `reports::staff::queue`: by report number, which is the order of
//!   arrival, so the earliest triage deadline first), 50 a page.
//! - `GET /staff/reports/{id}`: what was reported (`reports::staff::details`, as
//!   `GET /api/v1/reports/{id}`): the text, programme, place, channel, the thread and the
//!   evidence, never the reporter's identity; and while the report is `received`, the four
//!   triage forms: accept (with the team each subject level routes to, read from the routing
//!   rules without writing anything), transfer, merge (choosing among the similar open cases,
//!   `cases::similar::similar`, as `GET /api/v1/reports/{id}/similar`), escalate.
//! - `POST /staff/reports/{id}/triage`: `cases::triage::triage`, exactly as the API's
//!   `POST /api/v1/reports/{id}/triage`. Accepted: 303 to the new case's page. Transferred,
//!   escalated, merged: 303 to `/staff/intake?done=…`. Refused: the report page again with the
//!   refusal in Chinese, the API's status and what was typed.
//! - `GET /staff/reports/{id}/evidence/{attachment}`: the evidence file, through the API's own
//!   audited path (`reports::routes::download`, after the same permission check: the same
//!   `attachment.downloaded` audit entry).
//!
//! Pages and triage need `TriageReports` (intake officers and supervisors).

pub mod decisions;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::form::Posted;
use super::page::{self, PageError, Refusal, Shell};
use super::session::Desk;
use crate::cases::similar::{self, SimilarCase};
use crate::cases::triage::{self, TriageRequest, Triaged};
use crate::cases::{CaseError, CasesState};
use crate::db::{self, DbConnection, DbPool};
use crate::divisions::officials::{self, Official};
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::report::{Channel, Misconduct, Programme, ReportStatus};
use crate::domain::subject_level::SubjectLevel;
use crate::error::{ApiError, ErrorCode};
use crate::http::pagination::{self, PageQuery};
use crate::reports::staff::{self as report_staff, ReportSummary, StaffReportView};
use crate::reports::ReportsState;
use crate::web::zh;

/// Mounts the intake pages and the supervisors' decision lists.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/staff/intake").route(web::get().to(queue_page)))
        .service(web::resource("/staff/reports/{id}").route(web::get().to(report_page)))
        .service(web::resource("/staff/reports/{id}/triage").route(web::post().to(triage_report)))
        .service(
            web::resource("/staff/reports/{id}/evidence/{attachment}")
                .route(web::get().to(evidence)),
        )
        .service(
            web::resource("/staff/identity-requests")
                .route(web::get().to(decisions::identity_requests)),
        )
        .service(web::resource("/staff/objections").route(web::get().to(decisions::objections)));
}

/// The subject levels intake may accept a report at (`SubjectLevel::must_escalate` is false);
/// the others are escalated (Art 15).
const ACCEPTABLE_LEVELS: [SubjectLevel; 3] = [
    SubjectLevel::Village,
    SubjectLevel::Township,
    SubjectLevel::County,
];

/// How a subject level is said on the triage form.
pub fn level_zh(level: SubjectLevel) -> &'static str {
    match level {
        SubjectLevel::Village => "村干部",
        SubjectLevel::Township => "乡镇干部",
        SubjectLevel::County => "县管干部",
        SubjectLevel::AboveCounty => "市管及以上干部",
        SubjectLevel::CommissionHead => "本级纪委主要负责人",
    }
}

/// A case status in Chinese, for the list of similar cases.
pub fn case_status_zh(status: &str) -> &'static str {
    match CaseStatus::parse(status) {
        Some(CaseStatus::Registered) => "已登记",
        Some(CaseStatus::Inquiry) => "谈话函询",
        Some(CaseStatus::PreliminaryVerification) => "初步核实",
        Some(CaseStatus::OnHold) => "暂存待查",
        Some(CaseStatus::FilingRequested) => "待审批立案",
        Some(CaseStatus::Filed) => "已立案",
        Some(CaseStatus::Concluded) => "调查已结束",
        Some(CaseStatus::Closed) => "已结案",
        Some(CaseStatus::ClosedWithoutAction) => "予以了结",
        None => "未知",
    }
}

fn programme_zh(programme: &str) -> &'static str {
    Programme::parse(programme).map_or("未知", Programme::label_zh)
}

fn channel_zh(channel: &str) -> &'static str {
    Channel::parse(channel).map_or("未知", Channel::label_zh)
}

/// The names of the divisions `codes` (code → name); unknown codes are left out.
fn division_names(
    conn: &mut DbConnection,
    codes: &[&str],
) -> Result<HashMap<String, String>, ApiError> {
    Ok(crate::divisions::find_many(conn, codes)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect())
}

fn place(names: &HashMap<String, String>, code: &str) -> String {
    match names.get(code) {
        Some(name) => format!("{name}（{code}）"),
        None => code.to_string(),
    }
}

// ---- the queue --------------------------------------------------------------------------------

/// One report of the queue, as the page shows it.
struct QueueLine {
    id: String,
    number: String,
    channel: &'static str,
    programme: &'static str,
    township: String,
    village: String,
    submitted_at: String,
    triage_due: String,
    overdue: bool,
    /// Due today or tomorrow, not overdue.
    due_soon: bool,
    anonymous: bool,
    attachments: i64,
}

#[derive(Template)]
#[template(path = "console/intake/queue.html")]
struct QueuePage {
    shell: Shell,
    reports: Vec<QueueLine>,
    /// The link to the next page, when there is one.
    next: Option<String>,
    /// Whether this is a later page (a link back to the first).
    later_page: bool,
}

/// The query of `GET /staff/intake`.
#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    cursor: Option<String>,
    done: Option<String>,
}

/// What `?done=` says after a triage that stays on the queue.
const DONE: [(&str, &str); 4] = [
    (
        "accepted",
        "举报已受理，已按分办规则建立案件并分到承办的纪检监察室。",
    ),
    (
        "transferred",
        "举报已转交有关部门办理，举报人查询时可以看到转交的单位。",
    ),
    ("escalated", "举报已上报上级纪检监察机关办理。"),
    ("merged", "举报已并入所选的案件一并办理。"),
];

fn queue_line(r: ReportSummary, names: &HashMap<String, String>, today: NaiveDate) -> QueueLine {
    QueueLine {
        due_soon: !r.overdue && r.triage_due <= today.succ_opt().unwrap_or(today),
        township: place(names, &r.township_code),
        village: place(names, &r.village_code),
        channel: channel_zh(&r.channel),
        programme: programme_zh(&r.programme),
        submitted_at: zh::time(r.submitted_at),
        triage_due: zh::date(r.triage_due),
        overdue: r.overdue,
        anonymous: r.anonymous,
        attachments: r.attachments,
        id: r.id,
        number: r.report_number,
    }
}

/// `GET /staff/intake`: the received reports, oldest first (so the earliest triage deadline
/// first), 50 a page, each linking to its report page.
///
/// Errors: 403 without `TriageReports`; a bad `cursor` as the Chinese 422 page.
pub async fn queue_page(
    desk: Desk,
    query: web::Query<QueueQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::TriageReports)?;
    let query = query.into_inner();
    let later_page = query.cursor.is_some();
    let (limit, after) = PageQuery {
        limit: None,
        cursor: query.cursor,
    }
    .parse()?;
    let today = deadlines::today_in_county(state.clock.now());
    let (items, names) = db::run(&pool, move |conn| {
        let items = report_staff::queue(
            conn,
            Some(ReportStatus::Received.as_str()),
            None,
            after.as_deref(),
            limit,
            today,
        )?;
        let codes: Vec<&str> = items
            .iter()
            .flat_map(|r| [r.township_code.as_str(), r.village_code.as_str()])
            .collect();
        let names = division_names(conn, &codes)?;
        Ok((items, names))
    })
    .await?;
    let page = pagination::page(items, limit, |r| r.report_number.clone());
    let next = page
        .next_cursor
        .map(|c| format!("/staff/intake?cursor={c}"));
    let shell = desk
        .shell("/staff/intake", "待受理")
        .with_notice(page::notice(query.done.as_deref(), &DONE));
    Ok(page::render(
        StatusCode::OK,
        &QueuePage {
            shell,
            reports: page
                .items
                .into_iter()
                .map(|r| queue_line(r, &names, today))
                .collect(),
            next,
            later_page,
        },
    ))
}

// ---- one report -------------------------------------------------------------------------------

/// A message of the report's thread (the reporter or the commission; never a staff name).
struct MessageLine {
    from_reporter: bool,
    kind: &'static str,
    body: String,
    at: String,
}

/// An evidence file of the report.
struct EvidenceLine {
    href: String,
    kind: &'static str,
    size: String,
    from_reporter: bool,
    at: String,
    metadata_removed: bool,
}

/// What the report page shows of the report.
struct ReportFacts {
    id: String,
    number: String,
    status: String,
    channel: &'static str,
    programme: &'static str,
    township: String,
    village: String,
    misconduct: Vec<&'static str>,
    /// Names and positions of the people reported (not the reporter).
    accused: Vec<String>,
    description: String,
    occurred: Option<String>,
    submitted_at: String,
    triage_due: String,
    overdue: bool,
    anonymous: bool,
    acknowledge_by: Option<String>,
    messages: Vec<MessageLine>,
    evidence: Vec<EvidenceLine>,
}

/// Where the routing rules send an accepted report of one subject level (read only).
struct RoutePreview {
    level: &'static str,
    label: &'static str,
    /// The team's name, or `None` when no rule matches (accepting is then refused).
    team: Option<String>,
}

/// An official of the report's village or township who may be linked as accused.
struct OfficialChoice {
    id: String,
    label: String,
    checked: bool,
}

/// A similar open case the report may be merged into.
struct SimilarChoice {
    case_id: String,
    number: String,
    status: &'static str,
    created_at: String,
    reports: usize,
    overlapping_names: String,
    checked: bool,
}

/// What was typed into the triage form that was refused (empty otherwise).
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub action: String,
    pub subject_level: String,
    pub note: String,
    pub to_body: String,
    pub reason: String,
    pub case_id: String,
    pub official_ids: Vec<String>,
}

/// The triage forms, shown while the report is `received`.
struct TriageForms {
    routes: Vec<RoutePreview>,
    officials: Vec<OfficialChoice>,
    similar: Vec<SimilarChoice>,
}

#[derive(Template)]
#[template(path = "console/intake/report.html")]
struct ReportPage {
    shell: Shell,
    report: ReportFacts,
    forms: Option<TriageForms>,
    typed: Typed,
    /// The options of the accept form's subject level.
    levels: Vec<LevelOption>,
}

/// One option of the accept form's subject level, with the team it routes to.
struct LevelOption {
    value: &'static str,
    label: &'static str,
    team: Option<String>,
    selected: bool,
}

impl ReportPage {
    /// The refusal's message for `field`, when the refused form was `action`'s.
    fn error(&self, action: &str, field: &str) -> &str {
        if self.typed.action == action {
            self.shell.field_error(field)
        } else {
            ""
        }
    }

    /// What was typed in `field` of `action`'s form, when that form was refused.
    fn value(&self, action: &str, field: &str) -> &str {
        if self.typed.action != action {
            return "";
        }
        match field {
            "subject_level" => &self.typed.subject_level,
            "note" => &self.typed.note,
            "to_body" => &self.typed.to_body,
            "reason" => &self.typed.reason,
            "case_id" => &self.typed.case_id,
            _ => "",
        }
    }
}

fn message_kind_zh(kind: &str) -> &'static str {
    match kind {
        "reply" => "举报人留言",
        "question" => "询问",
        "acknowledgement" => "受理告知",
        "feedback" => "结果反馈",
        _ => "留言",
    }
}

fn facts(view: StaffReportView, names: &HashMap<String, String>) -> ReportFacts {
    let s = &view.summary;
    let id = s.id.clone();
    let status = ReportStatus::parse(&s.status);
    ReportFacts {
        number: s.report_number.clone(),
        status: status.map_or_else(|| s.status.clone(), |st| st.label_zh().to_string()),
        channel: channel_zh(&s.channel),
        programme: programme_zh(&s.programme),
        township: place(names, &s.township_code),
        village: place(names, &s.village_code),
        misconduct: view
            .misconduct
            .iter()
            .filter_map(|m| Misconduct::parse(m).map(Misconduct::label_zh))
            .collect(),
        accused: view
            .accused
            .iter()
            .map(|a| match &a.position {
                Some(p) if !p.trim().is_empty() => format!("{}（{}）", a.name, p),
                _ => a.name.clone(),
            })
            .collect(),
        occurred: match (view.occurred_from, view.occurred_to) {
            (Some(a), Some(b)) if a != b => Some(format!("{}至{}", zh::date(a), zh::date(b))),
            (Some(a), _) | (None, Some(a)) => Some(zh::date(a)),
            (None, None) => None,
        },
        submitted_at: zh::time(s.submitted_at),
        triage_due: zh::date(s.triage_due),
        overdue: s.overdue,
        anonymous: s.anonymous,
        acknowledge_by: view.acknowledge_by.map(zh::date),
        messages: view
            .messages
            .into_iter()
            .map(|m| MessageLine {
                from_reporter: m.from == "reporter",
                kind: message_kind_zh(&m.kind),
                body: m.body,
                at: zh::time(m.sent_at),
            })
            .collect(),
        evidence: view
            .evidence
            .into_iter()
            .map(|e| EvidenceLine {
                href: format!("/staff/reports/{id}/evidence/{}", e.id),
                kind: zh::evidence_kind(&e.content_type),
                size: zh::size(e.size_bytes),
                from_reporter: e.from == "reporter",
                at: zh::time(e.uploaded_at),
                metadata_removed: !e.metadata_removed.is_empty(),
            })
            .collect(),
        description: view.description,
        id,
    }
}

/// The team each acceptable subject level routes to, by the routing rules
/// (`cases::route_by_rules`, the function triage calls; it only reads).
///
/// Errors: database errors (no matching rule is `team: None`).
fn route_previews(
    conn: &mut DbConnection,
    programme: Programme,
    township_code: &str,
) -> Result<Vec<RoutePreview>, ApiError> {
    let mut out = Vec::new();
    for level in ACCEPTABLE_LEVELS {
        let team = match crate::cases::route_by_rules(conn, programme, township_code, level) {
            Ok(team) => Some(
                crate::routing::find_team(conn, &team)?
                    .map_or_else(|| team.to_string(), |t| t.name),
            ),
            Err(CaseError::Failed(e)) if e.code == ErrorCode::NoDefaultRule => None,
            Err(e) => return Err(e.into()),
        };
        out.push(RoutePreview {
            level: level.as_str(),
            label: level_zh(level),
            team,
        });
    }
    Ok(out)
}

/// The active officials of the report's village and township, to link as accused.
fn official_choices(
    conn: &mut DbConnection,
    codes: [&str; 2],
    typed: &Typed,
) -> Result<Vec<OfficialChoice>, ApiError> {
    let mut found: Vec<Official> = Vec::new();
    for code in codes {
        let filter = officials::Filter {
            division: Some(code.to_string()),
            active: Some(true),
            ..officials::Filter::default()
        };
        found.extend(officials::list(conn, &filter, 50)?);
    }
    Ok(found
        .into_iter()
        .map(|o| OfficialChoice {
            checked: typed.official_ids.contains(&o.id),
            label: format!("{} {}（{}）", o.division_name, o.post, o.name),
            id: o.id,
        })
        .collect())
}

fn similar_choice(c: SimilarCase, typed: &Typed) -> SimilarChoice {
    SimilarChoice {
        checked: typed.case_id == c.case_id,
        status: case_status_zh(&c.status),
        created_at: zh::time(c.created_at),
        reports: c.report_ids.len(),
        overlapping_names: c.overlapping_names.join("、"),
        number: c.number,
        case_id: c.case_id,
    }
}

/// Renders report `id`'s page for `desk`, showing `refusal` (with its status) and `typed`.
///
/// Errors: 404 page for an unknown report; database failures.
async fn show_report(
    desk: &Desk,
    id: String,
    refusal: Option<Refusal>,
    typed: Typed,
    pool: &DbPool,
    state: &CasesState,
) -> Result<HttpResponse, PageError> {
    let today = deadlines::today_in_county(state.clock.now());
    let now = state.clock.now_naive();
    let viewer = desk.viewer();
    let typed_for_db = typed.clone();
    let (report, forms) = db::run(pool, move |conn| {
        let view = report_staff::details(conn, &id, today)?;
        let (township, village) = (
            view.summary.township_code.clone(),
            view.summary.village_code.clone(),
        );
        let names = division_names(conn, &[&township, &village])?;
        let received = view.summary.status == ReportStatus::Received.as_str();
        let programme = Programme::parse(&view.summary.programme);
        let forms = match (received, programme) {
            (true, Some(programme)) => Some(TriageForms {
                routes: route_previews(conn, programme, &township)?,
                officials: official_choices(conn, [&village, &township], &typed_for_db)?,
                similar: similar::similar(conn, &viewer, &id, now)
                    .map_err(ApiError::from)?
                    .into_iter()
                    .map(|c| similar_choice(c, &typed_for_db))
                    .collect(),
            }),
            _ => None,
        };
        Ok((facts(view, &names), forms))
    })
    .await?;
    let shell = desk
        .shell("/staff/intake", format!("举报 {}", report.number))
        .with_refusal(refusal);
    let levels = forms
        .as_ref()
        .map(|f| {
            f.routes
                .iter()
                .map(|r| LevelOption {
                    value: r.level,
                    label: r.label,
                    team: r.team.clone(),
                    selected: typed.action == "accept" && typed.subject_level == r.level,
                })
                .collect()
        })
        .unwrap_or_default();
    let page = ReportPage {
        shell,
        report,
        forms,
        typed,
        levels,
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/reports/{id}`: the report and, while it is received, its triage forms.
///
/// Errors: 403 without `TriageReports`; 404 for an unknown report.
pub async fn report_page(
    desk: Desk,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::TriageReports)?;
    show_report(
        &desk,
        id.into_inner(),
        None,
        Typed::default(),
        &pool,
        &state,
    )
    .await
}

/// The triage request of a posted form: the API's body, field for field (text as typed; the
/// capability cleans and checks it).
fn request_of(form: &super::form::FormData) -> (TriageRequest, Typed) {
    let raw = |name: &str| form.raw(name).map(str::to_string);
    let body = TriageRequest {
        action: form.text("action"),
        subject_level: raw("subject_level"),
        accused_official_ids: form.all("accused_official_ids"),
        note: raw("note"),
        to_body: raw("to_body"),
        reason: raw("reason"),
        case_id: raw("case_id"),
    };
    let typed = Typed {
        action: body.action.clone(),
        subject_level: body.subject_level.clone().unwrap_or_default(),
        note: body.note.clone().unwrap_or_default(),
        to_body: body.to_body.clone().unwrap_or_default(),
        reason: body.reason.clone().unwrap_or_default(),
        case_id: body.case_id.clone().unwrap_or_default(),
        official_ids: body.accused_official_ids.clone(),
    };
    (body, typed)
}

/// `POST /staff/reports/{id}/triage`: triage as `POST /api/v1/reports/{id}/triage` does
/// (`cases::triage::triage`, routing accepted reports with `cases::route_by_rules`, stamped
/// with the application's clock). Accepted: 303 to `/staff/cases/{case_id}` (to
/// `/staff/intake?done=accepted` for those who may not read cases); transferred,
/// escalated, merged: 303 to `/staff/intake?done=<status>`.
///
/// Errors: 403 without `TriageReports` (or a bad CSRF token); 404 for an unknown report; every
/// other refusal (422 `validation_failed` / `must_escalate` / `no_default_rule`, 409
/// `already_triaged` / `case_not_open` / `version_conflict`) re-renders the report page with
/// the refusal and the API's status.
pub async fn triage_report(
    id: web::Path<String>,
    posted: Posted,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::TriageReports)?;
    let id = id.into_inner();
    let (body, typed) = request_of(&form);
    let actor = desk.staff.actor();
    let now = state.clock.now_naive();
    let report = id.clone();
    let done = db::run(&pool, move |conn| {
        Ok(triage::triage(
            conn,
            &report,
            &body,
            &actor,
            now,
            crate::cases::route_by_rules,
        )?)
    })
    .await;
    match done {
        // The new case's page, for those who may read cases; an intake officer (who may not)
        // stays on the queue, told the case number.
        Ok(Triaged::Accepted(a)) if desk.can(Permission::ReadCases) => {
            Ok(page::see_other(&format!("/staff/cases/{}", a.case_id)))
        }
        Ok(Triaged::Accepted(_)) => Ok(page::see_other("/staff/intake?done=accepted")),
        Ok(Triaged::Other(o)) => Ok(page::see_other(&format!("/staff/intake?done={}", o.status))),
        // An unknown report has no page: `show_report` answers the 404 page. (A merge into an
        // unknown case is refused on the report's page.)
        Err(e) => show_report(&desk, id, Some(Refusal::from_api(&e)), typed, &pool, &state).await,
    }
}

/// `GET /staff/reports/{id}/evidence/{attachment}`: the file, through the API's audited path
/// (`reports::routes::download`): the permission check of `GET /api/v1/attachments/{id}`
/// (triage, or read cases), then the same `attachment.downloaded` audit entry. An attachment of
/// another report is not found (and nothing is audited).
///
/// Errors: 403 and 404 as Chinese pages.
pub async fn evidence(
    desk: Desk,
    path: web::Path<(String, String)>,
    pool: web::Data<DbPool>,
    reports: web::Data<ReportsState>,
) -> Result<HttpResponse, PageError> {
    desk.require_any(&[Permission::TriageReports, Permission::ReadCases])?;
    let (report, attachment) = path.into_inner();
    let lookup = attachment.clone();
    let of_report = db::run(&pool, move |conn| {
        use crate::db::schema::attachments;
        use diesel::prelude::*;
        Ok(attachments::table
            .find(&lookup)
            .select(attachments::report_id)
            .first::<String>(conn)
            .optional()?)
    })
    .await?;
    if of_report.as_deref() != Some(report.as_str()) {
        return Err(PageError::not_found());
    }
    Ok(crate::reports::routes::download(&reports, &pool, desk.staff.actor(), attachment).await?)
}
