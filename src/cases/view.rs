//! What staff read of cases: one case (`GET /cases/{id}`) and the queue (`GET /cases`). Never
//! a reporter's identity: the reports are named by id only, and the thread carries no names.
//!
//! The queue pages by keyset over a stored sort key and the case number (unique), so no case is
//! skipped or repeated while new cases arrive between pages.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Text, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::investigations::{investigations_of, InvestigationView};
use super::models::CaseRow;
use super::{deadlines_of, served_due, teams_of, CaseError, Viewer};
use crate::db::schema::{attachments, case_counts, cases, report_messages, reports};
use crate::db::DbConnection;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::case_status::{self, CaseStatus, Disposition};
use crate::domain::ids::{CaseId, MessageId, ReportId, TeamId, UserId};
use crate::domain::report::Programme;
use crate::domain::subject_level::SubjectLevel;
use crate::domain::text;
use crate::error::{ErrorCode, FieldViolation};
use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::reports::follow_up::removed_kinds;
use crate::reports::models::AttachmentRow;

/// The deadlines of a case (county dates).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDeadlinesView {
    /// When the first report had to be accepted or transferred (5 working days).
    pub triage_due: NaiveDate,
    /// A real-name report is acknowledged by this date (15 working days); null when none.
    pub acknowledge_by: Option<NaiveDate>,
    /// End of preliminary verification; null unless it was decided.
    pub verification_due: Option<NaiveDate>,
    /// The result is fed back by this date; null until the case concludes.
    pub feedback_due: Option<NaiveDate>,
    /// The review date of a case on hold; null otherwise.
    pub review_on: Option<NaiveDate>,
    /// The earliest due date of the case's open investigations; null when none is open.
    pub investigation_due: Option<NaiveDate>,
    /// The earliest deadline of the case's open objections (15 working days from receipt);
    /// null when none is open.
    pub objection_due: Option<NaiveDate>,
    /// The earliest recovery deadline of the case's clawbacks with money outstanding; null when
    /// none. It runs in every status, closed too.
    pub clawback_due: Option<NaiveDate>,
}

/// A message of the thread of one of the case's reports.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseMessage {
    pub id: String,
    pub report_id: String,
    /// `reporter | staff`.
    pub from: &'static str,
    /// `question | acknowledgement | feedback` (staff) or `reply` (the reporter).
    pub kind: String,
    pub body: String,
    pub sent_at: chrono::DateTime<Utc>,
}

/// A file sent with one of the case's reports, or added later. Download with
/// `GET /api/v1/attachments/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseEvidence {
    pub id: String,
    pub report_id: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: chrono::DateTime<Utc>,
    /// `reporter | staff`.
    pub from: &'static str,
    /// The kinds of identifying metadata removed on intake (never their values).
    pub metadata_removed: Vec<String>,
}

/// An internal note (never shown to a reporter).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseNote {
    pub id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// A disclosure of a reporter's identity to a staff member (custodian workflow). None yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityDisclosure {
    pub report_id: String,
    pub to_user_id: String,
    pub at: chrono::DateTime<Utc>,
}

/// A case as staff see it (SPEC.md → "Case").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    /// `AJ-<year>-<6 digits>`.
    pub number: String,
    /// `registered | inquiry | preliminary_verification | on_hold | filing_requested | filed |
    /// concluded | closed | closed_without_action`.
    pub status: String,
    /// Send back as `version` with a change; a stale one is 409 `version_conflict`.
    pub version: i32,
    pub programme: String,
    pub township_code: String,
    pub village_code: String,
    /// `village | township | county`.
    pub subject_level: String,
    pub accused_official_ids: Vec<String>,
    pub team_id: String,
    pub assignee_id: Option<String>,
    /// The reports of the case, the accepted one first, then merged ones.
    pub report_ids: Vec<String>,
    /// `inquiry | preliminary_verification | on_hold | close_without_action | file`, once given.
    pub disposition: Option<String>,
    /// The reason given with the disposition (the reporter sees it for
    /// `close_without_action`).
    pub disposition_reason: Option<String>,
    pub deadlines: CaseDeadlinesView,
    /// The earliest running deadline; null when none.
    pub due_on: Option<NaiveDate>,
    /// That deadline has passed (county date).
    pub overdue: bool,
    /// Who closed the case, when and why; null unless `closed`.
    pub closed_by: Option<String>,
    pub closed_at: Option<chrono::DateTime<Utc>>,
    pub close_reason: Option<String>,
    /// What the rules allow next: disposition names, `approve_filing`, `reject_filing`, …
    pub allowed_actions: Vec<String>,
    /// The primary investigation first, then the accountability investigation (一案双查);
    /// empty until the case is filed.
    pub investigations: Vec<InvestigationView>,
    /// The village suspension the case's filing opened or joined; null until filed.
    pub suspension_id: Option<String>,
    pub messages: Vec<CaseMessage>,
    /// The evidence of every report of the case, merged ones included.
    pub evidence: Vec<CaseEvidence>,
    pub notes: Vec<CaseNote>,
    pub identity_disclosures: Vec<IdentityDisclosure>,
    /// The reporters' objections to the results fed back, oldest first (`objection_due` is the
    /// earliest deadline of the open ones).
    pub objections: Vec<crate::objections::ObjectionView>,
    pub received_at: chrono::DateTime<Utc>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = report_messages)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
struct CaseMessageRow {
    id: MessageId,
    report_id: ReportId,
    author_kind: String,
    kind: String,
    body: String,
    created_at: NaiveDateTime,
}

/// The ids of the reports of case `case_id`, oldest first.
///
/// Errors: any database error.
pub fn report_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<ReportId>> {
    reports::table
        .filter(reports::case_id.eq(case_id))
        .order((reports::submitted_at.asc(), reports::number.asc()))
        .select(reports::id)
        .load(conn)
}

/// The full view of case `row` on `today` (county date): its reports and their messages, its
/// investigations (without false-accusation findings: see [`case_view_for`]).
///
/// Errors: any database error.
pub fn case_view(conn: &mut DbConnection, row: CaseRow, today: NaiveDate) -> QueryResult<CaseView> {
    case_view_for(conn, row, today, false)
}

/// As [`case_view`], with the investigations' false-accusation findings when
/// `with_false_accusations` (supervisors, `investigations::reads_false_accusations`).
///
/// Errors: any database error.
pub fn case_view_for(
    conn: &mut DbConnection,
    row: CaseRow,
    today: NaiveDate,
    with_false_accusations: bool,
) -> QueryResult<CaseView> {
    let ids = report_ids(conn, row.id.as_str())?;
    let messages = report_messages::table
        .filter(report_messages::report_id.eq_any(&ids))
        .order((report_messages::created_at.asc(), report_messages::id.asc()))
        .select(CaseMessageRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| CaseMessage {
            id: m.id.into_string(),
            report_id: m.report_id.into_string(),
            from: if m.author_kind == "reporter" {
                "reporter"
            } else {
                "staff"
            },
            kind: m.kind,
            body: m.body,
            sent_at: m.created_at.and_utc(),
        })
        .collect();
    let evidence = attachments::table
        .filter(attachments::report_id.eq_any(&ids))
        .order((attachments::created_at.asc(), attachments::id.asc()))
        .select(AttachmentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| CaseEvidence {
            id: a.id.into_string(),
            report_id: a.report_id.into_string(),
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            uploaded_at: a.created_at.and_utc(),
            from: if a.uploaded_by == "reporter" {
                "reporter"
            } else {
                "staff"
            },
            metadata_removed: removed_kinds(&a.metadata_removed),
        })
        .collect();
    let objection_due = crate::objections::earliest_open_due(conn, row.id.as_str())?;
    // The earliest running deadline, open objections included (as `due_on_with_objections`).
    let due = case_status::earliest_open_deadline(row.status, &deadlines_of(&row))
        .into_iter()
        .chain(objection_due)
        .min();
    let objections = crate::objections::of_case(conn, row.id.as_str(), today)?;
    let disclosures = crate::custodian::disclosures_for_case(conn, row.id.as_str())?;
    let investigations = investigations_of(conn, with_false_accusations, row.id.as_str())?;
    let suspension_id = crate::suspensions::suspension_of_case(conn, row.id.as_str())?;
    // The actions the case allows now: those of its status whose precondition holds (a filed
    // case reopens only a concluded primary investigation; the other preconditions are checked
    // by the action itself and answered with every reason).
    let primary_concluded = investigations
        .iter()
        .any(|i| i.kind == "primary" && i.status == "concluded");
    let allowed_actions = case_status::allowed_actions(row.status)
        .into_iter()
        .filter(|a| {
            !(row.status == CaseStatus::Filed
                && *a == case_status::CaseAction::Reopen
                && !primary_concluded)
        })
        .map(|a| a.as_str().to_string())
        .collect();
    Ok(CaseView {
        id: row.id.to_string(),
        number: row.number,
        status: row.status.as_str().to_string(),
        version: row.version,
        programme: row.programme.as_str().to_string(),
        township_code: row.township_code,
        village_code: row.village_code,
        subject_level: row.subject_level.as_str().to_string(),
        accused_official_ids: serde_json::from_str(&row.accused_official_ids).unwrap_or_default(),
        team_id: row.team_id.into_string(),
        assignee_id: row.assignee_id.map(|a| a.into_string()),
        report_ids: ids.into_iter().map(ReportId::into_string).collect(),
        disposition: row.disposition.map(|d| d.as_str().to_string()),
        disposition_reason: row.disposition_reason,
        deadlines: CaseDeadlinesView {
            triage_due: row.triage_due,
            acknowledge_by: row.acknowledge_by,
            verification_due: row.verification_due,
            feedback_due: row.feedback_due,
            review_on: row.review_on,
            investigation_due: row.investigation_due,
            objection_due,
            clawback_due: row.clawback_due,
        },
        due_on: due,
        overdue: case_status::is_overdue(due, today),
        closed_by: row.closed_by.map(|u| u.into_string()),
        closed_at: row.closed_at.map(|t| t.and_utc()),
        close_reason: row.close_reason,
        allowed_actions,
        investigations,
        suspension_id: suspension_id.map(|s| s.into_string()),
        messages,
        evidence,
        notes: super::notes::notes_of(conn, row.id.as_str())?,
        identity_disclosures: disclosures
            .into_iter()
            .map(|d| IdentityDisclosure {
                report_id: d.report_id,
                to_user_id: d.to_user_id,
                at: d.at,
            })
            .collect(),
        objections,
        received_at: row.received_at.and_utc(),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// The query of `GET /cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct CaseQuery {
    /// A case status (see `CaseView.status`).
    pub status: Option<String>,
    /// A user id, or `me`.
    pub assignee: Option<String>,
    /// A team id.
    pub team: Option<String>,
    /// A 9-digit township code.
    pub township: Option<String>,
    /// A 12-digit village code.
    pub village: Option<String>,
    /// `dibao | house_renovation | poverty_identification | other`.
    pub programme: Option<String>,
    /// `true`: only cases past their earliest running deadline; `false`: only the others.
    pub overdue: Option<bool>,
    /// `YYYY-MM-DD`: only cases whose earliest running deadline is before this date.
    pub due_before: Option<String>,
    /// 0–30: only cases whose earliest running deadline is today or within this many working
    /// days after today (the county's working-day calendar, as the deadlines themselves are
    /// counted; `2` on a Friday reaches Tuesday). Overdue cases are not included (ask
    /// `overdue=true` for those).
    pub due_within_days: Option<i64>,
    /// `due` (default: earliest running deadline first, cases without one last), `received`
    /// (oldest first) or `updated` (most recently changed first).
    pub sort: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page (of the same sort).
    pub cursor: Option<String>,
}

/// One case in the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub number: String,
    pub status: String,
    pub version: i32,
    pub programme: String,
    pub township_code: String,
    pub village_code: String,
    pub subject_level: String,
    pub team_id: String,
    pub assignee_id: Option<String>,
    pub disposition: Option<String>,
    /// The earliest running deadline; null when none.
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    /// The date the result is due to a real-name reporter: set when the primary investigation
    /// concludes, shown until a `feedback` message is sent; null otherwise.
    pub feedback_due: Option<NaiveDate>,
    /// The earliest deadline of the case's open objections (counted in `due_on`); null when
    /// none is open.
    pub objection_due: Option<NaiveDate>,
    pub received_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// What the queue reads of a case: the columns of [`CaseSummary`] and the sort keys, not the
/// whole [`CaseRow`] (a page decodes 50 of these).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
struct QueueRow {
    id: CaseId,
    number: String,
    status: CaseStatus,
    version: i32,
    programme: Programme,
    township_code: String,
    village_code: String,
    subject_level: SubjectLevel,
    team_id: TeamId,
    assignee_id: Option<UserId>,
    disposition: Option<Disposition>,
    due_on: NaiveDate,
    feedback_due: Option<NaiveDate>,
    received_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A page of the queue, with the number of cases in each status for the same filters (all
/// filters but `status` and the cursor, so the counts serve as tabs).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Status → number of cases.
    pub counts: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Due,
    Received,
    Updated,
}

/// The validated filters of a queue request.
struct Filters {
    status: Option<CaseStatus>,
    assignee: Option<String>,
    team: Option<String>,
    township: Option<String>,
    village: Option<String>,
    programme: Option<Programme>,
    overdue: Option<bool>,
    due_before: Option<NaiveDate>,
    /// The last date of `due_within_days` (inclusive); the first is `today`.
    due_by: Option<NaiveDate>,
    visible_teams: Option<Vec<TeamId>>,
    today: NaiveDate,
}

impl Filters {
    /// Whether the counts of these filters can be read from `case_counts` (migration 000013),
    /// which a trigger keeps per team, assignee and status in the transaction of every write to
    /// `cases`: only the team and assignee filters (and an investigator's own teams) narrow the
    /// queue. An empty `assignee` matches no case, but would match the unassigned row of
    /// `case_counts` (stored as `''`), so it is counted from `cases`.
    fn counted_by_team_and_assignee(&self) -> bool {
        self.township.is_none()
            && self.village.is_none()
            && self.programme.is_none()
            && self.overdue.is_none()
            && self.due_before.is_none()
            && self.due_by.is_none()
            && self.assignee.as_deref() != Some("")
    }
}

/// `$query` (a boxed query of `cases`, of any select and grouping) narrowed by every filter of
/// `$f` but `status` and the cursor.
macro_rules! filtered {
    ($query:expr, $f:expr) => {{
        let f: &Filters = $f;
        let mut q = $query;
        if let Some(a) = &f.assignee {
            q = q.filter(cases::assignee_id.eq(a.clone()));
        }
        if let Some(t) = &f.team {
            q = q.filter(cases::team_id.eq(t.clone()));
        }
        if let Some(t) = &f.township {
            q = q.filter(cases::township_code.eq(t.clone()));
        }
        if let Some(v) = &f.village {
            q = q.filter(cases::village_code.eq(v.clone()));
        }
        if let Some(p) = f.programme {
            q = q.filter(cases::programme.eq(p.as_str().to_string()));
        }
        // Closed cases keep the "no deadline" date, so a date comparison is the whole rule.
        match f.overdue {
            Some(true) => q = q.filter(cases::due_on.lt(f.today)),
            Some(false) => q = q.filter(cases::due_on.ge(f.today)),
            None => {}
        }
        if let Some(d) = f.due_before {
            q = q.filter(cases::due_on.lt(d));
        }
        if let Some(d) = f.due_by {
            q = q.filter(cases::due_on.ge(f.today).and(cases::due_on.le(d)));
        }
        if let Some(teams) = &f.visible_teams {
            q = q.filter(cases::team_id.eq_any(teams.clone()));
        }
        q
    }};
}

/// The number of cases in a status (one row of a grouped count).
#[derive(Debug, Clone, Queryable)]
struct StatusCount {
    status: String,
    n: i64,
}

/// The number of cases in each status under `f` (every filter but `status` and the cursor):
/// every status is present, 0 when none.
///
/// Filtered by team and assignee only, the sums of the matching rows of `case_counts` (a few
/// rows per team and assignee, whatever the number of cases), one per status; otherwise one grouped count of
/// `cases`, which the indexes of migration 000013 answer from the index for the assignee,
/// team and deadline filters.
///
/// Errors: any database error.
fn status_counts(conn: &mut DbConnection, f: &Filters) -> QueryResult<BTreeMap<String, i64>> {
    let found: Vec<StatusCount> = if f.counted_by_team_and_assignee() {
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, so both backends give an i64.
        let mut q = case_counts::table
            .group_by(case_counts::status)
            .select((
                case_counts::status,
                sql::<BigInt>("CAST(SUM(case_counts.n) AS BIGINT)"),
            ))
            .into_boxed();
        if let Some(a) = &f.assignee {
            q = q.filter(case_counts::assignee_id.eq(a.clone()));
        }
        if let Some(t) = &f.team {
            q = q.filter(case_counts::team_id.eq(t.clone()));
        }
        if let Some(teams) = &f.visible_teams {
            q = q.filter(case_counts::team_id.eq_any(teams.clone()));
        }
        q.load(conn)?
    } else {
        filtered!(
            cases::table
                .group_by(cases::status)
                .select((cases::status, count_star()))
                .into_boxed(),
            f
        )
        .load(conn)?
    };
    let mut counts: BTreeMap<String, i64> = CaseStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for c in found {
        if let Some(n) = counts.get_mut(&c.status) {
            *n += c.n;
        }
    }
    Ok(counts)
}

fn invalid(field: &'static str, code: ErrorCode, message: &str) -> FieldViolation {
    FieldViolation::new(field, code, message)
}

/// A stored timestamp as a cursor key (microseconds, which both backends keep exactly).
fn time_key(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The longest `due_within_days`, in working days.
pub const DUE_WITHIN_MAX: i64 = 30;

/// The last county date of "due within `n` working days" on `today`: `n` working days after
/// `today` on `calendar` (`today` itself when `n` is 0), as deadlines are counted.
pub fn due_within_end(calendar: &WorkingCalendar, today: NaiveDate, n: u32) -> NaiveDate {
    calendar.add_working_days(today, n)
}

/// Whether deadline `due` is today or within `n` working days after `today` (the queue's
/// `due_within_days` filter; an overdue date is not).
pub fn within_working_days(
    calendar: &WorkingCalendar,
    today: NaiveDate,
    n: u32,
    due: NaiveDate,
) -> bool {
    due >= today && due <= due_within_end(calendar, today, n)
}

/// The queue for `viewer` on `today` (county date), as `query` asks; `calendar` counts the
/// working days of `due_within_days` (the server's `CasesState::calendar`).
///
/// Errors: `Invalid` (422) naming each bad filter, `limit` or `cursor`; database errors.
pub fn queue(
    conn: &mut DbConnection,
    viewer: &Viewer,
    query: &CaseQuery,
    today: NaiveDate,
    calendar: &WorkingCalendar,
) -> Result<CasePage, CaseError> {
    let mut problems = Vec::new();
    let status = query.status.as_deref().and_then(|s| {
        CaseStatus::parse(s).or_else(|| {
            problems.push(invalid(
                "status",
                ErrorCode::UnknownValue,
                "status is a case status",
            ));
            None
        })
    });
    let programme = query.programme.as_deref().and_then(|s| {
        Programme::parse(s).or_else(|| {
            problems.push(invalid(
                "programme",
                ErrorCode::UnknownValue,
                "programme is one of dibao, house_renovation, poverty_identification, other",
            ));
            None
        })
    });
    let due_before = query.due_before.as_deref().and_then(|s| {
        crate::domain::text::parse_date(s)
            .ok_or(())
            .map_err(|_| {
                problems.push(invalid(
                    "due_before",
                    ErrorCode::InvalidDate,
                    "due_before is a date, YYYY-MM-DD",
                ))
            })
            .ok()
    });
    let due_by = match query.due_within_days {
        None => None,
        Some(n) if (0..=DUE_WITHIN_MAX).contains(&n) => {
            Some(due_within_end(calendar, today, n as u32))
        }
        Some(_) => {
            problems.push(
                invalid(
                    "due_within_days",
                    ErrorCode::OutOfRange,
                    "due_within_days must be between 0 and 30 (working days)",
                )
                .limit(DUE_WITHIN_MAX as usize),
            );
            None
        }
    };
    let sort = match query.sort.as_deref() {
        None | Some("due") => Sort::Due,
        Some("received") => Sort::Received,
        Some("updated") => Sort::Updated,
        Some(_) => {
            problems.push(invalid(
                "sort",
                ErrorCode::UnknownValue,
                "sort is one of due, received, updated",
            ));
            Sort::Due
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        problems.push(
            invalid(
                "limit",
                ErrorCode::OutOfRange,
                "limit must be between 1 and 200",
            )
            .limit(MAX_LIMIT as usize),
        );
    }
    for (field, value) in [
        ("assignee", &query.assignee),
        ("team", &query.team),
        ("township", &query.township),
        ("village", &query.village),
    ] {
        if let Some(v) = value {
            if let Err(e) = text::check_controls(field, v) {
                problems.push(e);
            }
        }
    }
    let after = match query.cursor.as_deref() {
        None => None,
        Some(c) => match decode_cursor(c, sort) {
            Some(key) => Some(key),
            None => {
                problems.push(invalid(
                    "cursor",
                    ErrorCode::Invalid,
                    "cursor must be a next_cursor value from a previous page of the same sort",
                ));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(CaseError::Invalid(problems));
    }
    let visible_teams = if viewer.sees_all() {
        None
    } else {
        Some(teams_of(conn, &viewer.user_id)?)
    };
    let filters = Filters {
        status,
        assignee: query.assignee.as_ref().map(|a| {
            if a == "me" {
                viewer.user_id.clone()
            } else {
                a.clone()
            }
        }),
        team: query.team.clone(),
        // Codes typed on a phone may come in full width or with separators, as everywhere else.
        township: query
            .township
            .as_deref()
            .map(crate::domain::text::compact_code),
        village: query
            .village
            .as_deref()
            .map(crate::domain::text::compact_code),
        programme,
        overdue: query.overdue,
        due_before,
        due_by,
        visible_teams,
        today,
    };

    let mut q = filtered!(cases::table.into_boxed(), &filters);
    if let Some(s) = filters.status {
        q = q.filter(cases::status.eq(s.as_str().to_string()));
    }
    // The rows strictly after the cursor, as one row-value comparison `(key, number) > (?, ?)`:
    // both backends answer it with a range of the `(key, number, …)` index, so a page 50,000
    // cases deep costs what the first does (docs/benchmarks.md). diesel has no row values; the
    // columns are `cases`' own.
    q = match (sort, after) {
        (_, None) => q,
        (Sort::Due, Some(Key::Date(d, n))) => q.filter(
            sql::<Bool>("(cases.due_on, cases.number) > (")
                .bind::<Date, _>(d)
                .sql(", ")
                .bind::<Text, _>(n)
                .sql(")"),
        ),
        (Sort::Received, Some(Key::Time(t, n))) => q.filter(
            sql::<Bool>("(cases.received_at, cases.number) > (")
                .bind::<Timestamp, _>(t)
                .sql(", ")
                .bind::<Text, _>(n)
                .sql(")"),
        ),
        (Sort::Updated, Some(Key::Time(t, n))) => q.filter(
            sql::<Bool>("(cases.updated_at, cases.number) < (")
                .bind::<Timestamp, _>(t)
                .sql(", ")
                .bind::<Text, _>(n)
                .sql(")"),
        ),
        _ => q,
    };
    q = match sort {
        Sort::Due => q.order((cases::due_on.asc(), cases::number.asc())),
        Sort::Received => q.order((cases::received_at.asc(), cases::number.asc())),
        Sort::Updated => q.order((cases::updated_at.desc(), cases::number.desc())),
    };
    let rows: Vec<QueueRow> = q.select(QueueRow::as_select()).limit(limit).load(conn)?;
    let counts = status_counts(conn, &filters)?;

    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| encode_cursor(r, sort)))
        .flatten();
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let objection_due = crate::objections::earliest_open_due_by_case(conn, &ids)?;
    let items = rows
        .into_iter()
        .map(|r| {
            let due = served_due(r.due_on);
            let objection_due = objection_due.get(r.id.as_str()).copied();
            CaseSummary {
                id: r.id.into_string(),
                number: r.number,
                status: r.status.as_str().to_string(),
                version: r.version,
                programme: r.programme.as_str().to_string(),
                township_code: r.township_code,
                village_code: r.village_code,
                subject_level: r.subject_level.as_str().to_string(),
                team_id: r.team_id.into_string(),
                assignee_id: r.assignee_id.map(|a| a.into_string()),
                disposition: r.disposition.map(|d| d.as_str().to_string()),
                due_on: due,
                overdue: case_status::is_overdue(due, today),
                feedback_due: r.feedback_due,
                objection_due,
                received_at: r.received_at.and_utc(),
                updated_at: r.updated_at.and_utc(),
            }
        })
        .collect();
    Ok(CasePage {
        items,
        next_cursor,
        counts,
    })
}

enum Key {
    Date(NaiveDate, String),
    Time(NaiveDateTime, String),
}

fn encode_cursor(row: &QueueRow, sort: Sort) -> String {
    let key = match sort {
        Sort::Due => format!("d|{}|{}", row.due_on, row.number),
        Sort::Received => format!("r|{}|{}", time_key(row.received_at), row.number),
        Sort::Updated => format!("u|{}|{}", time_key(row.updated_at), row.number),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_cursor(cursor: &str, sort: Sort) -> Option<Key> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let mut parts = raw.splitn(3, '|');
    let (tag, key, number) = (parts.next()?, parts.next()?, parts.next()?);
    if text::forbidden_char(number).is_some() {
        return None;
    }
    let number = number.to_string();
    match (sort, tag) {
        (Sort::Due, "d") => NaiveDate::parse_from_str(key, "%Y-%m-%d")
            .ok()
            .map(|d| Key::Date(d, number)),
        (Sort::Received, "r") | (Sort::Updated, "u") => {
            NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| Key::Time(t, number))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn due_within_counts_working_days_and_leaves_out_the_overdue() {
        let calendar = WorkingCalendar::shipped();
        // Friday 4 December 2026: two working days reach Tuesday.
        let friday = d("2026-12-04");
        assert_eq!(due_within_end(&calendar, friday, 2), d("2026-12-08"));
        assert_eq!(due_within_end(&calendar, friday, 0), friday);
        assert!(within_working_days(&calendar, friday, 2, friday));
        assert!(within_working_days(&calendar, friday, 2, d("2026-12-06")));
        assert!(within_working_days(&calendar, friday, 2, d("2026-12-08")));
        assert!(!within_working_days(&calendar, friday, 2, d("2026-12-09")));
        assert!(!within_working_days(&calendar, friday, 2, d("2026-12-03")));
    }
}
