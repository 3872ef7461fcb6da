//! Deadline reminders (issue 9, item 5; docs/reminders.md): a daily recurring job that emails
//! each person a digest of the items due within 2 working days and the items overdue.
//!
//! - **Items**: reports still awaiting triage (`received`, their `triage_due`), and cases by
//!   their earliest running deadline (`cases.due_on`: the acknowledgement of real-name reports,
//!   the end of preliminary verification, the review date of a case on hold, the feedback date,
//!   a filed case's open investigations, and the recovery deadline of its clawbacks with money
//!   outstanding; `domain::case_status::earliest_open_deadline`; and the deadline of an open
//!   objection, closed cases included). Reports that were merged, transferred or escalated have
//!   none; a closed case is named only while an objection to it is open or a clawback of it has
//!   money outstanding. An item due on its clawback date is labelled `（<date>，追回）`.
//! - **Recipients**: a case's assignee; without one, the supervisors who are members of the
//!   case's team; without those (and for reports awaiting triage), every supervisor. Active
//!   accounts with an email address only.
//! - **What is said**: item numbers, their dates and counts, never content
//!   (`templates/email/deadline_reminder`).
//! - **At most one email per person per county day**: the daily job runs once per day across
//!   instances (`Schedule::DailyInCounty`), and each person's email is itself a job of kind
//!   `email` inserted with the UNIQUE (kind, period) key `reminder:<user id>:<county date>`
//!   (`db::dialect::insert_job_if_absent`), so a retried run, a second instance or a restart
//!   never queues a second one.
//! - **Remediation items** (issue 12): items of a case's remediation plan still waiting for
//!   evidence (open, or rejected) after their due date join the digest as one overdue line per
//!   case, `<case number> 整改事项 <n> 项（<earliest due date>）`, to the case's recipients.
//! - Only on working days (`domain::reminders::sends_on`), from the instance's shared, reloadable calendar.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarHandle;
use crate::cases::{no_deadline, served_due};
use crate::db::schema::{
    cases, objections, remediation_items, reports, team_members, user_roles, users,
};
use crate::db::{self, DbConnection};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::case_status::CaseStatus;
use crate::domain::deadlines;
use crate::domain::ids::{TeamId, UserId};
use crate::domain::objection::ObjectionStatus;
use crate::domain::remediation::ItemStatus;
use crate::domain::reminders::{self as rules, Urgency};
use crate::domain::report::ReportStatus;
use crate::domain::roles::Role;
use crate::jobs::{Job, JobContext, JobRow, STATUS_PENDING};
use crate::notify::EmailJob;

/// The email template of a digest.
pub const TEMPLATE: &str = "deadline_reminder";

/// The daily job (kind `deadline_reminders`, recurring `DailyInCounty`); its state is the
/// instance's shared calendar handle, so a reloaded calendar counts from the next run on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DailyReminders {}

impl Job for DailyReminders {
    const KIND: &'static str = "deadline_reminders";
    type State = CalendarHandle;

    async fn run(self, handle: Arc<CalendarHandle>, ctx: JobContext) -> anyhow::Result<()> {
        let calendar = handle.current();
        let now = ctx.clock.now();
        let today = deadlines::today_in_county(now);
        let at = ctx.clock.now_naive();
        let pool = ctx.pool.clone();
        let queued = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(queue_digests(&mut conn, &calendar, today, at)?)
        })
        .await??;
        tracing::info!(%today, queued, "deadline reminders queued");
        Ok(())
    }
}

/// What a reminder needs of a case with a running deadline.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
struct DueCaseRow {
    number: String,
    due_on: NaiveDate,
    clawback_due: Option<NaiveDate>,
    team_id: TeamId,
    assignee_id: Option<UserId>,
}

/// One person's digest for one day: item labels (`<number>（<date>）`), overdue and due soon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digest {
    pub email: String,
    pub overdue: Vec<String>,
    pub due_soon: Vec<String>,
}

/// Who a case's reminders go to: its assignee, else its team's supervisors, else every
/// supervisor. Active accounts with an email address, by id.
fn recipients(
    conn: &mut DbConnection,
    assignee: Option<&UserId>,
    team: Option<&TeamId>,
) -> QueryResult<Vec<(UserId, String)>> {
    let with_email = |conn: &mut DbConnection, ids: Vec<String>| -> QueryResult<_> {
        let rows: Vec<(UserId, Option<String>)> = users::table
            .filter(users::id.eq_any(ids))
            .filter(users::active.eq(true))
            .order(users::id)
            .select((users::id, users::email))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, email)| email.map(|e| (id, e)))
            .collect::<Vec<_>>())
    };
    if let Some(a) = assignee {
        return with_email(conn, vec![a.as_str().to_string()]);
    }
    let supervisors: Vec<String> = user_roles::table
        .filter(user_roles::role.eq(Role::Supervisor.as_str()))
        .select(user_roles::user_id)
        .load(conn)?;
    if let Some(team) = team {
        let members: Vec<String> = team_members::table
            .filter(team_members::team_id.eq(team.as_str()))
            .filter(team_members::user_id.eq_any(&supervisors))
            .select(team_members::user_id)
            .load(conn)?;
        let found = with_email(conn, members)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    with_email(conn, supervisors)
}

/// The digests of `today` (county date), by recipient: reports awaiting triage and cases
/// whose running deadline (an open objection's included) is overdue or within 2 working days of `calendar`. Empty on a day that is not
/// a working day.
///
/// Errors: database errors.
pub fn digests(
    conn: &mut DbConnection,
    calendar: &WorkingCalendar,
    today: NaiveDate,
) -> QueryResult<BTreeMap<UserId, Digest>> {
    let mut out: BTreeMap<UserId, Digest> = BTreeMap::new();
    if !rules::sends_on(calendar, today) {
        return Ok(out);
    }
    let horizon = calendar.add_working_days(today, rules::LEAD_WORKING_DAYS);
    let mut add = |who: Vec<(UserId, String)>, urgency: Urgency, label: String| {
        for (id, email) in who {
            let digest = out.entry(id).or_default();
            digest.email = email;
            match urgency {
                Urgency::Overdue => digest.overdue.push(label.clone()),
                Urgency::DueSoon => digest.due_soon.push(label.clone()),
            }
        }
    };
    // Reports not yet triaged (never merged, transferred or escalated ones).
    let waiting: Vec<(String, NaiveDate)> = reports::table
        .filter(reports::status.eq(ReportStatus::Received.as_str()))
        .filter(reports::case_id.is_null())
        .filter(reports::triage_due.le(horizon))
        .order((reports::triage_due, reports::number))
        .select((reports::number, reports::triage_due))
        .load(conn)?;
    let all_supervisors = recipients(conn, None, None)?;
    for (number, due) in waiting {
        if let Some(u) = rules::urgency(calendar, due, today) {
            add(all_supervisors.clone(), u, format!("{number}（{due}）"));
        }
    }
    // Open cases by their earliest running deadline, and closed ones while a reporter's
    // objection to them is open or money is still to be recovered (both deadlines are in
    // `due_on`: `cases::due_on_with_objections`, `cases.clawback_due`).
    let open: Vec<String> = CaseStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str().to_string())
        .collect();
    let objected = objections::table
        .filter(objections::status.eq(ObjectionStatus::Open))
        .select(objections::case_id);
    let due_cases: Vec<DueCaseRow> = cases::table
        .filter(
            cases::status
                .eq_any(open)
                .or(cases::id.eq_any(objected))
                .or(cases::clawback_due.is_not_null()),
        )
        .filter(cases::due_on.le(horizon))
        .filter(cases::due_on.lt(no_deadline()))
        .order((cases::due_on, cases::number))
        .select(DueCaseRow::as_select())
        .load(conn)?;
    for DueCaseRow {
        number,
        due_on: stored,
        clawback_due,
        team_id: team,
        assignee_id: assignee,
    } in due_cases
    {
        let Some(due) = served_due(stored) else {
            continue;
        };
        if let Some(u) = rules::urgency(calendar, due, today) {
            let who = recipients(conn, assignee.as_ref(), Some(&team))?;
            let label = if clawback_due == Some(due) {
                format!("{number}（{due}，追回）")
            } else {
                format!("{number}（{due}）")
            };
            add(who, u, label);
        }
    }
    // Remediation items still waiting for evidence after their due date (issue 12): one line
    // per case, to the same recipients as the case's own deadlines.
    for case in overdue_remediation(conn, today)? {
        let who = recipients(conn, case.assignee_id.as_ref(), Some(&case.team_id))?;
        add(
            who,
            Urgency::Overdue,
            format!(
                "{} 整改事项 {} 项（{}）",
                case.case_number, case.count, case.earliest_due
            ),
        );
    }
    Ok(out)
}

/// One overdue remediation item with its case, as read for the digest.
#[derive(Debug, Clone, Queryable)]
struct OverdueItemRow {
    case_number: String,
    due_on: NaiveDate,
    team_id: TeamId,
    assignee_id: Option<UserId>,
}

/// A case's overdue remediation items, for a digest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueRemediation {
    pub case_number: String,
    pub team_id: TeamId,
    pub assignee_id: Option<UserId>,
    /// Items still open or rejected after their due date.
    pub count: usize,
    pub earliest_due: NaiveDate,
}

/// The cases with remediation items still waiting for evidence (open, or rejected and not yet
/// submitted again; `domain::remediation::ItemStatus::awaits_evidence`) whose due date is
/// before `today` (county), by case number.
///
/// Errors: database errors.
pub fn overdue_remediation(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> QueryResult<Vec<OverdueRemediation>> {
    let waiting: Vec<ItemStatus> = ItemStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.awaits_evidence())
        .collect();
    let rows: Vec<OverdueItemRow> = remediation_items::table
        .inner_join(cases::table)
        .filter(remediation_items::status.eq_any(waiting))
        .filter(remediation_items::due_on.lt(today))
        .order((cases::number, remediation_items::due_on))
        .select((
            cases::number,
            remediation_items::due_on,
            cases::team_id,
            cases::assignee_id,
        ))
        .load(conn)?;
    let mut out: Vec<OverdueRemediation> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some(last) if last.case_number == row.case_number => last.count += 1,
            _ => out.push(OverdueRemediation {
                case_number: row.case_number,
                team_id: row.team_id,
                assignee_id: row.assignee_id,
                count: 1,
                earliest_due: row.due_on,
            }),
        }
    }
    Ok(out)
}

/// Queues one `deadline_reminder` email per recipient of [`digests`] for `today`, each with the
/// UNIQUE (kind, period) key (`email`, `reminder:<user id>:<date>`), so each person gets at most
/// one per county day however often this runs. Returns how many were queued by this call.
///
/// Errors: database errors.
pub fn queue_digests(
    conn: &mut DbConnection,
    calendar: &WorkingCalendar,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    db::write_tx(conn, |conn| {
        let mut queued = 0;
        for (user, digest) in digests(conn, calendar, today)? {
            let job = EmailJob {
                template: TEMPLATE.to_string(),
                recipient: digest.email.clone(),
                data: serde_json::json!({
                    "date": today,
                    "overdue": digest.overdue,
                    "overdue_count": digest.overdue.len(),
                    "due_soon": digest.due_soon,
                    "due_soon_count": digest.due_soon.len(),
                }),
            };
            let row = JobRow {
                id: uuid::Uuid::new_v4().to_string(),
                kind: EmailJob::KIND.to_string(),
                payload: serde_json::to_string(&job).expect("a job serialises to JSON"),
                status: STATUS_PENDING.to_string(),
                attempts: 0,
                max_attempts: None,
                run_at: None,
                locked_until: None,
                last_error: None,
                period: Some(format!("reminder:{user}:{today}")),
                created_at: now,
                finished_at: None,
            };
            if crate::db::dialect::insert_job_if_absent(conn, &row)? {
                queued += 1;
            }
        }
        Ok(queued)
    })
}
