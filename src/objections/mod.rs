//! Objections (异议): after the result of a case was fed back to a reporter (a message of kind
//! `feedback` to their report), the reporter may object, once per feedback (SPEC.md →
//! "Real-name reporters"; issue 10, item 6; docs/objections.md).
//!
//! - [`file`]: the reporter's objection (`POST /api/v1/reporter/objections`, and the form on
//!   `/follow-up`). Its deadline is 15 working days from the county date it was received
//!   (`domain::objection`); the case's queue deadline (`cases.due_on`) moves to it when it is
//!   earlier, so the case sorts and flags overdue by it. Audited (`objection.filed` on the
//!   objection, `case.objection_received` on the case), supervisors told by a content-free
//!   email, all in one transaction.
//! - [`decide_open`]: decides the case's open objections; the case's `reopen` calls it in its
//!   own transaction.
//! - [`of_case`], [`earliest_open_due`], [`earliest_open_due_by_case`], [`ids_of_case`]: what
//!   the case view, the case's deadline, the queue and the timeline read (`cases` calls these).
//! - [`list`]: `GET /api/v1/objections?status=open`, the supervisors' list.
//!
//! Layering: this capability sits above `reports` (the reporter session, the feedback rule
//! `reports::follow_up::objectable_feedback`) and below `cases`, which calls it. It reads and
//! writes the `cases` table through the schema only (the case's number, team and `due_on`).

pub mod models;
pub mod routes;

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Actor};
use crate::db::schema::{cases, objections, reports, user_roles, users};
use crate::db::{self, DbConnection, MultiBackend};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::ids::{CaseId, ObjectionId, ReportId, TeamId, UserId};
use crate::domain::objection::{self as rules, ObjectionRefused, ObjectionStatus};
use crate::domain::schedule::county_date;
use crate::domain::text;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::reports::follow_up::{objectable_feedback, ReporterObjection};
use models::{CaseRefRow, Decision, ObjectionRow, OpenDueRow};

/// Why an objection request was not done. Mapped to `ApiError` at the HTTP edge (`From`
/// below) and to Chinese pages in `web::follow_up`.
#[derive(Debug, thiserror::Error)]
pub enum ObjectionError {
    /// No feedback yet, or the latest was objected to already (409).
    #[error("the reporter may not object now: {0:?}")]
    Refused(ObjectionRefused),
    /// The report the reporter's session was opened for no longer exists.
    #[error("the report no longer exists")]
    ReportGone,
    /// The body, or a query parameter, is invalid (422).
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Already an `ApiError` (the database, the server).
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for ObjectionError {
    fn from(e: diesel::result::Error) -> ObjectionError {
        ObjectionError::Failed(e.into())
    }
}

impl From<ObjectionError> for ApiError {
    fn from(e: ObjectionError) -> ApiError {
        match e {
            ObjectionError::Refused(ObjectionRefused::NoFeedback) => ApiError::conflict(
                ErrorCode::ObjectionNotOpen,
                "An objection answers the result fed back to you; there is none yet. \
                 县纪委告知办理结果后，才能提出异议。",
            ),
            ObjectionError::Refused(ObjectionRefused::AlreadyMade) => ApiError::conflict(
                ErrorCode::ObjectionAlreadyMade,
                "You objected to the latest result already; it is being handled. \
                 您已对最近一次告知的办理结果提出过异议，正在处理中。",
            ),
            ObjectionError::ReportGone => ApiError::not_found("The report no longer exists."),
            ObjectionError::Invalid(v) => ApiError::validation(v),
            ObjectionError::Failed(e) => e,
        }
    }
}

/// An objection as staff see it (the case view, the supervisors' list).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: String,
    pub case_id: String,
    /// `AJ-<year>-<6 digits>`.
    pub case_number: String,
    /// The report whose reporter objected.
    pub report_id: String,
    /// The feedback message the objection answers.
    pub feedback_message_id: String,
    /// What the reporter wrote.
    pub body: String,
    /// The county date by which it is handled: 15 working days after the county date of
    /// receipt.
    pub due_on: NaiveDate,
    /// Open and past `due_on` (county date).
    pub overdue: bool,
    /// `open | decided`.
    pub status: String,
    /// How a decided objection was handled: `case_reopened`; null while open.
    pub outcome: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The supervisor who decided it (by reopening the case); null while open.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn view(row: ObjectionRow, case_number: String, today: NaiveDate) -> ObjectionView {
    ObjectionView {
        overdue: row.status == ObjectionStatus::Open && row.due_on < today,
        id: row.id.into_string(),
        case_id: row.case_id.into_string(),
        case_number,
        report_id: row.report_id.into_string(),
        feedback_message_id: row.feedback_message_id.into_string(),
        body: row.body,
        due_on: row.due_on,
        status: row.status.as_str().to_string(),
        outcome: row.outcome,
        received_at: row.created_at.and_utc(),
        decided_by: row.decided_by.map(UserId::into_string),
        decided_at: row.decided_at.map(|t| t.and_utc()),
    }
}

/// Active supervisors with an email: told (without content) that an objection arrived.
fn supervisors_to_notify(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let emails: Vec<Option<String>> = users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq("supervisor"))
        .filter(users::active.eq(true))
        .select(users::email)
        .distinct()
        .load(conn)?;
    Ok(emails.into_iter().flatten().collect())
}

/// Records the objection of the reporter of `report_id` (their session's report) with `body`,
/// received `now` (UTC, the application's clock), due [`rules::OBJECTION_WORKING_DAYS`] working
/// days after the county date of receipt on `calendar`. In one write transaction: the row, the
/// case's `due_on` moved to the objection's date when that is earlier, the audit entries
/// `objection.filed` (entity `objection`) and `case.objection_received` (entity `case`), and a
/// content-free email to each active supervisor. Returns the objection as the reporter sees it.
///
/// Errors: `Invalid` (422, `body`: controls, empty, longer than 5,000 characters);
/// `Refused` (409 `objection_not_open` before any feedback, `objection_already_made` when the
/// latest feedback was objected to already); `ReportGone` (404); database errors.
pub fn file(
    conn: &mut DbConnection,
    report_id: &str,
    body: &str,
    calendar: &WorkingCalendar,
    now: NaiveDateTime,
) -> Result<ReporterObjection, ObjectionError> {
    text::check_controls("body", body).map_err(|e| ObjectionError::Invalid(vec![e]))?;
    let body = text::clean(body);
    rules::check_body(&body).map_err(|e| ObjectionError::Invalid(vec![e]))?;
    db::write_tx(conn, |conn| {
        let case_id: Option<CaseId> = reports::table
            .find(report_id)
            .select(reports::case_id)
            .first(conn)
            .optional()?
            .ok_or(ObjectionError::ReportGone)?;
        let feedback = objectable_feedback(conn, report_id)?.map_err(ObjectionError::Refused)?;
        // Feedback is sent through a case, so a report with feedback has one.
        let case_id = case_id.ok_or(ObjectionError::Refused(ObjectionRefused::NoFeedback))?;
        let due_on = rules::due_on(calendar, county_date(now.and_utc()));
        let row = ObjectionRow {
            id: ObjectionId::generate(),
            case_id: case_id.clone(),
            report_id: ReportId::from(report_id),
            feedback_message_id: feedback,
            body,
            due_on,
            status: ObjectionStatus::Open,
            outcome: None,
            created_at: now,
            decided_by: None,
            decided_at: None,
        };
        diesel::insert_into(objections::table)
            .values(&row)
            .execute(conn)?;
        // The case's queue deadline is the earliest of its running deadlines and its open
        // objections' (cases::due_on_with_objections computes the same on every other change).
        diesel::update(
            cases::table
                .filter(cases::id.eq(case_id.as_str()))
                .filter(cases::due_on.gt(due_on)),
        )
        .set(cases::due_on.eq(due_on))
        .execute(conn)?;
        audit::record(
            conn,
            now,
            &Actor::Reporter,
            "objection.filed",
            "objection",
            row.id.as_str(),
            serde_json::json!({
                "case_id": case_id,
                "report_id": report_id,
                "feedback_message_id": row.feedback_message_id,
                "due_on": due_on,
            }),
        )?;
        audit::record(
            conn,
            now,
            &Actor::Reporter,
            "case.objection_received",
            "case",
            case_id.as_str(),
            serde_json::json!({"objection_id": row.id, "report_id": report_id, "due_on": due_on}),
        )?;
        let case_number: String = cases::table
            .find(case_id.as_str())
            .select(cases::number)
            .first(conn)?;
        for email in supervisors_to_notify(conn)? {
            crate::notify::enqueue(
                conn,
                "objection_received",
                &email,
                serde_json::json!({"case_number": case_number}),
            )
            .map_err(|e| ApiError::unexpected(e.into()))?;
        }
        Ok(ReporterObjection::from(
            crate::reports::models::ReporterObjectionRow {
                id: row.id,
                feedback_message_id: row.feedback_message_id,
                body: row.body,
                due_on: row.due_on,
                status: row.status,
                outcome: row.outcome,
                created_at: row.created_at,
                decided_at: row.decided_at,
            },
        ))
    })
}

/// [`file`] for the reporter of `report_id`, on the blocking pool with the shared calendar and
/// the application's clock of `state` (used by the API and by the `/follow-up` page).
///
/// Errors: as [`file`].
pub async fn file_for_reporter(
    state: &crate::reports::ReportsState,
    report_id: &str,
    body: &str,
) -> Result<ReporterObjection, ObjectionError> {
    let calendar = state.calendar.current();
    let now = state.clock.now_naive();
    let (report_id, body) = (report_id.to_string(), body.to_string());
    let outcome = db::run(&state.pool, move |conn| {
        Ok(file(conn, &report_id, &body, &calendar, now))
    })
    .await?;
    outcome
}

/// Decides every open objection of case `case_id`, as `by` at `now` (UTC): status `decided`,
/// outcome `case_reopened`, `decided_by` the user of `by` (null for a non-user actor), and one
/// audit entry `objection.decided` (entity `objection`) each. Returns the ids decided (empty
/// when none was open).
///
/// Call it inside the reopening's own write transaction (`POST /cases/{id}/reopen`, issue 10
/// item 6: a reopened case answers the objection). It does not touch `cases.due_on`: the
/// reopening recomputes it with `cases::due_on_with_objections`, which then finds no open
/// objection.
///
/// Errors: any database error (the caller's transaction then rolls back).
pub fn decide_open(
    conn: &mut DbConnection,
    case_id: &str,
    by: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Vec<ObjectionId>> {
    let open: Vec<ObjectionId> = objections::table
        .filter(objections::case_id.eq(case_id))
        .filter(objections::status.eq(ObjectionStatus::Open))
        .order((objections::created_at.asc(), objections::id.asc()))
        .select(objections::id)
        .load(conn)?;
    let decided_by = match by {
        Actor::User(id) => Some(UserId::from(id.as_str())),
        _ => None,
    };
    for id in &open {
        diesel::update(
            objections::table
                .filter(objections::id.eq(id))
                .filter(objections::status.eq(ObjectionStatus::Open)),
        )
        .set(Decision {
            status: ObjectionStatus::Decided,
            outcome: Some(rules::OUTCOME_CASE_REOPENED.to_string()),
            decided_by: decided_by.clone(),
            decided_at: Some(now),
        })
        .execute(conn)?;
        audit::record(
            conn,
            now,
            by,
            "objection.decided",
            "objection",
            id.as_str(),
            serde_json::json!({"case_id": case_id, "outcome": rules::OUTCOME_CASE_REOPENED}),
        )?;
    }
    Ok(open)
}

/// The earliest `due_on` of the open objections of case `case_id` (county date), or `None`.
///
/// Errors: any database error.
pub fn earliest_open_due(conn: &mut DbConnection, case_id: &str) -> QueryResult<Option<NaiveDate>> {
    objections::table
        .filter(objections::case_id.eq(case_id))
        .filter(objections::status.eq(ObjectionStatus::Open))
        .select(diesel::dsl::min(objections::due_on))
        .first(conn)
}

/// The earliest `due_on` of the open objections of each of the cases `case_ids` that has one
/// (county dates), for the queue.
///
/// Errors: any database error.
pub fn earliest_open_due_by_case(
    conn: &mut DbConnection,
    case_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, NaiveDate>> {
    let mut out = std::collections::HashMap::new();
    if case_ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<OpenDueRow> = objections::table
        .filter(objections::case_id.eq_any(case_ids))
        .filter(objections::status.eq(ObjectionStatus::Open))
        .select(OpenDueRow::as_select())
        .load(conn)?;
    for row in rows {
        out.entry(row.case_id.into_string())
            .and_modify(|d: &mut NaiveDate| *d = (*d).min(row.due_on))
            .or_insert(row.due_on);
    }
    Ok(out)
}

/// The objections of case `case_id`, oldest first, as staff see them on `today` (county date).
///
/// Errors: any database error.
pub fn of_case(
    conn: &mut DbConnection,
    case_id: &str,
    today: NaiveDate,
) -> QueryResult<Vec<ObjectionView>> {
    let rows: Vec<(ObjectionRow, CaseRefRow)> = objections::table
        .inner_join(cases::table)
        .filter(objections::case_id.eq(case_id))
        .order((objections::created_at.asc(), objections::id.asc()))
        .select((ObjectionRow::as_select(), CaseRefRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(o, c)| view(o, c.number, today))
        .collect())
}

/// The ids of every objection of case `case_id` (for the case's timeline).
///
/// Errors: any database error.
pub fn ids_of_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    objections::table
        .filter(objections::case_id.eq(case_id))
        .select(objections::id)
        .load(conn)
}

/// The query of `GET /objections`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct ObjectionQuery {
    /// `open | decided`; without it, all.
    pub status: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A page of objections.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectionPage {
    pub items: Vec<ObjectionView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn cursor_of(row: &ObjectionRow) -> String {
    let key = format!(
        "{}|{}",
        row.created_at.format("%Y-%m-%dT%H:%M:%S%.6f"),
        row.id
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let (time, id) = raw.split_once('|')?;
    if text::forbidden_char(id).is_some() {
        return None;
    }
    let time = NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some((time, id.to_string()))
}

/// Objections, oldest first (so, for open ones, the earliest deadline first), as `query` asks,
/// on `today` (county date). `visible_teams`: `None` for staff who see every case (supervisors,
/// auditors), else the teams whose cases the viewer may see (investigators).
///
/// Errors: `Invalid` (422) naming `status`, `limit` or `cursor`; database errors.
pub fn list(
    conn: &mut DbConnection,
    visible_teams: Option<Vec<TeamId>>,
    query: &ObjectionQuery,
    today: NaiveDate,
) -> Result<ObjectionPage, ObjectionError> {
    let mut problems = Vec::new();
    let status = query.status.as_deref().and_then(|s| {
        ObjectionStatus::parse(s).or_else(|| {
            problems.push(FieldViolation::new(
                "status",
                ErrorCode::UnknownValue,
                "status is open or decided",
            ));
            None
        })
    });
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        problems.push(
            FieldViolation::new(
                "limit",
                ErrorCode::OutOfRange,
                "limit must be between 1 and 200",
            )
            .limit(MAX_LIMIT as usize),
        );
    }
    let after = match query.cursor.as_deref() {
        None => None,
        Some(c) => decode_cursor(c).or_else(|| {
            problems.push(FieldViolation::new(
                "cursor",
                ErrorCode::Invalid,
                "cursor must be a next_cursor value from a previous page",
            ));
            None
        }),
    };
    if !problems.is_empty() {
        return Err(ObjectionError::Invalid(problems));
    }
    let mut q = objections::table
        .inner_join(cases::table)
        .into_boxed::<MultiBackend>();
    if let Some(s) = status {
        q = q.filter(objections::status.eq(s));
    }
    if let Some(teams) = visible_teams {
        q = q.filter(cases::team_id.eq_any(teams));
    }
    if let Some((time, id)) = after {
        q = q.filter(
            objections::created_at
                .gt(time)
                .or(objections::created_at.eq(time).and(objections::id.gt(id))),
        );
    }
    let rows: Vec<(ObjectionRow, CaseRefRow)> = q
        .order((objections::created_at.asc(), objections::id.asc()))
        .select((ObjectionRow::as_select(), CaseRefRow::as_select()))
        .limit(limit)
        .load(conn)?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|(o, _)| cursor_of(o)))
        .flatten();
    Ok(ObjectionPage {
        items: rows
            .into_iter()
            .map(|(o, c)| view(o, c.number, today))
            .collect(),
        next_cursor,
    })
}

/// The number of open objections (what [`list`] answers for `status=open` over every page),
/// narrowed to `visible_teams` as [`list`] is. For the console's 工作台 (issue 13).
///
/// Errors: any database error.
pub fn count_open(conn: &mut DbConnection, visible_teams: Option<Vec<TeamId>>) -> QueryResult<i64> {
    let mut q = objections::table
        .inner_join(cases::table)
        .filter(objections::status.eq(ObjectionStatus::Open))
        .into_boxed::<MultiBackend>();
    if let Some(teams) = visible_teams {
        q = q.filter(cases::team_id.eq_any(teams));
    }
    q.count().get_result(conn)
}
