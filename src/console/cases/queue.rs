//! The investigator queue, `GET /staff/cases` (案件): the API's queue (`GET /api/v1/cases`,
//! `cases::view::queue`) as a page. Every filter of the API is a field of an ordinary GET form
//! (status, assignee with `me`, team, township, village, programme, overdue, due before a date,
//! due within N working days), with the sort, the page size and the API's keyset pagination
//! ("下一页" carries `cursor`). The counts by status are links that keep the other filters.
//!
//! Who sees it: the roles with `ReadCases` (investigators their own teams' cases, supervisors
//! and auditors every case: the API's `Viewer` rule); others get the Chinese 403.
//!
//! A query the API would refuse is refused the same way, shown above the form filled in as
//! typed: a value of the wrong type (`overdue=maybe`, `limit=abc`) is 400 `invalid_query`, a
//! value the queue does not know (`status=bogus`, `sort=age`) is 422 `validation_failed` with
//! the field named beside it.

use std::collections::{BTreeMap, HashMap};

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;

use super::page::{programme_zh, status_zh};
use crate::cases::view::{self, CasePage, CaseQuery};
use crate::cases::{CasesState, Viewer};
use crate::console::page::{self as console_page, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::schema::{divisions, team_members, teams, user_roles, users};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::report::Programme;
use crate::domain::roles::Role;
use crate::error::{ApiError, ErrorCode};

/// The fields of the filter form, in the API's names (`CaseQuery`).
pub const FIELDS: [&str; 12] = [
    "status",
    "assignee",
    "team",
    "township",
    "village",
    "programme",
    "overdue",
    "due_before",
    "due_within_days",
    "sort",
    "limit",
    "cursor",
];

/// Cases due within this many working days are marked `due-soon` (the dashboard's "due within
/// 2 working days").
pub const DUE_SOON_DAYS: u32 = 2;

/// Mounts the queue.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/staff/cases").route(web::get().to(page)));
}

/// The query as typed: the first value of each field of the form, trimmed.
#[derive(Debug, Clone, Default)]
pub struct Typed(BTreeMap<String, String>);

impl Typed {
    /// The typed fields of query string `query`; unknown fields are ignored.
    pub fn parse(query: &str) -> Typed {
        let mut map = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if FIELDS.contains(&k.as_ref()) && !map.contains_key(k.as_ref()) {
                map.insert(k.into_owned(), v.trim().to_string());
            }
        }
        Typed(map)
    }

    /// The typed value of `field`, or "".
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }

    /// The non-blank fields but those in `without`, as a query string (`a=1&b=2`).
    pub fn query_without(&self, without: &[&str]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !v.is_empty() && !without.contains(&k.as_str()) {
                out.append_pair(k, v);
            }
        }
        out.finish()
    }

    /// The API's query for these fields (blank fields are absent, as a browser's empty fields
    /// mean "any"), read by the same parser as the API's `web::Query<CaseQuery>`.
    ///
    /// Errors: 400 `invalid_query` for a value of the wrong type, as the API answers.
    pub fn case_query(&self) -> Result<CaseQuery, ApiError> {
        let query = self.query_without(&[]);
        web::Query::<CaseQuery>::from_query(&query)
            .map(web::Query::into_inner)
            .map_err(|e| {
                ApiError::bad_request(
                    ErrorCode::InvalidQuery,
                    format!("The query string is invalid: {e}"),
                )
            })
    }
}

/// One option of a select.
struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(typed: &str, any: &str, options: Vec<(String, String)>) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: any.to_string(),
        selected: typed.is_empty(),
    }];
    let known = options.iter().any(|(v, _)| v == typed);
    out.extend(options.into_iter().map(|(value, label)| Choice {
        selected: value == typed,
        value,
        label,
    }));
    // A value typed (or linked) that is not among the options stays selected, so it is seen.
    if !typed.is_empty() && !known {
        out.push(Choice {
            value: typed.to_string(),
            label: format!("{typed}（无此选项）"),
            selected: true,
        });
    }
    out
}

/// One case of the table.
struct Row {
    pub href: String,
    pub number: String,
    pub place: String,
    pub programme: &'static str,
    pub status: &'static str,
    pub assignee: String,
    pub due: String,
    /// `overdue`, `due-soon` or "".
    pub due_class: &'static str,
    pub due_note: &'static str,
}

/// One status count: a link to the same filters in that status.
struct Count {
    pub label: &'static str,
    pub n: i64,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "console/cases/queue.html")]
struct QueuePage {
    shell: Shell,
    typed: Typed,
    statuses: Vec<Choice>,
    assignees: Vec<Choice>,
    teams: Vec<Choice>,
    townships: Vec<Choice>,
    /// More townships than a select should hold: a text field instead.
    township_text: bool,
    programmes: Vec<Choice>,
    overdue: Vec<Choice>,
    sorts: Vec<Choice>,
    counts: Vec<Count>,
    total: i64,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    /// A refusal: no table, only the form.
    refused: bool,
    today: String,
}

impl QueuePage {
    fn err(&self, field: &str) -> &str {
        self.shell.field_error(field)
    }
}

/// Whether case due `due` is due soon on `today`: today or within [`DUE_SOON_DAYS`] working
/// days (`cases::view::within_working_days`, the queue's own `due_within_days` rule), not
/// overdue.
pub fn due_soon(calendar: &WorkingCalendar, today: NaiveDate, due: Option<NaiveDate>) -> bool {
    due.is_some_and(|d| view::within_working_days(calendar, today, DUE_SOON_DAYS, d))
}

/// What the form's selects need: the visible teams and assignees, the townships.
struct Lookups {
    teams: Vec<(String, String)>,
    assignees: Vec<(String, String)>,
    townships: Vec<(String, String)>,
    /// User id → display name (staff see staff names; reporters never do).
    names: HashMap<String, String>,
    /// Division code → name.
    places: HashMap<String, String>,
}

/// The most townships shown as a select.
const TOWNSHIP_SELECT_MAX: usize = 200;

fn lookups(
    conn: &mut DbConnection,
    viewer: &Viewer,
    page: Option<&CasePage>,
) -> QueryResult<Lookups> {
    let own: Option<Vec<String>> = if viewer.sees_all() {
        None
    } else {
        Some(
            crate::cases::teams_of(conn, &viewer.user_id)?
                .into_iter()
                .map(|t| t.into_string())
                .collect(),
        )
    };
    let mut team_q = teams::table
        .select((teams::id, teams::name))
        .order(teams::name.asc())
        .into_boxed();
    if let Some(own) = &own {
        team_q = team_q.filter(teams::id.eq_any(own.clone()));
    }
    let team_list: Vec<(String, String)> = team_q.load(conn)?;
    // The investigators of the visible teams (everyone's for supervisors and auditors).
    let mut inv_q = users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq(Role::Investigator.as_str()))
        .select((users::id, users::display_name))
        .order(users::display_name.asc())
        .distinct()
        .into_boxed();
    if let Some(own) = &own {
        let members = team_members::table
            .filter(team_members::team_id.eq_any(own.clone()))
            .select(team_members::user_id);
        inv_q = inv_q.filter(users::id.eq_any(members));
    }
    let investigators: Vec<(String, String)> = inv_q.load(conn)?;
    let townships: Vec<(String, String)> = divisions::table
        .filter(divisions::level.eq("township"))
        .select((divisions::code, divisions::name))
        .order(divisions::code.asc())
        .limit(TOWNSHIP_SELECT_MAX as i64 + 1)
        .load(conn)?;
    let mut names: HashMap<String, String> = investigators.iter().cloned().collect();
    let mut places = HashMap::new();
    if let Some(page) = page {
        let assignees: Vec<String> = page
            .items
            .iter()
            .filter_map(|c| c.assignee_id.clone())
            .filter(|a| !names.contains_key(a))
            .collect();
        if !assignees.is_empty() {
            let found: Vec<(String, String)> = users::table
                .filter(users::id.eq_any(assignees))
                .select((users::id, users::display_name))
                .load(conn)?;
            names.extend(found);
        }
        let mut codes: Vec<&str> = Vec::new();
        for c in &page.items {
            codes.push(&c.township_code);
            codes.push(&c.village_code);
        }
        codes.sort_unstable();
        codes.dedup();
        for d in crate::divisions::find_many(conn, &codes)? {
            places.insert(d.code, d.name);
        }
    }
    Ok(Lookups {
        teams: team_list,
        assignees: investigators,
        townships,
        names,
        places,
    })
}

/// The link of the queue with `typed`'s filters and `extra` pairs.
fn queue_href(typed: &Typed, without: &[&str], extra: &[(&str, &str)]) -> String {
    let mut query = typed.query_without(without);
    for (k, v) in extra {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair(k, v)
                .finish(),
        );
    }
    if query.is_empty() {
        "/staff/cases".to_string()
    } else {
        format!("/staff/cases?{query}")
    }
}

/// `GET /staff/cases`: the queue, filtered as the query asks.
pub async fn page(
    req: HttpRequest,
    desk: Desk,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::ReadCases)?;
    let typed = Typed::parse(req.query_string());
    let viewer = desk.viewer();
    let today = deadlines::today_in_county(state.clock.now());
    let calendar = state.calendar.current();
    let parsed = typed.case_query();
    let (answer, lookups) = {
        let calendar = calendar.clone();
        db::run(&pool, move |conn| {
            let answer = match parsed {
                Err(e) => Err(e),
                Ok(query) => match view::queue(conn, &viewer, &query, today, &calendar) {
                    Ok(page) => Ok(page),
                    Err(crate::cases::CaseError::Failed(e)) if e.status.is_server_error() => {
                        return Err(e)
                    }
                    Err(e) => Err(ApiError::from(e)),
                },
            };
            let lookups = lookups(conn, &viewer, answer.as_ref().ok())?;
            Ok((answer, lookups))
        })
        .await?
    };
    let shell = desk.shell("/staff/cases", "案件");
    let (shell, page_data) = match answer {
        Ok(p) => (shell, Some(p)),
        Err(e) => (shell.with_refusal(Some(Refusal::from_api(&e))), None),
    };
    let page = build(shell, typed, lookups, page_data, today, &calendar);
    Ok(console_page::show(&page.shell, &page))
}

fn build(
    shell: Shell,
    typed: Typed,
    lookups: Lookups,
    page: Option<CasePage>,
    today: NaiveDate,
    calendar: &WorkingCalendar,
) -> QueuePage {
    let statuses = choices(
        typed.get("status"),
        "全部状态",
        CaseStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), status_zh(s.as_str()).to_string()))
            .collect(),
    );
    let mut assignee_options = vec![("me".to_string(), "我自己".to_string())];
    assignee_options.extend(lookups.assignees.iter().cloned());
    let assignees = choices(typed.get("assignee"), "不限", assignee_options);
    let teams = choices(typed.get("team"), "全部承办室", lookups.teams.clone());
    let township_text = lookups.townships.len() > TOWNSHIP_SELECT_MAX;
    let townships = choices(
        typed.get("township"),
        "全部乡镇",
        lookups
            .townships
            .iter()
            .map(|(c, n)| (c.clone(), format!("{n}（{c}）")))
            .collect(),
    );
    let programmes = choices(
        typed.get("programme"),
        "全部项目",
        Programme::ALL
            .iter()
            .map(|p| (p.as_str().to_string(), p.label_zh().to_string()))
            .collect(),
    );
    let overdue = choices(
        typed.get("overdue"),
        "不限",
        vec![
            ("true".into(), "只看已逾期".into()),
            ("false".into(), "只看未逾期".into()),
        ],
    );
    let sorts = {
        let typed_sort = typed.get("sort");
        let mut c = choices(
            if typed_sort == "due" { "" } else { typed_sort },
            "按最早期限（默认）",
            vec![
                ("received".into(), "按收到时间（最早的在前）".into()),
                ("updated".into(), "按最近变动（最新的在前）".into()),
            ],
        );
        c[0].value = "due".into();
        c
    };
    let (counts, total, rows, next) = match &page {
        None => (Vec::new(), 0, Vec::new(), None),
        Some(p) => {
            let current = typed.get("status");
            let counts: Vec<Count> = CaseStatus::ALL
                .iter()
                .map(|s| Count {
                    label: status_zh(s.as_str()),
                    n: p.counts.get(s.as_str()).copied().unwrap_or(0),
                    href: queue_href(&typed, &["status", "cursor"], &[("status", s.as_str())]),
                    current: current == s.as_str(),
                })
                .collect();
            let total = p.counts.values().sum();
            let rows = p
                .items
                .iter()
                .map(|c| {
                    let place = |code: &str| {
                        lookups
                            .places
                            .get(code)
                            .cloned()
                            .unwrap_or_else(|| code.to_string())
                    };
                    let (due_class, due_note) = if c.overdue {
                        ("overdue", "已逾期")
                    } else if due_soon(calendar, today, c.due_on) {
                        ("due-soon", "2个工作日内到期")
                    } else {
                        ("", "")
                    };
                    Row {
                        href: format!("/staff/cases/{}", c.id),
                        number: c.number.clone(),
                        place: format!("{} {}", place(&c.township_code), place(&c.village_code)),
                        programme: programme_zh(&c.programme),
                        status: status_zh(&c.status),
                        assignee: c
                            .assignee_id
                            .as_ref()
                            .map(|a| lookups.names.get(a).cloned().unwrap_or_else(|| a.clone()))
                            .unwrap_or_else(|| "未分配".to_string()),
                        due: c
                            .due_on
                            .map(crate::web::zh::date)
                            .unwrap_or_else(|| "无".to_string()),
                        due_class,
                        due_note,
                    }
                })
                .collect();
            let next = p
                .next_cursor
                .as_ref()
                .map(|cursor| queue_href(&typed, &["cursor"], &[("cursor", cursor)]));
            (counts, total, rows, next)
        }
    };
    let first = (!typed.get("cursor").is_empty() && page.is_some())
        .then(|| queue_href(&typed, &["cursor"], &[]));
    QueuePage {
        shell,
        statuses,
        assignees,
        teams,
        townships,
        township_text,
        programmes,
        overdue,
        sorts,
        counts,
        total,
        rows,
        next,
        first,
        refused: page.is_none(),
        today: crate::web::zh::date(today),
        typed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;

    #[test]
    fn blank_fields_are_absent_and_typed_values_stay() {
        let typed = Typed::parse("status=&assignee=me&overdue=true&x=1&limit=+20+");
        assert_eq!(typed.get("assignee"), "me");
        assert_eq!(typed.get("limit"), "20");
        assert_eq!(typed.get("x"), "");
        let q = typed.case_query().unwrap();
        assert_eq!(q.status, None);
        assert_eq!(q.assignee.as_deref(), Some("me"));
        assert_eq!(q.overdue, Some(true));
        assert_eq!(q.limit, Some(20));
        assert_eq!(
            queue_href(&typed, &["cursor"], &[("cursor", "a b")]),
            "/staff/cases?assignee=me&limit=20&overdue=true&cursor=a+b"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_the_apis_400() {
        let e = Typed::parse("overdue=maybe").case_query().unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, ErrorCode::InvalidQuery);
    }
}
