//! The case page, `GET /staff/cases/{id}`: one case as staff see it through the API's own read
//! (`cases::visible_case` and `cases::view::case_view_for`, the same visibility: investigators
//! their teams' cases, supervisors and auditors every case; false-accusation findings to
//! supervisors only).
//!
//! In order: the summary and its deadlines (overdue marked); the actions the state machine and
//! the user's roles allow ([`allowed_actions`], from `domain::case_status::TRANSITIONS`) with
//! the closing blockers in words; the reports (their text and evidence, downloaded through the
//! API's audited path, [`evidence`]); the message thread with the reporters and the reply form;
//! internal notes; then the sections of the other modules (investigations, clawbacks,
//! remediation and suspension, identity access), and the timeline.
//!
//! Never a reporter's identity: the views it reads hold none (identity access is the
//! `identity` section's custodian workflow). Who sees it: `ReadCases`; others the Chinese 403.

use std::collections::HashMap;

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;

use super::{clawbacks, identity, investigations, remediation, Failed, Section};
use crate::cases::view::CaseView;
use crate::cases::CasesState;
use crate::console::form::FormData;
use crate::console::page::{self as console_page, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::schema::users;
use crate::db::{self, DbPool};
use crate::domain::case_status::{
    CaseAction, CaseStatus, Disposition, Precondition, Who, TRANSITIONS,
};
use crate::domain::closing::Blocker;
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::roles::Role;
use crate::error::ApiError;
use crate::web::zh;

/// The most timeline entries one page shows; "更多记录" shows the next ones.
pub const TIMELINE_PAGE: i64 = 100;
/// The most recent messages and notes shown; "显示全部" shows every one (the page stays light
/// for the usual case).
pub const THREAD_SHOWN: usize = 40;

/// Mounts the case page and its evidence downloads.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/staff/cases/{id}").route(web::get().to(get_case)))
        .service(
            web::resource("/staff/cases/{id}/evidence/{attachment}").route(web::get().to(evidence)),
        );
}

// ---- words ------------------------------------------------------------------------------------

/// A case status in Chinese (`CaseView.status`).
pub fn status_zh(status: &str) -> &'static str {
    match status {
        "registered" => "已受理，待处置",
        "inquiry" => "谈话函询",
        "preliminary_verification" => "初步核实",
        "on_hold" => "暂存待查",
        "filing_requested" => "待审批立案",
        "filed" => "已立案，调查中",
        "concluded" => "调查已终结",
        "closed" => "已结案",
        "closed_without_action" => "予以了结",
        _ => "未知状态",
    }
}

/// A disposition (Art 17) in Chinese, as an action.
pub fn disposition_zh(d: &str) -> &'static str {
    match d {
        "inquiry" => "谈话函询",
        "preliminary_verification" => "初步核实",
        "on_hold" => "暂存待查",
        "close_without_action" => "予以了结",
        "file" => "提请立案",
        _ => "未知处置方式",
    }
}

/// A programme in Chinese.
pub fn programme_zh(p: &str) -> &'static str {
    crate::domain::report::Programme::parse(p)
        .map(|p| p.label_zh())
        .unwrap_or("未知项目")
}

/// A subject level in Chinese.
pub fn level_zh(level: &str) -> &'static str {
    match level {
        "village" => "村干部",
        "township" => "乡镇干部",
        "county" => "县管干部",
        "above_county" => "市管及以上干部",
        "commission_head" => "本级纪委主要负责人",
        _ => "未知层级",
    }
}

/// A message kind in Chinese (`question | acknowledgement | feedback | reply`).
pub fn message_kind_zh(kind: &str) -> &'static str {
    match kind {
        "question" => "询问（请举报人补充说明）",
        "acknowledgement" => "受理告知",
        "feedback" => "办理结果反馈",
        "reply" => "举报人留言",
        _ => "留言",
    }
}

/// A staff-asked case action in Chinese (the button's words).
pub fn action_zh(action: CaseAction) -> &'static str {
    match action {
        CaseAction::Dispose(d) => disposition_zh(d.as_str()),
        CaseAction::ApproveFiling => "批准立案",
        CaseAction::RejectFiling => "不予立案，退回初步核实",
        CaseAction::Conclude => "调查终结",
        CaseAction::Close => "结案",
        CaseAction::Reopen => "重新办理",
    }
}

/// An audited event of the timeline in Chinese; the code itself when it has no words yet.
pub fn event_zh(action: &str) -> String {
    let words = match action {
        "report.submitted" => "收到举报",
        "report.accepted" => "举报已受理",
        "report.transferred" => "举报已转交",
        "report.escalated" => "举报已上报",
        "report.merged" => "举报并入本案",
        "report.reporter_message" => "举报人留言",
        "report.reporter_evidence" => "举报人补充证据",
        "attachment.downloaded" => "下载证据材料",
        "case.created" => "立卷登记",
        "case.assigned" => "分配承办人",
        "case.disposition" => "作出处置",
        "case.filing_approved" => "批准立案",
        "case.filing_rejected" => "不予立案",
        "case.note_added" => "添加内部备注",
        "case.message_sent" => "给举报人发送消息",
        "case.clawback_statement" => "说明无违规发放资金",
        "case.closed" => "结案",
        "case.reopened" => "重新办理",
        "case.concluded" => "调查终结",
        "case.investigation_concluded" => "一项调查已终结",
        "case.objection_received" => "收到异议",
        "case.report_merged" => "并入举报",
        "investigation.opened" => "开始调查",
        "investigation.concluded" => "调查终结",
        "investigation.reopened" => "调查重新开始",
        "clawback.recorded" => "登记追回款项",
        "clawback.amended" => "更正追回款项",
        "clawback.recovery_recorded" => "登记已追回金额",
        "clawback.written_off" => "核销追回款项",
        "suspension.started" => "村暂停发放",
        "suspension.case_cleared" => "本案不再阻止恢复发放",
        "suspension.lifted" => "村恢复发放",
        "remediation.item_created" => "添加整改事项",
        "remediation.submitted" => "提交整改材料",
        "remediation.verified" => "整改验收通过",
        "remediation.rejected" => "整改验收未通过",
        "remediation.file_downloaded" => "下载整改材料",
        "objection.filed" => "举报人提出异议",
        "objection.decided" => "异议已处理",
        "identity.requested" => "申请查看举报人身份",
        "identity.approved" => "批准查看举报人身份",
        "identity.denied" => "不批准查看举报人身份",
        "identity.read" => "查看举报人身份",
        "false_accusation.recorded" => "认定诬告陷害",
        "false_accusation.reason" => "诬告陷害认定理由",
        _ => "",
    };
    if words.is_empty() {
        action.to_string()
    } else {
        words.to_string()
    }
}

/// A closing blocker in words, with where it is resolved: (sentence, link, link text).
pub fn blocker_zh(
    b: &Blocker,
    case: &CaseView,
    report_numbers: &HashMap<String, String>,
) -> (String, String, &'static str) {
    match b {
        Blocker::InvestigationOpen { investigation_id } => {
            // Resolved in the investigations section (its conclusion form).
            let kind = case
                .investigations
                .iter()
                .find(|i| &i.id == investigation_id)
                .map(|i| i.kind.as_str())
                .unwrap_or("");
            let what = match kind {
                "primary" => "对被反映问题的调查（主调查）尚未终结",
                "accountability" => "对上一级领导的责任调查（一案双查）尚未终结",
                _ => "有一项调查尚未终结",
            };
            (
                format!("{what}：请在调查部分填写调查结论。"),
                "#investigations".to_string(),
                "去填写调查结论",
            )
        }
        Blocker::ClawbackUnanswered => (
            "主调查认定存在问题，但还没有回答是否需要追回资金：请登记追回款项，或者说明没有违规发放的资金。"
                .to_string(),
            "#clawbacks".to_string(),
            "去登记追回款项",
        ),
        Blocker::RemediationPlanMissing => (
            "主调查认定存在问题，但村里还没有整改方案：请添加整改事项。".to_string(),
            "#remediation".to_string(),
            "去添加整改事项",
        ),
        Blocker::FeedbackNotSent { report_ids } => {
            let numbers: Vec<String> = report_ids
                .iter()
                .map(|r| report_numbers.get(r).cloned().unwrap_or_else(|| r.clone()))
                .collect();
            (
                format!(
                    "实名举报人还没有收到办理结果反馈（举报 {}）：请发送“办理结果反馈”消息。",
                    numbers.join("、")
                ),
                "#reply".to_string(),
                "去发送反馈",
            )
        }
    }
}

// ---- what may be done -------------------------------------------------------------------------

/// The facts the preconditions of the transition table look at, read by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionFacts {
    /// The primary investigation is concluded (`Precondition::PrimaryConcluded`).
    pub primary_concluded: bool,
    /// Every investigation is concluded (`Precondition::EveryInvestigationConcluded`).
    pub every_investigation_concluded: bool,
    /// `domain::closing::blockers` is empty (`Precondition::NothingBlocksClosing`).
    pub nothing_blocks_closing: bool,
}

/// The actions a staff member with `roles` may ask for on a case in `status`, in the order of
/// `domain::case_status::TRANSITIONS`: the rows leaving `status` whose action is asked by staff
/// (not the system's `conclude`), whose roles (`CaseAction::allowed_for`) include one of
/// `roles`, and whose precondition holds in `facts`. The team of an investigator is not judged
/// here: the page is shown only to those who may see the case, and investigators see only their
/// teams' cases. The console shows a form for these actions only; the capability refuses any
/// other anyway.
pub fn allowed_actions(status: CaseStatus, roles: &[Role], facts: ActionFacts) -> Vec<CaseAction> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from == status)
        .filter(|t| t.action.who() != Who::System && t.action.allowed_for(roles))
        .filter(|t| match t.precondition {
            None => true,
            Some(Precondition::PrimaryConcluded) => facts.primary_concluded,
            Some(Precondition::EveryInvestigationConcluded) => facts.every_investigation_concluded,
            Some(Precondition::NothingBlocksClosing) => facts.nothing_blocks_closing,
        })
        .map(|t| t.action)
        .collect()
}

// ---- the page ---------------------------------------------------------------------------------

/// One line of the summary.
struct Fact {
    pub label: &'static str,
    pub value: String,
    pub class: &'static str,
}

/// One report of the case, as staff read it (never who reported it).
struct ReportItem {
    pub id: String,
    pub number: String,
    pub submitted: String,
    pub real_name: bool,
    pub channel: String,
    pub misconduct: String,
    pub accused: String,
    pub occurred: String,
    pub description: String,
    pub evidence: Vec<EvidenceItem>,
}

/// One evidence file of a report, with its download link.
struct EvidenceItem {
    pub href: String,
    pub kind: &'static str,
    pub size: String,
    pub at: String,
    pub from_reporter: bool,
    pub metadata_removed: bool,
}

/// One message of the thread with the reporters.
struct MessageItem {
    pub from_reporter: bool,
    pub kind: &'static str,
    pub report: String,
    pub at: String,
    pub body: String,
}

/// One internal note.
struct NoteItem {
    pub author: String,
    pub at: String,
    pub body: String,
}

/// One event of the timeline, in words.
struct TimelineItem {
    pub at: String,
    pub who: String,
    pub what: String,
    pub reason: String,
}

/// One closing blocker in words, with the link to where it is resolved.
struct BlockerItem {
    pub text: String,
    pub href: String,
    pub link: &'static str,
}

/// A section rendered by another module, placed as it gave it.
struct Placed {
    pub anchor: &'static str,
    pub html: String,
}

/// An option of a select.
struct Opt {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console/cases/case.html")]
struct CasePage {
    shell: Shell,
    id: String,
    version: i32,
    facts: Vec<Fact>,
    deadlines: Vec<Fact>,
    /// The dispositions offered (value, label), when any.
    dispositions: Vec<Opt>,
    approve_filing: bool,
    reject_filing: bool,
    close: bool,
    reopen: bool,
    /// The investigators the case may be assigned to (supervisors, open cases).
    assign: Option<Vec<Opt>>,
    current_assignee: String,
    statement: bool,
    /// `Some` for a filed or concluded case: its closing blockers (empty: it may close).
    blockers: Option<Vec<BlockerItem>>,
    may_work: bool,
    reports: Vec<ReportItem>,
    report_options: Vec<Opt>,
    messages: Vec<MessageItem>,
    /// Earlier messages not shown ("显示全部" shows them).
    messages_hidden: usize,
    notes: Vec<NoteItem>,
    notes_hidden: usize,
    placed: Vec<Placed>,
    timeline: Vec<TimelineItem>,
    timeline_more: Option<String>,
    failed_form: String,
    failed_section: &'static str,
    typed: FormData,
    refusal: Option<Refusal>,
}

impl CasePage {
    /// What was typed in field `field` of form `form`, when that form was refused; else "".
    fn val(&self, form: &str, field: &str) -> String {
        if self.failed_form == form {
            self.typed.raw(field).unwrap_or_default().to_string()
        } else {
            String::new()
        }
    }

    /// Whether option `value` of field `field` of form `form` was chosen when refused.
    fn chosen(&self, form: &str, field: &str, value: &str) -> bool {
        self.failed_form == form && self.typed.raw(field) == Some(value)
    }

    /// The Chinese message for field `field` of form `form`, when that form was refused.
    fn err(&self, form: &str, field: &str) -> &str {
        if self.failed_form == form {
            self.refusal
                .as_ref()
                .and_then(|r| r.field(field))
                .unwrap_or("")
        } else {
            ""
        }
    }

    /// The refusal, when it belongs to section `anchor`.
    fn refused_in(&self, anchor: &str) -> Option<&Refusal> {
        (self.failed_section == anchor)
            .then_some(self.refusal.as_ref())
            .flatten()
    }
}

#[derive(serde::Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    /// The timeline after this entry (`seq`).
    timeline_after: Option<i64>,
    /// `all`: every message of the thread, not only the latest.
    thread: Option<String>,
    /// `all`: every note, not only the latest.
    notes: Option<String>,
}

/// `GET /staff/cases/{id}`.
pub async fn get_case(
    req: HttpRequest,
    desk: Desk,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    show_case(&req, &desk, &id.into_inner(), None).await
}

fn app_data<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, PageError> {
    req.app_data::<web::Data<T>>()
        .cloned()
        .ok_or_else(|| PageError::unexpected(&"application data missing"))
}

/// Everything the page reads, in one visit to the database.
struct Loaded {
    view: CaseView,
    reports: Vec<crate::reports::staff::StaffReportView>,
    names: HashMap<String, String>,
    places: HashMap<String, String>,
    team_name: String,
    officials: Vec<String>,
    investigators: Vec<(String, String)>,
    blockers: Option<Vec<Blocker>>,
    clawback_answered: bool,
    timeline: Vec<crate::cases::timeline::TimelineEntry>,
}

/// Case `case_id`'s page for `desk`, showing `failed` (a refused form) when given, answered with
/// the refusal's status.
pub async fn show_case(
    req: &HttpRequest,
    desk: &Desk,
    case_id: &str,
    failed: Option<Failed>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::ReadCases)?;
    let pool = app_data::<DbPool>(req)?;
    let state = app_data::<CasesState>(req)?;
    let query = web::Query::<PageQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or(PageQuery {
            done: None,
            timeline_after: None,
            thread: None,
            notes: None,
        });
    let today = deadlines::today_in_county(state.clock.now());
    let viewer = desk.viewer();
    let id = case_id.to_string();
    let timeline_after = query.timeline_after;
    let supervise = desk.can(Permission::Supervise);
    let loaded = db::run(&pool, move |conn| {
        let row = crate::cases::visible_case(conn, &viewer, &id).map_err(ApiError::from)?;
        let supervisor = crate::cases::investigations::reads_false_accusations(&viewer);
        let view = crate::cases::view::case_view_for(conn, row.clone(), today, supervisor)?;
        let mut reports = Vec::new();
        for report in &view.report_ids {
            reports.push(crate::reports::staff::details(conn, report, today)?);
        }
        let (blockers, clawback_answered) =
            if matches!(row.status, CaseStatus::Filed | CaseStatus::Concluded) {
                let facts = crate::cases::closing::closing_facts(conn, row.id.as_str())?;
                (
                    Some(crate::domain::closing::blockers(&facts)),
                    facts.clawback_answered,
                )
            } else {
                (None, false)
            };
        let investigators = if supervise && row.status.is_open() {
            let mut found = Vec::new();
            for member in crate::routing::members(conn, &row.team_id)? {
                if crate::cases::assign::is_active_investigator_of_team(conn, &row, &member)? {
                    found.push(member.into_string());
                }
            }
            found
        } else {
            Vec::new()
        };
        let timeline = crate::cases::timeline::timeline(
            conn,
            row.id.as_str(),
            supervisor,
            timeline_after,
            TIMELINE_PAGE,
        )?;
        // Names of staff (staff see them; reporters never do).
        let mut people: Vec<String> = investigators.clone();
        people.extend(view.assignee_id.clone());
        people.extend(view.closed_by.clone());
        people.extend(view.notes.iter().map(|n| n.author_id.clone()));
        people.extend(timeline.iter().filter_map(|e| e.actor.user_id.clone()));
        people.sort();
        people.dedup();
        let names: HashMap<String, String> = users::table
            .filter(users::id.eq_any(&people))
            .select((users::id, users::display_name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let places: HashMap<String, String> =
            crate::divisions::find_many(conn, &[&view.township_code, &view.village_code])?
                .into_iter()
                .map(|d| (d.code, d.name))
                .collect();
        let team_name = crate::routing::find_team(conn, &row.team_id)?
            .map(|t| t.name)
            .unwrap_or_else(|| view.team_id.clone());
        let mut officials = Vec::new();
        for official in &view.accused_official_ids {
            if let Some(o) = crate::divisions::officials::find(conn, official)? {
                officials.push(format!("{}（{}，{}）", o.name, o.post, o.division_name));
            }
        }
        let investigators = investigators
            .into_iter()
            .map(|i| {
                let name = names.get(&i).cloned().unwrap_or_else(|| i.clone());
                (i, name)
            })
            .collect();
        Ok(Loaded {
            view,
            reports,
            names,
            places,
            team_name,
            officials,
            investigators,
            blockers,
            clawback_answered,
            timeline,
        })
    })
    .await?;

    let mut placed = Vec::new();
    for section in [
        Section::Investigations,
        Section::Clawbacks,
        Section::Remediation,
        Section::Identity,
    ] {
        let html = match section {
            Section::Investigations => {
                investigations::section(req, desk, &loaded.view, failed.as_ref()).await?
            }
            Section::Clawbacks => {
                clawbacks::section(req, desk, &loaded.view, failed.as_ref()).await?
            }
            Section::Remediation => {
                remediation::section(req, desk, &loaded.view, failed.as_ref()).await?
            }
            _ => identity::section(req, desk, &loaded.view, failed.as_ref()).await?,
        };
        placed.push(Placed {
            anchor: section.anchor(),
            html,
        });
    }

    let calendar = state.calendar.current();
    let title = format!("案件 {}", loaded.view.number);
    let mut shell = desk
        .shell("/staff/cases", title)
        .with_notice(super::done_notice(query.done.as_deref()));
    let (failed_form, failed_section, typed, refusal) = match failed {
        Some(f) => {
            shell = shell.with_refusal(Some(f.refusal.clone()));
            (
                f.form.text("form"),
                f.section.anchor(),
                f.form,
                Some(f.refusal),
            )
        }
        None => (String::new(), "", FormData::default(), None),
    };
    let shown = Shown {
        all_messages: query.thread.as_deref() == Some("all"),
        all_notes: query.notes.as_deref() == Some("all"),
    };
    let page = build(
        desk,
        shell,
        loaded,
        placed,
        (today, &calendar, shown),
        (failed_form, failed_section, typed, refusal),
    );
    Ok(console_page::show(&page.shell, &page))
}

fn name_of(names: &HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// Whether every message and note is shown, or only the latest [`THREAD_SHOWN`].
#[derive(Debug, Clone, Copy)]
struct Shown {
    all_messages: bool,
    all_notes: bool,
}

/// The last `n` of `items` unless `all`, and how many were left out.
fn latest<T>(items: Vec<T>, all: bool, n: usize) -> (Vec<T>, usize) {
    if all || items.len() <= n {
        (items, 0)
    } else {
        let hidden = items.len() - n;
        (items.into_iter().skip(hidden).collect(), hidden)
    }
}

fn build(
    desk: &Desk,
    shell: Shell,
    loaded: Loaded,
    placed: Vec<Placed>,
    (today, calendar, shown): (NaiveDate, &crate::domain::calendar::WorkingCalendar, Shown),
    failed: (String, &'static str, FormData, Option<Refusal>),
) -> CasePage {
    let Loaded {
        view,
        reports,
        names,
        places,
        team_name,
        officials,
        investigators,
        blockers,
        clawback_answered,
        timeline,
    } = loaded;
    let status = CaseStatus::parse(&view.status).unwrap_or(CaseStatus::Registered);
    let place = |code: &str| {
        places
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    };
    let report_numbers: HashMap<String, String> = reports
        .iter()
        .map(|r| (r.summary.id.clone(), r.summary.report_number.clone()))
        .collect();

    let mut facts = vec![
        Fact {
            label: "案件编号",
            value: view.number.clone(),
            class: "",
        },
        Fact {
            label: "状态",
            value: status_zh(&view.status).to_string(),
            class: "",
        },
        Fact {
            label: "项目",
            value: programme_zh(&view.programme).to_string(),
            class: "",
        },
        Fact {
            label: "地点",
            value: format!(
                "{} {}（{}）",
                place(&view.township_code),
                place(&view.village_code),
                view.village_code
            ),
            class: "",
        },
        Fact {
            label: "被反映人层级",
            value: level_zh(&view.subject_level).to_string(),
            class: "",
        },
    ];
    if !officials.is_empty() {
        facts.push(Fact {
            label: "被反映的在册干部",
            value: officials.join("；"),
            class: "",
        });
    }
    facts.push(Fact {
        label: "承办室",
        value: team_name,
        class: "",
    });
    facts.push(Fact {
        label: "承办人",
        value: view
            .assignee_id
            .as_deref()
            .map(|a| name_of(&names, a))
            .unwrap_or_else(|| "未分配".into()),
        class: "",
    });
    if let Some(d) = &view.disposition {
        let reason = view
            .disposition_reason
            .as_deref()
            .map(|r| format!("（理由：{r}）"))
            .unwrap_or_default();
        facts.push(Fact {
            label: "处置方式",
            value: format!("{}{reason}", disposition_zh(d)),
            class: "",
        });
    }
    facts.push(Fact {
        label: "收到时间",
        value: zh::time(view.received_at),
        class: "",
    });
    if let Some(at) = view.closed_at {
        facts.push(Fact {
            label: "结案",
            value: format!(
                "{}，{}{}",
                zh::time(at),
                view.closed_by
                    .as_deref()
                    .map(|u| name_of(&names, u))
                    .unwrap_or_default(),
                view.close_reason
                    .as_deref()
                    .map(|r| format!("（理由：{r}）"))
                    .unwrap_or_default()
            ),
            class: "",
        });
    }
    facts.push(Fact {
        label: "版本",
        value: view.version.to_string(),
        class: "",
    });

    let d = &view.deadlines;
    let mut deadlines: Vec<Fact> = [
        // Met once the case exists (the report was accepted).
        ("受理期限（已受理）", Some(d.triage_due)),
        ("实名举报受理告知期限", d.acknowledge_by),
        ("初步核实期限", d.verification_due),
        ("暂存待查复查日期", d.review_on),
        ("调查期限", d.investigation_due),
        ("结果反馈期限", d.feedback_due),
        ("异议处理期限", d.objection_due),
        ("追回款项期限", d.clawback_due),
    ]
    .into_iter()
    .filter_map(|(label, date)| {
        date.map(|date| Fact {
            label,
            value: zh::date(date),
            class: "",
        })
    })
    .collect();
    let (due_class, due_text) = match view.due_on {
        None => ("", "没有正在计算的期限".to_string()),
        Some(due) if view.overdue => ("overdue", format!("{}，已逾期", zh::date(due))),
        Some(due) if super::queue::due_soon(calendar, today, Some(due)) => {
            ("due-soon", format!("{}，2个工作日内到期", zh::date(due)))
        }
        Some(due) => ("", zh::date(due)),
    };
    deadlines.insert(
        0,
        Fact {
            label: "最近期限",
            value: due_text,
            class: due_class,
        },
    );

    let primary_concluded = view
        .investigations
        .iter()
        .any(|i| i.kind == "primary" && i.status == "concluded");
    let action_facts = ActionFacts {
        primary_concluded,
        every_investigation_concluded: !view.investigations.is_empty()
            && view.investigations.iter().all(|i| i.status == "concluded"),
        nothing_blocks_closing: blockers.as_ref().is_some_and(Vec::is_empty),
    };
    let allowed = allowed_actions(status, desk.roles(), action_facts);
    let dispositions = allowed
        .iter()
        .filter_map(|a| match a {
            CaseAction::Dispose(d) => Some(Opt {
                value: d.as_str().to_string(),
                label: match d {
                    Disposition::File => "提请立案（报主管领导审批）".to_string(),
                    other => disposition_zh(other.as_str()).to_string(),
                },
            }),
            _ => None,
        })
        .collect();
    let assign = (desk.can(Permission::Supervise) && status.is_open()).then(|| {
        investigators
            .iter()
            .map(|(id, name)| Opt {
                value: id.clone(),
                label: name.clone(),
            })
            .collect()
    });
    let may_work = desk.can(Permission::WorkCases);
    let statement = may_work
        && matches!(status, CaseStatus::Filed | CaseStatus::Concluded)
        && !clawback_answered;
    let blockers = blockers.map(|list| {
        list.iter()
            .map(|b| {
                let (text, href, link) = blocker_zh(b, &view, &report_numbers);
                BlockerItem { text, href, link }
            })
            .collect()
    });

    let case_id = view.id.clone();
    let report_items: Vec<ReportItem> = reports
        .iter()
        .map(|r| {
            let evidence = view
                .evidence
                .iter()
                .filter(|e| e.report_id == r.summary.id)
                .map(|e| EvidenceItem {
                    href: format!("/staff/cases/{case_id}/evidence/{}", e.id),
                    kind: zh::evidence_kind(&e.content_type),
                    size: zh::size(e.size_bytes),
                    at: zh::time(e.uploaded_at),
                    from_reporter: e.from == "reporter",
                    metadata_removed: !e.metadata_removed.is_empty(),
                })
                .collect();
            let occurred = match (r.occurred_from, r.occurred_to) {
                (Some(a), Some(b)) if a != b => format!("{} 至 {}", zh::date(a), zh::date(b)),
                (Some(a), _) | (None, Some(a)) => zh::date(a),
                (None, None) => String::new(),
            };
            ReportItem {
                id: r.summary.id.clone(),
                number: r.summary.report_number.clone(),
                submitted: zh::time(r.summary.submitted_at),
                real_name: !r.summary.anonymous,
                channel: crate::domain::report::Channel::parse(&r.summary.channel)
                    .map(|c| c.label_zh().to_string())
                    .unwrap_or_else(|| r.summary.channel.clone()),
                misconduct: r
                    .misconduct
                    .iter()
                    .map(|m| {
                        crate::domain::report::Misconduct::parse(m)
                            .map(|m| m.label_zh().to_string())
                            .unwrap_or_else(|| m.clone())
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
                accused: r
                    .accused
                    .iter()
                    .map(|a| match &a.position {
                        Some(p) => format!("{}（{p}）", a.name),
                        None => a.name.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join("、"),
                occurred,
                description: r.description.clone(),
                evidence,
            }
        })
        .collect();
    let many_reports = report_items.len() > 1;
    let report_options = report_items
        .iter()
        .map(|r| Opt {
            value: r.id.clone(),
            label: format!(
                "只发给举报 {} 的举报人{}",
                r.number,
                if r.real_name {
                    "（实名）"
                } else {
                    "（匿名）"
                }
            ),
        })
        .collect();
    let messages: Vec<MessageItem> = view
        .messages
        .iter()
        .map(|m| MessageItem {
            from_reporter: m.from == "reporter",
            kind: message_kind_zh(&m.kind),
            report: if many_reports {
                report_numbers
                    .get(&m.report_id)
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            },
            at: zh::time(m.sent_at),
            body: m.body.clone(),
        })
        .collect();
    let notes: Vec<NoteItem> = view
        .notes
        .iter()
        .map(|n| NoteItem {
            author: name_of(&names, &n.author_id),
            at: zh::time(n.created_at),
            body: n.body.clone(),
        })
        .collect();
    let (messages, messages_hidden) = latest(messages, shown.all_messages, THREAD_SHOWN);
    let (notes, notes_hidden) = latest(notes, shown.all_notes, THREAD_SHOWN);
    let timeline_more = (timeline.len() as i64 == TIMELINE_PAGE)
        .then(|| {
            timeline
                .last()
                .map(|e| format!("/staff/cases/{case_id}?timeline_after={}#timeline", e.seq))
        })
        .flatten();
    let timeline = timeline
        .iter()
        .map(|e| TimelineItem {
            at: zh::time(e.at),
            who: match e.actor.kind.as_str() {
                "user" => e
                    .actor
                    .user_id
                    .as_deref()
                    .map(|u| name_of(&names, u))
                    .unwrap_or_default(),
                "reporter" => "举报人".into(),
                "service" => "外部系统".into(),
                "cli" => "系统管理命令".into(),
                _ => "系统".into(),
            },
            what: event_zh(&e.action),
            reason: e
                .details
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or_default()
                .to_string(),
        })
        .collect();
    let (failed_form, failed_section, typed, refusal) = failed;
    CasePage {
        shell,
        id: view.id.clone(),
        version: view.version,
        facts,
        deadlines,
        dispositions,
        approve_filing: allowed.contains(&CaseAction::ApproveFiling),
        reject_filing: allowed.contains(&CaseAction::RejectFiling),
        close: allowed.contains(&CaseAction::Close),
        reopen: allowed.contains(&CaseAction::Reopen),
        assign,
        current_assignee: view.assignee_id.clone().unwrap_or_default(),
        statement,
        blockers,
        may_work,
        reports: report_items,
        report_options,
        messages,
        messages_hidden,
        notes,
        notes_hidden,
        placed,
        timeline,
        timeline_more,
        failed_form,
        failed_section,
        typed,
        refusal,
    }
}

/// `GET /staff/cases/{id}/evidence/{attachment}`: an evidence file of one of the case's
/// reports, through the API's audited download (`reports::routes::download`: the same
/// `attachment.downloaded` entry as `GET /api/v1/attachments/{id}`). Only for a case the user
/// may see, and only a file of that case.
pub async fn evidence(
    req: HttpRequest,
    desk: Desk,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::ReadCases)?;
    let (case_id, attachment) = path.into_inner();
    let pool = app_data::<DbPool>(&req)?;
    let reports = app_data::<crate::reports::ReportsState>(&req)?;
    let viewer = desk.viewer();
    let wanted = attachment.clone();
    let belongs = db::run(&pool, move |conn| {
        let row = crate::cases::visible_case(conn, &viewer, &case_id).map_err(ApiError::from)?;
        let ids = crate::cases::view::report_ids(conn, row.id.as_str())?;
        use crate::db::schema::attachments;
        let found: i64 = attachments::table
            .filter(attachments::id.eq(&wanted))
            .filter(attachments::report_id.eq_any(ids))
            .count()
            .get_result(conn)?;
        Ok(found > 0)
    })
    .await?;
    if !belongs {
        return Err(PageError::not_found());
    }
    crate::reports::routes::download(&reports, &pool, desk.staff.actor(), attachment)
        .await
        .map_err(PageError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseAction as A;
    use CaseStatus as S;

    fn names(actions: &[CaseAction]) -> Vec<&'static str> {
        actions.iter().map(|a| a.as_str()).collect()
    }

    #[test]
    fn the_table_decides_by_status_role_and_precondition() {
        let none = ActionFacts::default();
        let inv = [Role::Investigator];
        let sup = [Role::Supervisor];
        assert_eq!(
            names(&allowed_actions(S::Registered, &inv, none)),
            [
                "inquiry",
                "preliminary_verification",
                "on_hold",
                "close_without_action",
                "file"
            ]
        );
        assert_eq!(
            names(&allowed_actions(S::Inquiry, &inv, none)),
            [
                "preliminary_verification",
                "on_hold",
                "close_without_action",
                "file"
            ]
        );
        assert!(allowed_actions(S::FilingRequested, &inv, none).is_empty());
        assert_eq!(
            names(&allowed_actions(S::FilingRequested, &sup, none)),
            ["approve_filing", "reject_filing"]
        );
        for role in [Role::Auditor, Role::Intake, Role::Benefits, Role::Admin] {
            for status in S::ALL {
                assert!(allowed_actions(
                    *status,
                    &[role],
                    ActionFacts {
                        primary_concluded: true,
                        every_investigation_concluded: true,
                        nothing_blocks_closing: true,
                    }
                )
                .is_empty());
            }
        }
        // Filed: close only when nothing blocks it, reopen only a concluded primary; the
        // system's conclude never.
        assert!(allowed_actions(S::Filed, &sup, none).is_empty());
        let ready = ActionFacts {
            primary_concluded: true,
            every_investigation_concluded: true,
            nothing_blocks_closing: true,
        };
        assert_eq!(
            names(&allowed_actions(S::Filed, &sup, ready)),
            ["close", "reopen"]
        );
        assert!(allowed_actions(S::Filed, &inv, ready).is_empty());
        assert_eq!(
            names(&allowed_actions(S::Concluded, &sup, none)),
            ["reopen"]
        );
        assert_eq!(names(&allowed_actions(S::Closed, &sup, none)), ["reopen"]);
        assert!(allowed_actions(S::Closed, &inv, none).is_empty());
        assert_eq!(
            names(&allowed_actions(S::ClosedWithoutAction, &sup, none)),
            ["reopen"]
        );
        // Two roles: the union.
        assert_eq!(
            allowed_actions(
                S::FilingRequested,
                &[Role::Investigator, Role::Supervisor],
                none
            ),
            vec![A::ApproveFiling, A::RejectFiling]
        );
    }

    #[test]
    fn every_status_and_known_event_has_words() {
        for s in S::ALL {
            assert_ne!(status_zh(s.as_str()), "未知状态");
        }
        assert_eq!(event_zh("case.closed"), "结案");
        assert_eq!(event_zh("something.new"), "something.new");
    }
}
