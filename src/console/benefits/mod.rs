//! 暂停与发放核查 (`/staff/suspensions`, issue 13): the villages whose agriculture-related
//! preferential policies are suspended (SPEC.md rule 4 and "Suspensions"), and the
//! benefit-status lookup a benefits officer makes before a payment.
//!
//! - `GET /staff/suspensions` (`Permission::ReadBenefitStatus`: every staff role): the
//!   suspensions in force, then the lifted ones, each with its village and township, what is
//!   suspended, since when, when lifted, and its filed cases (linked to the case page for those
//!   who may open it); and the lookup form: a village (code, or chosen from the township →
//!   village list) on a county day (today by default). The answer comes from the same
//!   capability as `GET /villages/{code}/benefit-status`
//!   (`suspensions::routes::village_status_at`), said in Chinese: suspended or not, since
//!   when, which policies, and which cases' 整改 (remediation) still keeps it suspended.
//! - `POST /staff/suspensions/batch` (the same permission; multipart, CSRF-checked): a CSV file
//!   of village codes answered as a CSV download, through the batch endpoint's capability
//!   (`check_batch`, `answer_batch`; see [`batch`]).
//!
//! The lists page through the API's own list (`suspensions::routes::list_periods`) with its
//! cursors.

pub mod batch;

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;
use serde::Deserialize;

use super::page::{self, FieldMessage, PageError, Refusal, Shell};
use super::session::Desk;
use crate::cases::{record, Viewer};
use crate::db::{self, DbConnection, DbPool};
use crate::divisions::{self, Division};
use crate::domain::benefit_status::{At, POLICIES};
use crate::domain::permissions::Permission;
use crate::domain::remediation::ItemStatus;
use crate::error::{ApiError, ErrorCode};
use crate::suspensions::models::SuspensionPeriodRow;
use crate::suspensions::periods::{self, VillagePeriods};
use crate::suspensions::routes::{self as status_api, BenefitStatus, ListQuery, BATCH_MAX};
use crate::suspensions::SuspensionsState;

/// The area's link in the navigation.
pub const AREA: &str = "/staff/suspensions";
/// Suspensions per page, in force and lifted alike.
const PAGE_ROWS: i64 = 50;
/// What a suspension covers, in words a county official reads.
pub const POLICIES_ZH: &str = "全部涉农优惠政策（低保、农村危旧土坯房改造补助、扶贫资金等）";

/// Mounts the area's pages.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource(AREA).route(web::get().to(page)))
        .service(web::resource("/staff/suspensions/batch").route(web::post().to(batch::upload)));
}

/// `?code=&village=&on=&current=&lifted=` of the page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// A village code as typed (wins over `village`).
    pub code: Option<String>,
    /// A village code chosen from the list.
    pub village: Option<String>,
    /// The county day asked; absent: today; blank: now.
    pub on: Option<String>,
    /// The cursor of the page of suspensions in force.
    pub current: Option<String>,
    /// The cursor of the page of lifted suspensions.
    pub lifted: Option<String>,
}

/// A case number, with the case page's link when the reader may open it.
#[derive(Debug, Clone)]
pub struct CaseLink {
    pub number: String,
    pub href: Option<String>,
}

/// One suspension of the lists.
pub struct Row {
    pub township: String,
    pub village: String,
    pub village_code: String,
    /// County time.
    pub since: String,
    /// County time; `None` while in force.
    pub lifted: Option<String>,
    pub cases: Vec<CaseLink>,
}

/// One remediation item still to be verified.
pub struct ItemLine {
    pub description: String,
    pub unit: String,
    pub due: String,
    pub status: &'static str,
    pub overdue: bool,
}

/// A filed case that keeps the village suspended, with its plan's remaining items when the
/// reader may read the case.
pub struct Blocking {
    pub case: CaseLink,
    /// `None`: the reader may not read the case's plan.
    pub items: Option<Vec<ItemLine>>,
}

/// The lookup's answer, in Chinese.
pub struct Answer {
    pub village: String,
    pub village_code: String,
    pub township: String,
    /// `2026年11月30日（星期一）`, or `此刻（…）` for now.
    pub when: String,
    pub suspended: bool,
    pub since: String,
    pub lifted: Option<String>,
    /// The suspension is still in force now (remediation remains).
    pub in_force: bool,
    pub blocking: Vec<Blocking>,
}

pub struct PlaceOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct PlaceGroup {
    pub label: String,
    pub options: Vec<PlaceOption>,
}

#[derive(Template)]
#[template(path = "console/benefits/suspensions.html")]
struct SuspensionsPage {
    shell: Shell,
    code: String,
    on: String,
    places: Vec<PlaceGroup>,
    answer: Option<Answer>,
    current: Vec<Row>,
    current_next: Option<String>,
    lifted: Vec<Row>,
    lifted_next: Option<String>,
    /// The first page of each list is shown (a link back to it otherwise).
    paged: bool,
    batch_on: String,
    batch_max: usize,
    /// What a suspension covers, as the status API names it.
    policy_name: &'static str,
    /// The same, with the programmes named.
    policies: &'static str,
}

/// `2026-11-30 10:00`: instant `t` in county time (UTC+8), for CSV cells.
pub fn county_minute(t: chrono::DateTime<chrono::Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(crate::domain::schedule::COUNTY_UTC_OFFSET_SECS)
        .expect("UTC+8 is a valid offset");
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The county day of instant `t` (UTC).
fn county_day(t: NaiveDateTime) -> NaiveDate {
    crate::domain::schedule::county_date(t.and_utc())
}

fn item_status_zh(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Open => "待整改",
        ItemStatus::Submitted => "已提交，待验收",
        ItemStatus::Rejected => "验收未通过，待重新提交",
        ItemStatus::Verified => "已验收",
    }
}

/// The township of each village among `codes`: its name, by village code.
fn townships_of(conn: &mut DbConnection, codes: &[&str]) -> QueryResult<HashMap<String, String>> {
    let villages = divisions::find_many(conn, codes)?;
    let parents: Vec<&str> = villages
        .iter()
        .filter_map(|v| v.parent_code.as_deref())
        .collect();
    let names: HashMap<String, String> = divisions::find_many(conn, &parents)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    Ok(villages
        .into_iter()
        .filter_map(|v| {
            let name = names.get(v.parent_code.as_deref()?)?.clone();
            Some((v.code, name))
        })
        .collect())
}

/// Villages grouped by township, for the one `<select>` (as the public report form has it).
pub fn load_places(conn: &mut DbConnection, selected: &str) -> QueryResult<Vec<PlaceGroup>> {
    let counties = divisions::children(conn, None)?;
    let several = counties.len() > 1;
    let mut groups = Vec::new();
    for county in counties {
        for township in divisions::children(conn, Some(&county.code))? {
            if township.level != "township" {
                continue;
            }
            let options: Vec<PlaceOption> = divisions::children(conn, Some(&township.code))?
                .into_iter()
                .filter(|v: &Division| v.level == "village")
                .map(|v| PlaceOption {
                    selected: v.code == selected,
                    value: v.code,
                    label: v.name,
                })
                .collect();
            if options.is_empty() {
                continue;
            }
            groups.push(PlaceGroup {
                label: if several {
                    format!("{} {}", county.name, township.name)
                } else {
                    township.name
                },
                options,
            });
        }
    }
    Ok(groups)
}

/// What the lists read, in one connection.
struct Lists {
    current: Vec<(SuspensionPeriodRow, String)>,
    current_next: Option<String>,
    lifted: Vec<(SuspensionPeriodRow, String)>,
    lifted_next: Option<String>,
    townships: HashMap<String, String>,
    openable: HashSet<String>,
    places: Vec<PlaceGroup>,
}

/// A page of each list from its cursor, the villages' townships, the cases `viewer` (a reader
/// of cases) may open, and the village list of the lookup form.
///
/// Errors: 422 naming `cursor` (a cursor not from a previous page); database errors.
fn load_lists(
    conn: &mut DbConnection,
    viewer: Option<&Viewer>,
    current: Option<String>,
    lifted: Option<String>,
    selected: &str,
) -> Result<Lists, ApiError> {
    let mut list = |active: bool, cursor: Option<String>| {
        let request = ListQuery {
            active: Some(active),
            limit: Some(PAGE_ROWS),
            cursor: cursor.filter(|c| !c.is_empty()),
        }
        .check(false)?;
        let rows = status_api::list_periods(conn, &request)?;
        let next = status_api::next_cursor(&rows, PAGE_ROWS);
        Ok::<_, ApiError>((rows, next))
    };
    let (current, current_next) = list(true, current)?;
    let (lifted, lifted_next) = list(false, lifted)?;
    let codes: Vec<&str> = current
        .iter()
        .chain(lifted.iter())
        .map(|(row, _)| row.village_code.as_str())
        .collect();
    let townships = townships_of(conn, &codes)?;
    let openable = match viewer {
        None => HashSet::new(),
        Some(v) => {
            let ids: Vec<String> = current
                .iter()
                .chain(lifted.iter())
                .flat_map(|(row, _)| periods::to_period(row).cases)
                .map(|c| c.case_id)
                .collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            record::visible_ids(conn, v, &ids)?
        }
    };
    let places = load_places(conn, selected)?;
    Ok(Lists {
        current,
        current_next,
        lifted,
        lifted_next,
        townships,
        openable,
        places,
    })
}

/// The status of village `code` at `at` (the status API's capability), its township's name,
/// and the cases that keep it suspended.
///
/// Errors: 404 `unknown_village`; database errors.
fn look_up(
    conn: &mut DbConnection,
    viewer: Option<&Viewer>,
    code: &str,
    at: At,
    on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(BenefitStatus, String, Vec<Blocking>), ApiError> {
    let (status, found) = status_api::village_status_at(conn, code, at, on)?;
    let blocking = blocking_cases(conn, viewer, &status, &found, today)?;
    let township = townships_of(conn, &[status.village_code.as_str()])?
        .remove(&status.village_code)
        .unwrap_or_default();
    Ok((status, township, blocking))
}

/// The cases that keep the village suspended now, each with its plan's items not yet verified
/// when `viewer` (a reader of cases) may read the case (`remediation::plan_of`).
fn blocking_cases(
    conn: &mut DbConnection,
    viewer: Option<&Viewer>,
    status: &BenefitStatus,
    found: &VillagePeriods,
    today: NaiveDate,
) -> Result<Vec<Blocking>, ApiError> {
    let Some(period) = found
        .periods
        .iter()
        .find(|p| Some(&p.suspension_id) == status.suspension_id.as_ref())
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for number in &status.blocking_cases {
        let Some(case) = period.cases.iter().find(|c| &c.number == number) else {
            continue;
        };
        let (href, items) = match viewer {
            None => (None, None),
            Some(v) => match crate::remediation::plan_of(conn, v, &case.case_id, today) {
                Ok(plan) => (
                    Some(format!("/staff/cases/{}", case.case_id)),
                    Some(
                        plan.items
                            .into_iter()
                            .filter(|i| i.status != ItemStatus::Verified.as_str())
                            .map(|i| ItemLine {
                                status: ItemStatus::parse(&i.status)
                                    .map(item_status_zh)
                                    .unwrap_or("待整改"),
                                description: i.description,
                                unit: i.responsible_unit,
                                due: crate::web::zh::date(i.due_on),
                                overdue: i.overdue,
                            })
                            .collect(),
                    ),
                ),
                Err(e) => match ApiError::from(e) {
                    // Another team's case: its number only, as the status API gives it.
                    e if e.status == StatusCode::FORBIDDEN => (None, None),
                    e => return Err(e),
                },
            },
        };
        out.push(Blocking {
            case: CaseLink {
                number: number.clone(),
                href,
            },
            items,
        });
    }
    Ok(out)
}

fn link(query: &PageQuery, current: Option<&str>, lifted: Option<&str>) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("code", query.code.as_deref()),
        ("village", query.village.as_deref()),
        ("on", query.on.as_deref()),
        ("current", current),
        ("lifted", lifted),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            pairs.append_pair(k, v);
        }
    }
    let q = pairs.finish();
    if q.is_empty() {
        AREA.to_string()
    } else {
        format!("{AREA}?{q}")
    }
}

fn rows(
    rows: &[(SuspensionPeriodRow, String)],
    townships: &HashMap<String, String>,
    openable: &HashSet<String>,
) -> Vec<Row> {
    rows.iter()
        .map(|(row, name)| {
            let period = periods::to_period(row);
            Row {
                township: townships
                    .get(&row.village_code)
                    .cloned()
                    .unwrap_or_default(),
                village: name.clone(),
                village_code: row.village_code.clone(),
                since: crate::web::zh::time(row.started_at.and_utc()),
                lifted: row.lifted_at.map(|t| crate::web::zh::time(t.and_utc())),
                cases: period
                    .cases
                    .into_iter()
                    .map(|c| CaseLink {
                        href: openable
                            .contains(&c.case_id)
                            .then(|| format!("/staff/cases/{}", c.case_id)),
                        number: c.number,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The page as `desk` sees it for `query`, showing `refusal` (of a batch upload) when there
/// is one; a refused lookup or cursor shows its own. The status is the refusal's, else 200.
///
/// Errors: database failures (500 page).
pub async fn render(
    desk: &Desk,
    pool: &DbPool,
    state: &SuspensionsState,
    query: PageQuery,
    mut refusal: Option<Refusal>,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now_naive();
    let today = county_day(now);
    let viewer = desk.can(Permission::ReadCases).then(|| desk.viewer());
    let selected = query.village.clone().unwrap_or_default();
    let typed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    };
    let code = typed(&query.code).or_else(|| typed(&query.village));

    let mut answer = None;
    if let Some(code) = code {
        let found = match status_api::when_asked(query.on.as_deref(), now) {
            Err(e) => Err(e),
            Ok((at, on)) => {
                let viewer = viewer.clone();
                db::run(pool, move |conn| {
                    look_up(conn, viewer.as_ref(), &code, at, on, today)
                })
                .await
            }
        };
        match found {
            Ok(found) => answer = Some(found),
            Err(e) if e.status.is_client_error() => {
                let mut r = Refusal::from_api(&e);
                if e.code == ErrorCode::UnknownVillage {
                    r.fields.push(FieldMessage {
                        field: "code".into(),
                        message: "没有这个村代码。村代码是12位数字，也可以从列表中选择村。".into(),
                    });
                }
                refusal = Some(r);
            }
            Err(e) => return Err(e.into()),
        }
    }

    let lists = {
        let (viewer, selected) = (viewer.clone(), selected.clone());
        let (current, lifted) = (query.current.clone(), query.lifted.clone());
        db::run(pool, move |conn| {
            load_lists(conn, viewer.as_ref(), current, lifted, &selected)
        })
        .await
    };
    let (lists, paged) = match lists {
        Ok(lists) => (
            lists,
            typed(&query.current).is_some() || typed(&query.lifted).is_some(),
        ),
        // A cursor not from a previous page: the first pages, and the refusal.
        Err(e) if e.status.is_client_error() => {
            refusal = Some(Refusal::from_api(&e));
            let viewer = viewer.clone();
            let lists = db::run(pool, move |conn| {
                load_lists(conn, viewer.as_ref(), None, None, &selected)
            })
            .await?;
            (lists, false)
        }
        Err(e) => return Err(e.into()),
    };

    let answer = answer.map(|(status, township, blocking)| Answer {
        township,
        when: match status.on {
            Some(day) => crate::web::zh::date(day),
            None => format!("此刻（{}）", crate::web::zh::time(now.and_utc())),
        },
        suspended: status.suspended,
        since: status.since.map(crate::web::zh::time).unwrap_or_default(),
        in_force: status.suspended && status.lifted_at.is_none(),
        lifted: status.lifted_at.map(crate::web::zh::time),
        village: status.village_name,
        village_code: status.village_code,
        blocking,
    });
    let current = rows(&lists.current, &lists.townships, &lists.openable);
    let lifted = rows(&lists.lifted, &lists.townships, &lists.openable);
    let page = SuspensionsPage {
        shell: desk.shell(AREA, "暂停与发放核查").with_refusal(refusal),
        code: query.code.clone().unwrap_or_default(),
        on: query.on.clone().unwrap_or_else(|| today.to_string()),
        places: lists.places,
        answer,
        current_next: lists
            .current_next
            .map(|c| link(&query, Some(&c), query.lifted.as_deref())),
        lifted_next: lists
            .lifted_next
            .map(|c| link(&query, query.current.as_deref(), Some(&c))),
        current,
        lifted,
        paged,
        batch_on: today.to_string(),
        batch_max: BATCH_MAX,
        policy_name: POLICIES,
        policies: POLICIES_ZH,
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/suspensions`.
pub async fn page(
    desk: Desk,
    query: web::Query<PageQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::ReadBenefitStatus)?;
    render(&desk, &pool, &state, query.into_inner(), None).await
}
