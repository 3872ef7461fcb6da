//! The case page's `investigations` section (SPEC.md rule 2 "一案双查", "Investigations",
//! "Outcomes"): the primary investigation (the conduct reported) and the accountability
//! investigation (the supervisory duty of the leadership one level up), each with its target,
//! the officials looked into, its assignee and deadline, and once concluded its outcome,
//! findings and sanctions, with earlier conclusions kept after a reopen.
//!
//! - Who sees it: everyone who reads the case page (`ReadCases`). A false-accusation finding
//!   (诬告陷害) is shown to supervisors only, as the API shows it
//!   (`cases::investigations::reads_false_accusations`).
//! - The conclusion form appears for each open investigation when the user may work the case
//!   (`WorkCases`: investigators of the case's team, supervisors). It takes the outcome, the
//!   findings, sanction rows (official, sanction, decision date, document number) and, for the
//!   primary investigation concluded 不属实, a false-accusation finding.
//! - `POST /staff/investigations/{id}/conclude` calls `cases::investigations::conclude`, the
//!   function the API's `POST /investigations/{id}/conclude` calls.
//!
//! The bottom of this file holds the helpers the four section modules share (app data, names
//! of staff and officials, the refusal path).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use super::{CaseView, Failed, Section};
use crate::cases::investigations::{
    self as capability, ConcludeContext, ConcludeRequest, FalseAccusationRequest,
    InvestigationView, SanctionRequest, SanctionView,
};
use crate::cases::CasesState;
use crate::console::form::{FormData, Posted};
use crate::console::page::{self, PageError, Refusal};
use crate::console::session::Desk;
use crate::db::schema::{divisions, investigations, officials, users};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines;
use crate::domain::divisions::Level;
use crate::domain::investigation::{InvestigationKind, Outcome, SanctionCategory, SANCTION_TYPES};
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode};
use crate::web::zh;

/// Notices after this section's actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[
    ("conclusion_recorded", "调查结论已登记。"),
    (
        "investigations_all_concluded",
        "调查结论已登记。本案的调查均已办结，案件进入“调查终结”状态。",
    ),
];

/// Blank sanction rows offered below the filled ones.
const BLANK_SANCTION_ROWS: usize = 4;

/// The columns of a sanction row, in the order of [`SanctionRequest`].
const SANCTION_COLUMNS: [&str; 4] = ["s_official", "s_kind", "s_decided_on", "s_document"];

/// An option of a `<select>`.
pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub(super) fn new(value: impl Into<String>, label: impl Into<String>, chosen: &str) -> Choice {
        let value = value.into();
        Choice {
            selected: !value.is_empty() && value == chosen,
            value,
            label: label.into(),
        }
    }
}

/// A sanction as the section lists it.
struct SanctionLine {
    official_id: String,
    official: String,
    kind: String,
    decided_on: String,
    document_number: String,
}

/// A conclusion before a reopen.
struct EarlierLine {
    outcome: String,
    findings: String,
    concluded: String,
    reopened: String,
    reopen_reason: String,
    sanctions: Vec<SanctionLine>,
    false_accusation: Option<String>,
}

/// One sanction row of the conclusion form, filled in again after a refusal.
struct SanctionRowForm {
    /// 1, 2, 3 … (for labels and ids).
    n: usize,
    officials: Vec<Choice>,
    kinds: Vec<Choice>,
    decided_on: String,
    document_number: String,
    err_official: String,
    err_kind: String,
    err_decided_on: String,
    err_document: String,
}

/// The conclusion form of one open investigation.
struct ConcludeForm {
    action: String,
    /// Prefix of the ids of the form's fields (unique on the page).
    p: String,
    target: String,
    version: i32,
    outcomes: Vec<Choice>,
    findings: String,
    rows: Vec<SanctionRowForm>,
    /// The primary investigation: a false-accusation finding may come with 不属实.
    offers_false_accusation: bool,
    false_accusation: bool,
    false_accusation_reason: String,
    /// The refusal of this form, at its top.
    refusal: Option<String>,
    err_outcome: String,
    err_findings: String,
    err_sanctions: String,
    err_false_accusation: String,
    findings_max: usize,
}

/// One investigation as the section shows it.
struct Item {
    anchor: String,
    title: &'static str,
    target: String,
    officials: Vec<String>,
    assignee: String,
    due_on: String,
    overdue: bool,
    open: bool,
    outcome: String,
    findings: String,
    concluded: String,
    sanctions: Vec<SanctionLine>,
    false_accusation: Option<String>,
    earlier: Vec<EarlierLine>,
    form: Option<ConcludeForm>,
}

#[derive(Template)]
#[template(path = "console/sections/investigations.html")]
struct SectionHtml {
    csrf: String,
    items: Vec<Item>,
    filed: bool,
}

/// What the section needs from the database, read in one go.
struct Loaded {
    investigations: Vec<InvestigationView>,
    staff: HashMap<String, String>,
    officials: HashMap<String, OfficialLabel>,
    /// Active officials of each target division, for the sanction rows.
    of_division: HashMap<String, Vec<String>>,
    divisions: HashMap<String, String>,
}

/// An official as a select or a list names them.
#[derive(Clone)]
pub(super) struct OfficialLabel {
    pub name: String,
    pub post: String,
    pub active: bool,
}

impl OfficialLabel {
    pub(super) fn label(&self) -> String {
        if self.active {
            format!("{}（{}）", self.name, self.post)
        } else {
            format!("{}（{}，已离任）", self.name, self.post)
        }
    }
}

/// Chinese for an outcome.
pub(super) fn outcome_zh(outcome: &str) -> &'static str {
    match Outcome::parse(outcome) {
        Some(Outcome::Substantiated) => "属实",
        Some(Outcome::PartlySubstantiated) => "部分属实",
        Some(Outcome::Unsubstantiated) => "不属实",
        Some(Outcome::DutyFulfilled) => "已履行监督职责",
        Some(Outcome::DutyNotFulfilled) => "未履行监督职责",
        None => "",
    }
}

fn category_zh(category: SanctionCategory) -> &'static str {
    match category {
        SanctionCategory::Organisational => "组织处理",
        SanctionCategory::Party => "党纪处分",
        SanctionCategory::Government => "政务处分",
    }
}

/// `党纪处分：严重警告` for a category and type as served.
fn sanction_zh(category: &str, sanction_type: &str) -> String {
    SANCTION_TYPES
        .iter()
        .find(|(c, t, _)| c.as_str() == category && *t == sanction_type)
        .map(|(c, _, zh)| format!("{}：{zh}", category_zh(*c)))
        .unwrap_or_else(|| format!("{category}/{sanction_type}"))
}

/// Why an investigation has no assignee, in Chinese. The capability records the reason in
/// English (`cases::lifecycle`); the two reasons it gives are said here, anything else plainly.
fn assignment_note_zh(note: &str) -> &'static str {
    if note.starts_with("The case had no assignee") {
        "立案时案件尚未指派承办人，指派后主要调查由案件承办人负责"
    } else if note.starts_with("The case's team has no other active investigator") {
        "本组除主要调查承办人外没有其他在岗调查人员，请主管领导另行指派"
    } else {
        "请主管领导指派"
    }
}

/// Chinese for a division level.
pub(super) fn level_zh(level: &str) -> &'static str {
    match Level::parse(level) {
        Some(Level::Village) => "村级",
        Some(Level::Township) => "乡镇级",
        Some(Level::County) => "县级",
        None => "",
    }
}

/// A short, page-unique prefix for the ids of a form about `id`.
pub(super) fn short(id: &str) -> String {
    id.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect()
}

fn load(conn: &mut DbConnection, supervisor: bool, case_id: &str) -> Result<Loaded, ApiError> {
    let investigations = capability::investigations_of(conn, supervisor, case_id)?;
    let mut user_ids: Vec<&str> = Vec::new();
    let mut official_ids: Vec<&str> = Vec::new();
    let mut codes: Vec<&str> = Vec::new();
    for inv in &investigations {
        user_ids.extend(inv.assignee_id.as_deref());
        user_ids.extend(inv.concluded_by.as_deref());
        official_ids.extend(inv.official_ids.iter().map(String::as_str));
        official_ids.extend(inv.sanctions.iter().map(|s| s.official_id.as_str()));
        for c in &inv.earlier_conclusions {
            user_ids.push(c.concluded_by.as_str());
            user_ids.extend(c.reopened_by.as_deref());
            official_ids.extend(c.sanctions.iter().map(|s| s.official_id.as_str()));
        }
        codes.push(inv.target_division_code.as_str());
    }
    let staff = staff_names(conn, &user_ids)?;
    let mut officials = official_labels(conn, &official_ids)?;
    let mut of_division: HashMap<String, Vec<String>> = HashMap::new();
    let rows: Vec<(String, String, String, String, bool)> = officials::table
        .filter(officials::division_code.eq_any(&codes))
        .filter(officials::active.eq(true))
        .order((officials::division_code, officials::name, officials::id))
        .select((
            officials::id,
            officials::name,
            officials::post,
            officials::division_code,
            officials::active,
        ))
        .load(conn)?;
    for (id, name, post, division_code, active) in rows {
        of_division
            .entry(division_code.clone())
            .or_default()
            .push(id.clone());
        officials.insert(id, OfficialLabel { name, post, active });
    }
    let divisions = division_names(conn, &codes)?;
    Ok(Loaded {
        investigations,
        staff,
        officials,
        of_division,
        divisions,
    })
}

fn sanction_lines(
    sanctions: &[SanctionView],
    officials: &HashMap<String, OfficialLabel>,
) -> Vec<SanctionLine> {
    sanctions
        .iter()
        .map(|s| SanctionLine {
            official_id: s.official_id.clone(),
            official: officials
                .get(&s.official_id)
                .map(OfficialLabel::label)
                .unwrap_or_else(|| s.official_id.clone()),
            kind: sanction_zh(&s.category, &s.sanction_type),
            decided_on: zh::date(s.decided_on),
            document_number: s.document_number.clone(),
        })
        .collect()
}

/// The sanction kinds of the form: `category:type`, labelled in Chinese.
fn kind_choices(chosen: &str) -> Vec<Choice> {
    let mut out = vec![Choice::new("", "（请选择）", chosen)];
    out.extend(SANCTION_TYPES.iter().map(|(c, t, zh)| {
        Choice::new(
            format!("{}:{t}", c.as_str()),
            format!("{}：{zh}", category_zh(*c)),
            chosen,
        )
    }));
    out
}

fn conclude_form(
    inv: &InvestigationView,
    loaded: &Loaded,
    refused: Option<&Failed>,
) -> ConcludeForm {
    let kind = InvestigationKind::parse(&inv.kind).unwrap_or(InvestigationKind::Primary);
    // What was typed, when this form was the one refused.
    let typed = refused.filter(|f| f.form.get("target").as_deref() == Some(inv.id.as_str()));
    let refusal: Option<&Refusal> = typed.map(|f| &f.refusal);
    let err = |field: &str| -> String {
        refusal
            .and_then(|r| r.field(field))
            .unwrap_or_default()
            .to_string()
    };
    let value = |field: &str| -> String {
        typed
            .and_then(|f| f.form.raw(field))
            .unwrap_or_default()
            .to_string()
    };
    let chosen_outcome = value("outcome");
    let mut outcomes = vec![Choice::new("", "（请选择）", &chosen_outcome)];
    outcomes.extend(
        Outcome::for_kind(kind)
            .iter()
            .map(|o| Choice::new(o.as_str(), outcome_zh(o.as_str()), &chosen_outcome)),
    );
    // The officials a sanction may name: those of the target division, and for the primary
    // investigation the officials it looks into.
    let mut candidates: Vec<String> = loaded
        .of_division
        .get(&inv.target_division_code)
        .cloned()
        .unwrap_or_default();
    if kind == InvestigationKind::Primary {
        for id in &inv.official_ids {
            if !candidates.contains(id) {
                candidates.push(id.clone());
            }
        }
    }
    let typed_rows: Vec<Vec<String>> = typed
        .map(|f| f.form.rows(&SANCTION_COLUMNS))
        .unwrap_or_default();
    let blank = vec![String::new(); SANCTION_COLUMNS.len()];
    let rows = typed_rows
        .iter()
        .chain(std::iter::repeat_n(&blank, BLANK_SANCTION_ROWS))
        .enumerate()
        .map(|(i, row)| {
            let at = |f: &str| format!("sanctions[{i}].{f}");
            let mut officials = vec![Choice::new("", "（请选择）", &row[0])];
            officials.extend(candidates.iter().map(|id| {
                Choice::new(
                    id.clone(),
                    loaded
                        .officials
                        .get(id)
                        .map(OfficialLabel::label)
                        .unwrap_or_else(|| id.clone()),
                    &row[0],
                )
            }));
            let err_kind = [err(&at("category")), err(&at("type"))]
                .into_iter()
                .find(|e| !e.is_empty())
                .unwrap_or_default();
            SanctionRowForm {
                n: i + 1,
                officials,
                kinds: kind_choices(&row[1]),
                decided_on: row[2].clone(),
                document_number: row[3].clone(),
                err_official: err(&at("official_id")),
                err_kind,
                err_decided_on: err(&at("decided_on")),
                err_document: err(&at("document_number")),
            }
        })
        .collect();
    let err_false_accusation = [err("false_accusation"), err("false_accusation.reason")]
        .into_iter()
        .find(|e| !e.is_empty())
        .unwrap_or_default();
    ConcludeForm {
        action: format!("/staff/investigations/{}/conclude", inv.id),
        p: format!("c{}", short(&inv.id)),
        target: inv.id.clone(),
        version: inv.version,
        outcomes,
        findings: value("findings"),
        rows,
        offers_false_accusation: kind == InvestigationKind::Primary,
        false_accusation: typed.is_some_and(|f| f.form.checked("false_accusation")),
        false_accusation_reason: value("false_accusation_reason"),
        refusal: refusal.map(|r| r.message.clone()),
        err_outcome: err("outcome"),
        err_findings: err("findings"),
        err_sanctions: err("sanctions"),
        err_false_accusation,
        findings_max: capability::FINDINGS_MAX,
    }
}

/// This section of case `case`'s page, as HTML: the case's investigations for `desk`, with a
/// conclusion form on each open one when `desk` may work cases; `failed` (a refused conclusion)
/// fills its form in again with what was typed and the field messages.
///
/// Errors: a database failure (500 page).
pub async fn section(
    req: &HttpRequest,
    desk: &Desk,
    case: &CaseView,
    failed: Option<&Failed>,
) -> Result<String, PageError> {
    let pool = data::<DbPool>(req)?;
    let supervisor = capability::reads_false_accusations(&desk.viewer());
    let case_id = case.id.clone();
    let loaded = db::run(&pool, move |conn| load(conn, supervisor, &case_id)).await?;
    let today = deadlines::today_in_county(data::<CasesState>(req)?.clock.now());
    let refused = failed.filter(|f| f.section == Section::Investigations);
    let may_conclude = desk.can(Permission::WorkCases);
    let staff = |id: Option<&str>| -> String {
        id.map(|i| {
            loaded
                .staff
                .get(i)
                .cloned()
                .unwrap_or_else(|| i.to_string())
        })
        .unwrap_or_default()
    };
    let items = loaded
        .investigations
        .iter()
        .map(|inv| {
            let open = inv.status == "open";
            let kind = InvestigationKind::parse(&inv.kind);
            let division = loaded
                .divisions
                .get(&inv.target_division_code)
                .cloned()
                .unwrap_or_else(|| inv.target_division_code.clone());
            Item {
                anchor: format!("investigation-{}", short(&inv.id)),
                title: match kind {
                    Some(InvestigationKind::Accountability) => "问责调查（一案双查）",
                    _ => "主要调查",
                },
                target: format!("{division}（{}）", level_zh(&inv.target_level)),
                officials: inv
                    .official_ids
                    .iter()
                    .map(|id| {
                        loaded
                            .officials
                            .get(id)
                            .map(OfficialLabel::label)
                            .unwrap_or_else(|| id.clone())
                    })
                    .collect(),
                assignee: match (&inv.assignee_id, &inv.assignment_note) {
                    (Some(a), _) => staff(Some(a)),
                    (None, Some(note)) => format!("未指派（{}）", assignment_note_zh(note)),
                    (None, None) => "未指派".to_string(),
                },
                due_on: zh::date(inv.due_on),
                overdue: open && inv.due_on < today,
                open,
                outcome: inv
                    .outcome
                    .as_deref()
                    .map(outcome_zh)
                    .unwrap_or_default()
                    .to_string(),
                findings: inv.findings.clone().unwrap_or_default(),
                concluded: match (&inv.concluded_by, inv.concluded_at) {
                    (Some(by), Some(at)) => format!("{}，{}", staff(Some(by)), zh::time(at)),
                    _ => String::new(),
                },
                sanctions: sanction_lines(&inv.sanctions, &loaded.officials),
                false_accusation: inv
                    .false_accusation
                    .as_ref()
                    .filter(|_| supervisor)
                    .map(|f| f.reason.clone()),
                earlier: inv
                    .earlier_conclusions
                    .iter()
                    .map(|c| EarlierLine {
                        outcome: outcome_zh(&c.outcome).to_string(),
                        findings: c.findings.clone(),
                        concluded: format!(
                            "{}，{}",
                            staff(Some(&c.concluded_by)),
                            zh::time(c.concluded_at)
                        ),
                        reopened: match (&c.reopened_by, c.reopened_at) {
                            (Some(by), Some(at)) => {
                                format!("{}，{}", staff(Some(by)), zh::time(at))
                            }
                            _ => String::new(),
                        },
                        reopen_reason: c.reopen_reason.clone().unwrap_or_default(),
                        sanctions: sanction_lines(&c.sanctions, &loaded.officials),
                        false_accusation: c
                            .false_accusation
                            .as_ref()
                            .filter(|_| supervisor)
                            .map(|f| f.reason.clone()),
                    })
                    .collect(),
                form: (open && may_conclude).then(|| conclude_form(inv, &loaded, refused)),
            }
        })
        .collect();
    render(&SectionHtml {
        csrf: desk.csrf_token.clone(),
        items,
        filed: !case.investigations.is_empty()
            || CaseStatus::parse(&case.status).is_some_and(|s| {
                matches!(
                    s,
                    CaseStatus::Filed | CaseStatus::Concluded | CaseStatus::Closed
                )
            }),
    })
}

/// The request the conclusion form makes, as the API would receive it: sanction rows left
/// blank are dropped; the sanction select carries `category:type`.
fn conclude_request(form: &FormData) -> ConcludeRequest {
    let sanctions = form
        .rows(&SANCTION_COLUMNS)
        .into_iter()
        .map(|row| {
            let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
            let (category, sanction_type) = match row[1].split_once(':') {
                Some((c, t)) => (some(c), some(t)),
                None => (some(&row[1]), None),
            };
            SanctionRequest {
                official_id: some(&row[0]),
                category,
                sanction_type,
                decided_on: some(&row[2]),
                document_number: some(&row[3]),
            }
        })
        .collect();
    ConcludeRequest {
        outcome: form.get("outcome"),
        findings: form.get("findings"),
        sanctions,
        false_accusation: form
            .checked("false_accusation")
            .then(|| FalseAccusationRequest {
                reason: form.get("false_accusation_reason"),
            }),
        version: form.version(),
    }
}

/// `POST /staff/investigations/{id}/conclude`: concludes the investigation with the form's
/// outcome, findings, sanction rows and false-accusation finding, through
/// `cases::investigations::conclude` (investigators of the case's team and supervisors, as the
/// API). 303 to the case page; a refusal shows the case page again with the form filled in and
/// the API's status (422, 409).
async fn conclude(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::WorkCases)?;
    let id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let state = data::<CasesState>(&req)?;
    let lookup = id.clone();
    let case_id: String = db::run(&pool, move |conn| {
        Ok(investigations::table
            .find(&lookup)
            .select(investigations::case_id)
            .first::<String>(conn)
            .optional()?)
    })
    .await?
    .ok_or_else(PageError::not_found)?;
    let body = conclude_request(&form);
    let now = state.clock.now();
    let ctx = ConcludeContext {
        today: deadlines::today_in_county(now),
        now: state.clock.now_naive(),
        calendar: state.calendar.current(),
    };
    let (who, actor) = (desk.viewer(), desk.staff.actor());
    let done = db::run(&pool, move |conn| {
        Ok(capability::conclude(conn, &who, &actor, &id, &body, &ctx)?)
    })
    .await;
    match done {
        Ok((_, case)) => {
            let key = if case.status == CaseStatus::Concluded {
                "investigations_all_concluded"
            } else {
                "conclusion_recorded"
            };
            Ok(page::see_other(&super::after(
                &case_id,
                key,
                Section::Investigations,
            )))
        }
        Err(e) => refuse(&req, &desk, &case_id, Section::Investigations, e, form).await,
    }
}

/// Mounts `POST /staff/investigations/{id}/conclude`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/investigations/{id}/conclude").route(web::post().to(conclude)),
    );
}

// ---------- shared by the sections ----------

/// The app data `T` registered at startup.
///
/// Errors: 500 page when it is not registered (a wiring mistake).
pub(super) fn data<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, PageError> {
    req.app_data::<web::Data<T>>().cloned().ok_or_else(|| {
        PageError::unexpected(&format!("{} is not registered", std::any::type_name::<T>()))
    })
}

/// The display names of the staff members `ids` (unknown ids are absent). Staff names are shown
/// to staff only.
///
/// Errors: database errors.
pub(super) fn staff_names(
    conn: &mut DbConnection,
    ids: &[&str],
) -> QueryResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The officials `ids` with their names and posts (unknown ids are absent).
///
/// Errors: database errors.
pub(super) fn official_labels(
    conn: &mut DbConnection,
    ids: &[&str],
) -> QueryResult<HashMap<String, OfficialLabel>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(officials::table
        .filter(officials::id.eq_any(ids))
        .select((
            officials::id,
            officials::name,
            officials::post,
            officials::active,
        ))
        .load::<(String, String, String, bool)>(conn)?
        .into_iter()
        .map(|(id, name, post, active)| (id, OfficialLabel { name, post, active }))
        .collect())
}

/// The names of the divisions `codes` (unknown codes are absent).
///
/// Errors: database errors.
pub(super) fn division_names(
    conn: &mut DbConnection,
    codes: &[&str],
) -> QueryResult<HashMap<String, String>> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(divisions::table
        .filter(divisions::code.eq_any(codes))
        .select((divisions::code, divisions::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// A section's template rendered to a string.
///
/// Errors: a template failure (500 page, logged).
pub(super) fn render<T: Template>(t: &T) -> Result<String, PageError> {
    t.render().map_err(|e| PageError::unexpected(&e))
}

/// The answer to a refused action of `section` on case `case_id`: the case page again with the
/// refusal in the section and the form filled in, with the API's status. A refusal that is not
/// about the form (the case or item does not exist, or the user may not see it) is the whole
/// Chinese 404 or 403 page instead.
pub(super) async fn refuse(
    req: &HttpRequest,
    desk: &Desk,
    case_id: &str,
    section: Section,
    e: ApiError,
    form: FormData,
) -> Result<HttpResponse, PageError> {
    if e.status == StatusCode::NOT_FOUND
        || (e.status == StatusCode::FORBIDDEN && e.code == ErrorCode::Forbidden)
        || e.status.is_server_error()
    {
        return Err(PageError::from(e));
    }
    super::page::show_case(
        req,
        desk,
        case_id,
        Some(Failed {
            section,
            refusal: Refusal::from_api(&specific(e)),
            form,
        }),
    )
    .await
}

/// `e` with each field message that is only the general "此项填写有误" (or, for `must_be_empty`,
/// the public report form's sentence about anonymity) replaced by the console's sentence for the
/// field's code (`console::zh::problem`), e.g. "签字环节与干部的级别不符。".
fn specific(mut e: ApiError) -> ApiError {
    use crate::domain::violation::general_zh;
    let generic = general_zh(ErrorCode::Invalid);
    for v in &mut e.errors {
        if v.message_zh.is_empty()
            || v.message_zh == generic
            || (v.code == ErrorCode::MustBeEmpty && v.message_zh == general_zh(v.code))
        {
            v.message_zh = crate::console::zh::problem(v.code).to_string();
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_makes_the_api_request_without_blank_rows() {
        let form = FormData::parse(
            "target=i1&version=3&outcome=substantiated&findings=+%E7%BB%8F%E6%9F%A5%E5%B1%9E%E5%AE%9E+\
             &s_official=o1&s_kind=party%3Aserious_warning&s_decided_on=2026-11-20&s_document=%E5%AF%BB%E7%BA%AA1%E5%8F%B7\
             &s_official=&s_kind=&s_decided_on=&s_document=\
             &s_official=o2&s_kind=&s_decided_on=&s_document="
                .as_bytes(),
        );
        let body = conclude_request(&form);
        assert_eq!(body.outcome.as_deref(), Some("substantiated"));
        assert_eq!(body.findings.as_deref(), Some("经查属实"));
        assert_eq!(body.version, Some(3));
        assert!(body.false_accusation.is_none());
        assert_eq!(body.sanctions.len(), 2);
        assert_eq!(body.sanctions[0].category.as_deref(), Some("party"));
        assert_eq!(
            body.sanctions[0].sanction_type.as_deref(),
            Some("serious_warning")
        );
        assert_eq!(
            body.sanctions[0].document_number.as_deref(),
            Some("寻纪1号")
        );
        // A row with only an official is sent as it is: the capability names what is missing.
        assert_eq!(body.sanctions[1].official_id.as_deref(), Some("o2"));
        assert!(body.sanctions[1].category.is_none());
    }

    #[test]
    fn a_false_accusation_is_sent_only_when_ticked() {
        let ticked = FormData::parse(
            "outcome=unsubstantiated&false_accusation=1&false_accusation_reason=x".as_bytes(),
        );
        let body = conclude_request(&ticked);
        assert_eq!(
            body.false_accusation.and_then(|f| f.reason).as_deref(),
            Some("x")
        );
        let unticked =
            FormData::parse("outcome=unsubstantiated&false_accusation_reason=x".as_bytes());
        assert!(conclude_request(&unticked).false_accusation.is_none());
    }

    #[test]
    fn field_messages_say_what_is_wrong_in_the_console_s_words() {
        let e = ApiError::validation(vec![
            crate::error::FieldViolation::new(
                "signers[0].stage",
                ErrorCode::StageLevelMismatch,
                "x",
            ),
            crate::error::FieldViolation::new("findings", ErrorCode::Required, "x"),
            crate::error::FieldViolation::new("amount_fen", ErrorCode::OverRecovery, "x")
                .zh("追回金额超过了尚未追回的金额。"),
        ]);
        let r = Refusal::from_api(&specific(e));
        assert_eq!(
            r.field("signers[0].stage"),
            Some("签字环节与干部的级别不符。")
        );
        assert_eq!(r.field("findings"), Some("此项必须填写。"));
        assert_eq!(
            r.field("amount_fen"),
            Some("追回金额超过了尚未追回的金额。")
        );
    }

    #[test]
    fn every_sanction_type_has_a_chinese_name_with_its_category() {
        assert_eq!(sanction_zh("party", "warning"), "党纪处分：警告");
        assert_eq!(sanction_zh("government", "warning"), "政务处分：警告");
        assert_eq!(kind_choices("").len(), SANCTION_TYPES.len() + 1);
        assert!(kind_choices("party:probation")
            .iter()
            .any(|c| c.selected && c.label == "党纪处分：留党察看"));
    }
}
