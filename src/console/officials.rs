//! 责任追究 (`/staff/officials`, issue 13): the officials on record and, for one of them, the
//! cases that touch them, the sanctions the investigations' conclusions decided, and their
//! responsibility for clawbacks as a signer (谁签字谁负责; SPEC.md → "Clawbacks", "Outcomes").
//!
//! Who sees what follows the API:
//! - readers of cases (`Permission::ReadCases`: investigators, supervisors, auditors) read the
//!   officials list (`GET /officials`), an official (`GET /officials/{id}`), and the cases and
//!   sanctions touching them — an investigator only those of their own teams' cases
//!   (`cases::record::official_record`);
//! - readers of clawbacks (`Permission::ReadClawbacks`: also benefits officers) read a signer's
//!   responsibility (`GET /officials/{id}/responsibility`, `clawbacks::view::responsibility`),
//!   county-wide, and as CSV. A benefits officer, who may not list officials in the API, finds
//!   here the officials who signed a clawback (as the clawbacks they read name them).
//!
//! Case numbers link to the case page only for a reader who may open that case.
//!
//! - `GET /staff/officials?name=&division=&level=`: the list, searched by name (any part) and
//!   division (a township: its own officials and its villages').
//! - `GET /staff/officials/{id}`: one official.
//! - `GET /staff/officials/{id}/responsibility.csv`: the responsibility as the API's CSV.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::page::{self, PageError, Shell};
use super::session::Desk;
use crate::cases::record::{self, Touch};
use crate::clawbacks::view::{self as claw_view, Responsibility};
use crate::clawbacks::ClawbacksState;
use crate::db::schema::clawback_signers;
use crate::db::{self, DbConnection, DbPool};
use crate::divisions::officials::{self, Official};
use crate::divisions::{self, Division};
use crate::domain::case_status::CaseStatus;
use crate::domain::clawback::{ClawbackStatus, SignerStage};
use crate::domain::divisions::Level;
use crate::domain::investigation::{InvestigationKind, SanctionCategory, SANCTION_TYPES};
use crate::domain::permissions::Permission;
use crate::domain::report::Programme;
use crate::error::ApiError;

/// The area's link in the navigation.
pub const AREA: &str = "/staff/officials";
/// The most officials read for one search (a county has a few thousand at most).
const READ_MAX: i64 = 20_000;
/// The most officials one page lists.
const SHOWN_MAX: usize = 200;

/// Mounts the area's pages.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource(AREA).route(web::get().to(list)))
        .service(
            web::resource("/staff/officials/{id}/responsibility.csv")
                .route(web::get().to(responsibility_csv)),
        )
        .service(web::resource("/staff/officials/{id}").route(web::get().to(official)));
}

const READERS: [Permission; 2] = [Permission::ReadCases, Permission::ReadClawbacks];

/// `村`, `乡镇`, `县` for a level as served.
pub fn level_zh(level: &str) -> &'static str {
    match Level::parse(level) {
        Some(Level::Village) => "村",
        Some(Level::Township) => "乡镇",
        Some(Level::County) => "县",
        None => "",
    }
}

/// A case status in the words staff use.
pub fn case_status_zh(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Registered => "已受理",
        CaseStatus::Inquiry => "谈话函询",
        CaseStatus::PreliminaryVerification => "初步核实",
        CaseStatus::OnHold => "暂存待查",
        CaseStatus::FilingRequested => "待批准立案",
        CaseStatus::Filed => "已立案",
        CaseStatus::Concluded => "调查已结束",
        CaseStatus::Closed => "已办结",
        CaseStatus::ClosedWithoutAction => "予以了结",
    }
}

fn touch_zh(t: Touch) -> &'static str {
    match t {
        Touch::Accused => "被反映人",
        Touch::Investigated(InvestigationKind::Primary) => "调查对象",
        Touch::Investigated(InvestigationKind::Accountability) => "一案双查问责对象",
        Touch::Sanctioned => "受到处分",
        Touch::Signer => "追回事项签字人",
    }
}

fn category_zh(c: SanctionCategory) -> &'static str {
    match c {
        SanctionCategory::Organisational => "组织处理",
        SanctionCategory::Party => "党纪处分",
        SanctionCategory::Government => "政务处分",
    }
}

fn sanction_type_zh(c: SanctionCategory, t: &str) -> String {
    SANCTION_TYPES
        .iter()
        .find(|(cat, name, _)| *cat == c && *name == t)
        .map(|(_, _, zh)| zh.to_string())
        .unwrap_or_else(|| t.to_string())
}

fn programme_zh(p: &str) -> String {
    Programme::parse(p)
        .map(|p| p.label_zh().to_string())
        .unwrap_or_else(|| p.to_string())
}

// ---------- the list ----------

/// `?name=&division=&level=` of the list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub name: Option<String>,
    pub division: Option<String>,
    pub level: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct OfficialLine {
    pub href: String,
    pub name: String,
    pub post: String,
    pub division: String,
    pub division_code: String,
    pub level: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "console/officials/list.html")]
struct ListPage {
    shell: Shell,
    name: String,
    divisions: Vec<Choice>,
    levels: Vec<Choice>,
    officials: Vec<OfficialLine>,
    /// How many matched (more than are listed when over [`SHOWN_MAX`]).
    matched: usize,
    /// Only the signers of clawbacks are listed (a reader of clawbacks, not of cases).
    signers_only: bool,
    searched: bool,
}

/// The county and its townships, for the division choice.
fn division_choices(conn: &mut DbConnection, selected: &str) -> QueryResult<Vec<Choice>> {
    let mut out = Vec::new();
    for county in divisions::children(conn, None)? {
        for d in std::iter::once(county.clone()).chain(
            divisions::children(conn, Some(&county.code))?
                .into_iter()
                .filter(|t: &Division| t.level == "township"),
        ) {
            out.push(Choice {
                selected: d.code == selected,
                label: if d.level == "county" {
                    format!("{}（全县）", d.name)
                } else {
                    d.name.clone()
                },
                value: d.code,
            });
        }
    }
    Ok(out)
}

/// The officials who signed a clawback.
fn signer_ids(conn: &mut DbConnection) -> QueryResult<HashSet<String>> {
    Ok(clawback_signers::table
        .select(clawback_signers::official_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// `GET /staff/officials`.
pub async fn list(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    desk.require_any(&READERS)?;
    let query = query.into_inner();
    let name = query
        .name
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let division = query
        .division
        .as_deref()
        .map(crate::domain::text::compact_code)
        .unwrap_or_default();
    let level_text = query
        .level
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let level = Level::parse(&level_text);
    let signers_only = !desk.can(Permission::ReadCases);
    let selected = division.clone();
    let (found, choices) = db::run(&pool, move |conn| {
        let filter = officials::Filter {
            level,
            ..Default::default()
        };
        let mut found = officials::list(conn, &filter, READ_MAX)?;
        if signers_only {
            let signers = signer_ids(conn)?;
            found.retain(|o| signers.contains(&o.id));
        }
        Ok((found, division_choices(conn, &selected)?))
    })
    .await?;
    let needle = name.to_lowercase();
    let matched: Vec<Official> = found
        .into_iter()
        .filter(|o| needle.is_empty() || o.name.to_lowercase().contains(&needle))
        .filter(|o| division.is_empty() || o.division_code.starts_with(&division))
        .collect();
    let count = matched.len();
    let officials = matched
        .into_iter()
        .take(SHOWN_MAX)
        .map(|o| OfficialLine {
            href: format!("{AREA}/{}", o.id),
            level: level_zh(&o.level),
            name: o.name,
            post: o.post,
            division: o.division_name,
            division_code: o.division_code,
            active: o.active,
        })
        .collect();
    let levels = [("village", "村"), ("township", "乡镇"), ("county", "县")]
        .into_iter()
        .map(|(v, l)| Choice {
            value: v.into(),
            label: l.into(),
            selected: level.is_some_and(|x| x.as_str() == v),
        })
        .collect();
    let searched = !name.is_empty() || !division.is_empty() || level.is_some();
    let page = ListPage {
        shell: desk.shell(AREA, "责任追究"),
        name,
        divisions: choices,
        levels,
        officials,
        matched: count,
        signers_only,
        searched,
    };
    Ok(page::render(StatusCode::OK, &page))
}

// ---------- one official ----------

/// A case number, linked when the reader may open the case.
pub struct CaseRef {
    pub number: String,
    pub href: Option<String>,
}

pub struct CaseLine {
    pub case: CaseRef,
    pub status: &'static str,
    pub programme: String,
    pub place: String,
    pub touches: Vec<&'static str>,
}

pub struct SanctionLine {
    pub case: CaseRef,
    pub investigation: &'static str,
    pub category: &'static str,
    pub kind: String,
    pub decided_on: String,
    pub document_number: String,
    pub reopened: bool,
}

pub struct ClawbackLine {
    pub case: CaseRef,
    pub programme: String,
    pub place: String,
    pub stage: &'static str,
    pub signed_on: String,
    pub status: &'static str,
    pub due_on: String,
    pub overdue: bool,
    pub due: String,
    pub recovered: String,
    pub written_off: String,
    pub outstanding: String,
}

/// The responsibility's totals, as money.
pub struct Totals {
    pub signed: i64,
    pub due: String,
    pub recovered: String,
    pub written_off: String,
    pub outstanding: String,
    pub overdue: String,
}

#[derive(Template)]
#[template(path = "console/officials/official.html")]
struct OfficialPage {
    shell: Shell,
    id: String,
    name: String,
    post: String,
    level: &'static str,
    division: String,
    division_code: String,
    /// `None` when the reader does not read the officials register (active or not unknown).
    active: Option<bool>,
    /// `None`: the reader does not read cases (the sections are not shown).
    cases: Option<Vec<CaseLine>>,
    sanctions: Option<Vec<SanctionLine>>,
    /// The reader sees only their own teams' cases (an investigator).
    own_teams_only: bool,
    /// `None`: the reader does not read clawbacks.
    totals: Option<Totals>,
    clawbacks: Vec<ClawbackLine>,
    today: String,
}

/// What the page reads, in one connection.
struct Read {
    official: Option<Official>,
    record: Option<record::OfficialRecord>,
    responsibility: Option<Responsibility>,
    names: HashMap<String, String>,
    openable: HashSet<String>,
}

fn read(
    conn: &mut DbConnection,
    viewer: Option<&crate::cases::Viewer>,
    reads_clawbacks: bool,
    id: &str,
    today: NaiveDate,
) -> Result<Read, ApiError> {
    let (official, record) = match viewer {
        Some(v) => {
            let official = officials::find(conn, id)?
                .ok_or_else(|| ApiError::not_found("No official has this id."))?;
            let record = record::official_record(conn, v, &official.id)?;
            (Some(official), Some(record))
        }
        None => (None, None),
    };
    let responsibility = if reads_clawbacks {
        Some(claw_view::responsibility(conn, id, today)?)
    } else {
        None
    };
    let mut codes: Vec<String> = Vec::new();
    if let Some(o) = &official {
        codes.push(o.division_code.clone());
    }
    if let Some(r) = &record {
        for c in &r.cases {
            codes.push(c.township_code.clone());
            codes.push(c.village_code.clone());
        }
    }
    if let Some(r) = &responsibility {
        codes.push(r.division_code.clone());
        for c in &r.clawbacks {
            codes.push(c.township_code.clone());
            codes.push(c.village_code.clone());
        }
    }
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let names = divisions::find_many(conn, &refs)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let openable = match (viewer, &responsibility) {
        (Some(v), Some(r)) => {
            let ids: Vec<&str> = r.clawbacks.iter().map(|c| c.case_id.as_str()).collect();
            record::visible_ids(conn, v, &ids)?
        }
        _ => HashSet::new(),
    };
    Ok(Read {
        official,
        record,
        responsibility,
        names,
        openable,
    })
}

fn case_ref(id: &str, number: &str, open: bool) -> CaseRef {
    CaseRef {
        number: number.to_string(),
        href: open.then(|| format!("/staff/cases/{id}")),
    }
}

/// `GET /staff/officials/{id}`.
pub async fn official(
    desk: Desk,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, PageError> {
    desk.require_any(&READERS)?;
    let id = id.into_inner();
    let today = crate::domain::deadlines::today_in_county(state.clock.now());
    let viewer = desk.can(Permission::ReadCases).then(|| desk.viewer());
    let own_teams_only = viewer.as_ref().is_some_and(|v| !v.sees_all());
    let reads_clawbacks = desk.can(Permission::ReadClawbacks);
    let wanted = id.clone();
    let found = db::run(&pool, move |conn| {
        read(conn, viewer.as_ref(), reads_clawbacks, &wanted, today)
    })
    .await?;
    let name_of = |code: &str| found.names.get(code).cloned().unwrap_or_default();
    let place = |township: &str, village: &str| {
        let (t, v) = (name_of(township), name_of(village));
        if v.is_empty() {
            t
        } else {
            format!("{t}{v}")
        }
    };

    let (name, post, level, division_code, active) = match (&found.official, &found.responsibility)
    {
        (Some(o), _) => (
            o.name.clone(),
            o.post.clone(),
            o.level.clone(),
            o.division_code.clone(),
            Some(o.active),
        ),
        (None, Some(r)) => (
            r.name.clone(),
            r.post.clone(),
            r.level.clone(),
            r.division_code.clone(),
            None,
        ),
        (None, None) => return Err(PageError::not_found()),
    };

    let cases = found.record.as_ref().map(|r| {
        r.cases
            .iter()
            .map(|c| CaseLine {
                case: case_ref(&c.case_id, &c.number, true),
                status: case_status_zh(c.status),
                programme: c.programme.label_zh().to_string(),
                place: place(&c.township_code, &c.village_code),
                touches: c.touches.iter().map(|t| touch_zh(*t)).collect(),
            })
            .collect()
    });
    let sanctions = found.record.as_ref().map(|r| {
        r.sanctions
            .iter()
            .map(|s| SanctionLine {
                case: case_ref(&s.case_id, &s.case_number, true),
                investigation: match s.investigation_kind {
                    InvestigationKind::Primary => "主体调查",
                    InvestigationKind::Accountability => "一案双查问责调查",
                },
                category: category_zh(s.category),
                kind: sanction_type_zh(s.category, &s.sanction_type),
                decided_on: crate::web::zh::date(s.decided_on),
                document_number: s.document_number.clone(),
                reopened: s.reopened,
            })
            .collect()
    });
    let (totals, clawbacks) = match &found.responsibility {
        None => (None, Vec::new()),
        Some(r) => (
            Some(Totals {
                signed: r.clawbacks_signed,
                due: r.due_fen.to_string(),
                recovered: r.recovered_fen.to_string(),
                written_off: r.written_off_fen.to_string(),
                outstanding: r.outstanding_fen.to_string(),
                overdue: r.overdue_fen.to_string(),
            }),
            r.clawbacks
                .iter()
                .map(|c| ClawbackLine {
                    case: case_ref(
                        &c.case_id,
                        &c.case_number,
                        found.openable.contains(&c.case_id),
                    ),
                    programme: programme_zh(&c.programme),
                    place: place(&c.township_code, &c.village_code),
                    stage: SignerStage::parse(&c.stage)
                        .map(|s| s.label_zh())
                        .unwrap_or(""),
                    signed_on: crate::web::zh::date(c.signed_on),
                    status: ClawbackStatus::parse(&c.status)
                        .map(|s| s.label_zh())
                        .unwrap_or(""),
                    due_on: crate::web::zh::date(c.due_on),
                    overdue: c.overdue,
                    due: c.amount_due_fen.to_string(),
                    recovered: c.recovered_fen.to_string(),
                    written_off: c.written_off_fen.to_string(),
                    outstanding: c.outstanding_fen.to_string(),
                })
                .collect(),
        ),
    };
    let page = OfficialPage {
        shell: desk.shell(AREA, format!("{name}（{post}）")),
        id,
        level: level_zh(&level),
        division: name_of(&division_code),
        division_code,
        name,
        post,
        active,
        cases,
        sanctions,
        own_teams_only,
        totals,
        clawbacks,
        today: crate::web::zh::date(today),
    };
    Ok(page::render(StatusCode::OK, &page))
}

/// `GET /staff/officials/{id}/responsibility.csv` (`Permission::ReadClawbacks`): the API's CSV
/// of the signer's responsibility (`clawbacks::export::responsibility_csv`).
pub async fn responsibility_csv(
    desk: Desk,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<ClawbacksState>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::ReadClawbacks)?;
    let (id, today) = (
        id.into_inner(),
        crate::domain::deadlines::today_in_county(state.clock.now()),
    );
    let (official, bytes) = db::run(&pool, move |conn| {
        let r = claw_view::responsibility(conn, &id, today)?;
        let bytes = crate::clawbacks::export::responsibility_csv(conn, &r)?;
        Ok((r.official_id, bytes))
    })
    .await?;
    Ok(crate::http::csv::response(
        &format!("responsibility-{official}-{today}.csv"),
        bytes,
    ))
}
