//! 工作台 (`GET /staff`): what needs the signed-in staff member today, as cards. Each card is a
//! count that links to the list it counts, and a card appears only to the roles it concerns:
//!
//! - investigators: 我的案件 (`/staff/cases?assignee=me`), 我的超期事项
//!   (`…&overdue=true`), 2个工作日内到期 (`…&due_within_days=2`);
//! - staff who triage (intake, supervisors): 待受理举报 (`/staff/intake`);
//! - supervisors: 待审批立案 (`/staff/cases?status=filing_requested`), 待决定的身份查看申请
//!   (`/staff/identity-requests`), 待处理的异议 (`/staff/objections`).
//!
//! The counts come from the same capabilities as the lists: the case queue's counts per status
//! (`cases::view::queue`, with the viewer's team rule), the intake queue
//! (`reports::staff::triage_backlog`), the custodian workflow
//! (`custodian::count_pending`) and the objections (`objections::count_open`). "Within 2
//! working days" counts on the working-day calendar the deadlines use (`CasesState.calendar`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;

use super::page::{self, PageError, Shell};
use super::session::Desk;
use crate::cases::view::{self, CaseQuery};
use crate::cases::{CasesState, Viewer};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::roles::Role;
use crate::error::ApiError;

/// "Items due within this many working days" (issue 13: 2 working days).
pub const DUE_SOON_WORKING_DAYS: u32 = 2;

/// One card of the desk: a count and the list it counts.
#[derive(Debug, Clone)]
pub struct Card {
    /// A stable id (`card-<key>`, `count-<key>`) for links and tests.
    pub key: &'static str,
    pub title: &'static str,
    pub count: i64,
    pub href: String,
    /// A second line, e.g. how many of them are overdue.
    pub detail: Option<String>,
    /// Shown in red: something is overdue.
    pub urgent: bool,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    shell: Shell,
    today: String,
    cards: Vec<Card>,
}

/// Which cards a user with `roles` sees (in this order): `mine`, `overdue`, `due-soon` for
/// investigators (the only role a case is assigned to: `cases::assign`); `intake` with
/// `TriageReports`; `filing`, `identity`, `objections` with `Supervise`.
pub fn card_keys(roles: &[Role]) -> Vec<&'static str> {
    let can = |p| crate::domain::permissions::allows(roles, p);
    let mut keys = Vec::new();
    if roles.contains(&Role::Investigator) && can(Permission::WorkCases) {
        keys.extend(["mine", "overdue", "due-soon"]);
    }
    if can(Permission::TriageReports) {
        keys.push("intake");
    }
    if can(Permission::Supervise) {
        keys.extend(["filing", "identity", "objections"]);
    }
    keys
}

/// The last county date that is "within `DUE_SOON_WORKING_DAYS` working days" of `today`.
fn due_soon_until(state: &CasesState, today: NaiveDate) -> NaiveDate {
    state
        .calendar
        .current()
        .add_working_days(today, DUE_SOON_WORKING_DAYS)
}

/// The number of cases the queue lists for `query`, and how many of them are open. The queue's
/// counts per status are taken under every filter but `status` (they serve as tabs), so the
/// total is the count of `query.status` when it names one, else the sum over every status.
fn queue_total(
    conn: &mut DbConnection,
    viewer: &Viewer,
    query: CaseQuery,
    today: NaiveDate,
    calendar: &WorkingCalendar,
) -> Result<(i64, i64), ApiError> {
    let status = query.status.clone();
    let page = view::queue(
        conn,
        viewer,
        &CaseQuery {
            limit: Some(1),
            ..query
        },
        today,
        calendar,
    )?;
    let counted = |s: &str| status.as_deref().is_none_or(|wanted| wanted == s);
    let total = page
        .counts
        .iter()
        .filter(|(s, _)| counted(s))
        .map(|(_, n)| n)
        .sum();
    let open = page
        .counts
        .iter()
        .filter(|(s, _)| counted(s) && CaseStatus::parse(s).is_some_and(CaseStatus::is_open))
        .map(|(_, n)| n)
        .sum();
    Ok((total, open))
}

/// The cards of `keys` for `viewer` on `today`, `soon_until` being the last date counted as
/// due soon.
fn cards(
    conn: &mut DbConnection,
    viewer: &Viewer,
    keys: &[&'static str],
    today: NaiveDate,
    soon_until: NaiveDate,
    calendar: &WorkingCalendar,
) -> Result<Vec<Card>, ApiError> {
    let mine = || CaseQuery {
        assignee: Some("me".into()),
        ..CaseQuery::default()
    };
    let mut out = Vec::new();
    for key in keys {
        let card = match *key {
            "mine" => {
                let (total, open) = queue_total(conn, viewer, mine(), today, calendar)?;
                Card {
                    key,
                    title: "我的案件",
                    count: total,
                    href: "/staff/cases?assignee=me".into(),
                    detail: Some(format!("其中在办 {open} 件")),
                    urgent: false,
                }
            }
            "overdue" => {
                let query = CaseQuery {
                    overdue: Some(true),
                    ..mine()
                };
                let (total, _) = queue_total(conn, viewer, query, today, calendar)?;
                Card {
                    key,
                    title: "我的超期事项",
                    count: total,
                    href: "/staff/cases?assignee=me&overdue=true".into(),
                    detail: Some("已过最早到期的期限".into()),
                    urgent: total > 0,
                }
            }
            "due-soon" => {
                // Due from today to the second working day from today: the queue's own
                // `due_within_days` filter, so the count is what the link lists.
                let query = CaseQuery {
                    due_within_days: Some(DUE_SOON_WORKING_DAYS.into()),
                    ..mine()
                };
                let (total, _) = queue_total(conn, viewer, query, today, calendar)?;
                Card {
                    key,
                    title: "2个工作日内到期",
                    count: total,
                    href: format!(
                        "/staff/cases?assignee=me&due_within_days={DUE_SOON_WORKING_DAYS}"
                    ),
                    detail: Some(format!("截至{}", crate::web::zh::date(soon_until))),
                    urgent: false,
                }
            }
            "intake" => {
                let backlog = crate::reports::staff::triage_backlog(conn, today)?;
                Card {
                    key,
                    title: "待受理举报",
                    count: backlog.received,
                    href: "/staff/intake".into(),
                    detail: Some(format!("其中超过受理期限 {} 件", backlog.overdue)),
                    urgent: backlog.overdue > 0,
                }
            }
            "filing" => {
                let query = CaseQuery {
                    status: Some(CaseStatus::FilingRequested.as_str().into()),
                    ..CaseQuery::default()
                };
                let (total, _) = queue_total(conn, viewer, query, today, calendar)?;
                Card {
                    key,
                    title: "待审批立案",
                    count: total,
                    href: "/staff/cases?status=filing_requested".into(),
                    detail: Some("办案人员已申请立案".into()),
                    urgent: false,
                }
            }
            "identity" => Card {
                key,
                title: "待决定的身份查看申请",
                count: crate::custodian::count_pending(conn)?,
                href: "/staff/identity-requests".into(),
                detail: Some("查看举报人身份须经批准".into()),
                urgent: false,
            },
            "objections" => Card {
                key,
                title: "待处理的异议",
                count: crate::objections::count_open(conn, None)?,
                href: "/staff/objections".into(),
                detail: Some("举报人对办理结果提出的异议".into()),
                urgent: false,
            },
            _ => continue,
        };
        out.push(card);
    }
    Ok(out)
}

/// `GET /staff`: the cards of the user's roles (none for a role nothing waits on: the
/// navigation leads to their areas).
///
/// Errors: a database failure as the Chinese 500 page.
pub async fn page(
    desk: Desk,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, PageError> {
    let today = deadlines::today_in_county(state.clock.now());
    let soon_until = due_soon_until(&state, today);
    let calendar = state.calendar.current();
    let viewer = desk.viewer();
    let keys = card_keys(desk.roles());
    let cards = db::run(&pool, move |conn| {
        cards(conn, &viewer, &keys, today, soon_until, &calendar)
    })
    .await?;
    let shell = desk.shell("/staff", "工作台");
    Ok(page::render(
        StatusCode::OK,
        &DashboardPage {
            shell,
            today: crate::web::zh::date(today),
            cards,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_the_cards_it_concerns() {
        assert_eq!(
            card_keys(&[Role::Investigator]),
            ["mine", "overdue", "due-soon"]
        );
        assert_eq!(card_keys(&[Role::Intake]), ["intake"]);
        assert_eq!(
            card_keys(&[Role::Supervisor]),
            ["intake", "filing", "identity", "objections"]
        );
        assert_eq!(
            card_keys(&[Role::Supervisor, Role::Investigator]),
            [
                "mine",
                "overdue",
                "due-soon",
                "intake",
                "filing",
                "identity",
                "objections"
            ]
        );
        for role in [Role::Admin, Role::Benefits, Role::Auditor] {
            assert!(card_keys(&[role]).is_empty(), "{role}");
        }
    }
}
