//! What filing a case sets off (SPEC.md rule 2 "一案双查" and rule 4; issue 10, item 2), inside
//! the approving filing decision's own write transaction, so that all of it or none of it
//! happens:
//!
//! 1. the **primary investigation** (the conduct): target the subject's own level and division,
//!    the accused officials, assignee the case's assignee, due `deadlines.investigation_days`
//!    calendar days after the filing day (90 by default);
//! 2. the linked **accountability investigation**, when the escalation map
//!    (`accountability.escalation`) names a level above the subject's: into the leadership of
//!    the village's township (its officials on record holding the four
//!    `divisions::officials::TOWNSHIP_POSTS`) or of the county (its county-level officials on
//!    record, possibly none); assigned to another active investigator of the case's team than
//!    the primary's assignee who declared no conflict covering the case (the least loaded), or
//!    to nobody with the reason in `assignment_note`; due `deadlines.accountability_days` (90);
//! 3. the audit entries (`investigation.opened`, entity `investigation`) and an
//!    `investigation_assigned` email job to each assignee with an address (content-free);
//! 4. the village's **suspension**, opened or joined (`suspensions::suspend_for_case`).
//!
//! A county-level subject gets no accountability investigation by default; the filing answer
//! says so (`accountability.opened: false` with the reason).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::{CaseRow, InvestigationOfficialRow, InvestigationRow};
use super::CaseError;
use crate::audit::{self, Actor};
use crate::db::schema::{cases, divisions, investigations, officials, report_messages, reports};
use crate::db::DbConnection;
use crate::divisions::models::OfficialRow;
use crate::divisions::officials::TOWNSHIP_POSTS;
use crate::domain::case_status::CaseDeadlines;
use crate::domain::divisions::Level;
use crate::domain::ids::{InvestigationId, OfficialId, SuspensionId, UserId};
use crate::domain::investigation::{
    self, EscalationMap, InvestigationKind, InvestigationStatus, FEEDBACK_WORKING_DAYS,
};
use crate::error::ApiError;

/// Whether filing opened an accountability investigation (part of the filing answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccountabilityOutcome {
    /// True when an accountability investigation was opened (一案双查).
    pub opened: bool,
    /// The investigation opened; null when none.
    pub investigation_id: Option<String>,
    /// `township | county`: whose leadership it looks into; null when none.
    pub target_level: Option<String>,
    pub target_division_code: Option<String>,
    /// Why none was opened; null when one was.
    pub reason: Option<String>,
}

/// What filing opened.
#[derive(Debug, Clone)]
pub struct FilingEffects {
    pub primary_id: InvestigationId,
    pub accountability: AccountabilityOutcome,
    pub suspension_id: SuspensionId,
}

/// The days and settings filing needs.
#[derive(Debug, Clone)]
pub struct FilingContext {
    /// The filing day in the county.
    pub today: NaiveDate,
    pub now: NaiveDateTime,
    pub investigation_days: u32,
    pub accountability_days: u32,
    pub escalation: EscalationMap,
}

impl FilingContext {
    /// The due dates (county dates) of the primary investigation and, when the escalation map
    /// names a level above `row`'s subject, of the accountability investigation, for a case
    /// filed today.
    pub fn due_dates(&self, row: &CaseRow) -> (NaiveDate, Option<NaiveDate>) {
        let primary = investigation::due_after(self.today, self.investigation_days);
        let accountability = self
            .escalation
            .target(row.subject_level)
            .map(|_| investigation::due_after(self.today, self.accountability_days));
        (primary, accountability)
    }
}

/// The county of `township_code`: its parent division (the first six digits when the parent is
/// not on record).
fn county_of(conn: &mut DbConnection, township_code: &str) -> QueryResult<String> {
    let parent: Option<Option<String>> = divisions::table
        .find(township_code)
        .select(divisions::parent_code)
        .first(conn)
        .optional()?;
    Ok(parent
        .flatten()
        .unwrap_or_else(|| township_code.get(..6).unwrap_or(township_code).to_string()))
}

/// The division of `level` that a case in `row`'s village and township lies in.
fn division_at(conn: &mut DbConnection, row: &CaseRow, level: Level) -> QueryResult<String> {
    Ok(match level {
        Level::Village => row.village_code.clone(),
        Level::Township => row.township_code.clone(),
        Level::County => county_of(conn, &row.township_code)?,
    })
}

/// The leaders on record whose supervisory duty an accountability investigation into
/// `division` (of `level`) looks into: a township's active officials holding one of the four
/// `TOWNSHIP_POSTS` (in that order), or a county's active county-level officials.
///
/// Errors: any database error.
pub fn leaders_of(
    conn: &mut DbConnection,
    level: Level,
    division: &str,
) -> QueryResult<Vec<OfficialId>> {
    let mut rows: Vec<OfficialRow> = officials::table
        .filter(officials::division_code.eq(division))
        .filter(officials::level.eq(level))
        .filter(officials::active.eq(true))
        .order((officials::created_at, officials::id))
        .select(OfficialRow::as_select())
        .load(conn)?;
    if level == Level::Township {
        rows.retain(|o| TOWNSHIP_POSTS.contains(&o.post.as_str()));
        rows.sort_by_key(|o| TOWNSHIP_POSTS.iter().position(|p| *p == o.post));
    }
    Ok(rows.into_iter().map(|o| o.id).collect())
}

/// The investigator for the accountability investigation of case `row`: an active investigator
/// of the case's team other than `primary` who declared no conflict covering the case's
/// village or township, the one with the fewest open investigations (then by id); or `None`
/// with the reason.
///
/// Errors: any database error.
fn other_investigator(
    conn: &mut DbConnection,
    row: &CaseRow,
    primary: Option<&UserId>,
) -> QueryResult<Result<UserId, String>> {
    let mut others = Vec::new();
    for user in crate::routing::members(conn, &row.team_id)? {
        if Some(&user) != primary
            && super::assign::is_active_investigator_of_team(conn, row, &user)?
        {
            others.push(user);
        }
    }
    if others.is_empty() {
        return Ok(Err(
            "The case's team has no other active investigator than the primary \
             investigation's assignee, so the accountability investigation is unassigned."
                .to_string(),
        ));
    }
    let mut free = Vec::new();
    for user in others {
        if crate::conflicts::find_conflict(
            conn,
            &user,
            &row.township_code,
            Some(&row.village_code),
        )?
        .is_none()
        {
            let load: i64 = investigations::table
                .filter(investigations::assignee_id.eq(&user))
                .filter(investigations::status.eq(InvestigationStatus::Open))
                .count()
                .get_result(conn)?;
            free.push((load, user));
        }
    }
    free.sort();
    Ok(match free.into_iter().next() {
        Some((_, user)) => Ok(user),
        None => Err(
            "Every other investigator of the case's team declared a conflict of interest \
             covering this village or township, so the accountability investigation is \
             unassigned."
                .to_string(),
        ),
    })
}

/// The Chinese name of an investigation kind, for the assignee's email.
fn kind_zh(kind: InvestigationKind) -> &'static str {
    match kind {
        InvestigationKind::Primary => "审查调查",
        InvestigationKind::Accountability => "一案双查问责调查",
    }
}

/// Inserts one open investigation of `row` with its officials, records
/// `investigation.opened`, and queues the content-free `investigation_assigned` email to its
/// assignee (when they have an address).
#[allow(clippy::too_many_arguments)]
fn open_investigation(
    conn: &mut DbConnection,
    row: &CaseRow,
    kind: InvestigationKind,
    target: (Level, String),
    official_ids: &[OfficialId],
    assignee: Option<UserId>,
    assignment_note: Option<String>,
    due_on: NaiveDate,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<InvestigationId, CaseError> {
    let id = InvestigationId::generate();
    diesel::insert_into(investigations::table)
        .values(InvestigationRow {
            id: id.clone(),
            case_id: row.id.clone(),
            kind,
            target_level: target.0,
            target_division_code: target.1.clone(),
            assignee_id: assignee.clone(),
            assignment_note: assignment_note.clone(),
            due_on,
            status: InvestigationStatus::Open,
            outcome: None,
            findings: None,
            concluded_by: None,
            concluded_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    for (position, official) in (0..).zip(official_ids) {
        diesel::insert_into(crate::db::schema::investigation_officials::table)
            .values(InvestigationOfficialRow {
                investigation_id: id.clone(),
                official_id: official.clone(),
                position,
            })
            .execute(conn)?;
    }
    audit::record(
        conn,
        now,
        actor,
        "investigation.opened",
        "investigation",
        id.as_str(),
        serde_json::json!({
            "case_id": row.id,
            "case_number": row.number,
            "kind": kind.as_str(),
            "target_level": target.0.as_str(),
            "target_division_code": target.1,
            "official_ids": official_ids,
            "assignee_id": assignee,
            "assignment_note": assignment_note,
            "due_on": due_on,
        }),
    )?;
    if let Some(user) = &assignee {
        notify_assignee(conn, user, &row.number, kind)?;
    }
    Ok(id)
}

/// Queues the `investigation_assigned` email to `user` when they have an address: it names the
/// case number and the kind of investigation, nothing of its content.
fn notify_assignee(
    conn: &mut DbConnection,
    user: &UserId,
    case_number: &str,
    kind: InvestigationKind,
) -> Result<(), CaseError> {
    let email: Option<Option<String>> = crate::db::schema::users::table
        .find(user.as_str())
        .select(crate::db::schema::users::email)
        .first(conn)
        .optional()?;
    if let Some(email) = email.flatten() {
        crate::notify::enqueue(
            conn,
            "investigation_assigned",
            &email,
            serde_json::json!({ "case_number": case_number, "kind_zh": kind_zh(kind) }),
        )
        .map_err(|e| CaseError::Failed(ApiError::unexpected(e.into())))?;
    }
    Ok(())
}

/// Opens what filing case `row` (already `filed`) sets off: both investigations, their audit
/// entries and emails, and the village's suspension (see the module docs). Call inside the
/// filing decision's `db::write_tx`; any error rolls all of it back.
///
/// Errors: database errors; a notification that cannot be queued.
pub fn open_on_filing(
    conn: &mut DbConnection,
    row: &CaseRow,
    actor: &Actor,
    ctx: &FilingContext,
) -> Result<FilingEffects, CaseError> {
    let (primary_due, accountability_due) = ctx.due_dates(row);
    let own_level = investigation::division_level(row.subject_level).unwrap_or(Level::Village);
    let own_division = division_at(conn, row, own_level)?;
    let accused: Vec<OfficialId> =
        serde_json::from_str(&row.accused_official_ids).unwrap_or_default();
    let primary_assignee = row.assignee_id.clone();
    let primary_note = primary_assignee.is_none().then(|| {
        "The case had no assignee when it was filed; the primary investigation follows the \
         case's assignee once one is assigned."
            .to_string()
    });
    let primary_id = open_investigation(
        conn,
        row,
        InvestigationKind::Primary,
        (own_level, own_division),
        &accused,
        primary_assignee.clone(),
        primary_note,
        primary_due,
        actor,
        ctx.now,
    )?;

    let accountability = match (ctx.escalation.target(row.subject_level), accountability_due) {
        (Some(level), Some(due)) => {
            let division = division_at(conn, row, level)?;
            let leaders = leaders_of(conn, level, &division)?;
            let (assignee, note) = match other_investigator(conn, row, primary_assignee.as_ref())? {
                Ok(user) => (Some(user), None),
                Err(why) => (None, Some(why)),
            };
            let id = open_investigation(
                conn,
                row,
                InvestigationKind::Accountability,
                (level, division.clone()),
                &leaders,
                assignee,
                note,
                due,
                actor,
                ctx.now,
            )?;
            AccountabilityOutcome {
                opened: true,
                investigation_id: Some(id.into_string()),
                target_level: Some(level.as_str().to_string()),
                target_division_code: Some(division),
                reason: None,
            }
        }
        _ => AccountabilityOutcome {
            opened: false,
            investigation_id: None,
            target_level: None,
            target_division_code: None,
            reason: Some(investigation::no_accountability_reason(row.subject_level)),
        },
    };

    let suspended = crate::suspensions::suspend_for_case(
        conn,
        &row.village_code,
        &row.id,
        &row.number,
        actor,
        ctx.now,
    )?;
    Ok(FilingEffects {
        primary_id,
        accountability,
        suspension_id: suspended.suspension_id,
    })
}

/// The earliest due date of case `case_id`'s open investigations, or `None`.
///
/// Errors: any database error.
pub fn open_investigation_due(
    conn: &mut DbConnection,
    case_id: &str,
) -> QueryResult<Option<NaiveDate>> {
    investigations::table
        .filter(investigations::case_id.eq(case_id))
        .filter(investigations::status.eq(InvestigationStatus::Open))
        .select(diesel::dsl::min(investigations::due_on))
        .first(conn)
}

/// The real-name reports of case `case_id` whose reporter has had no `feedback` message since
/// `since` (the primary investigation's current conclusion), by id; with `since` `None` (the
/// primary is open), every real-name report of the case.
///
/// Errors: any database error.
pub fn reports_without_feedback(
    conn: &mut DbConnection,
    case_id: &str,
    since: Option<NaiveDateTime>,
) -> QueryResult<Vec<String>> {
    let named: Vec<String> = reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::anonymous.eq(false))
        .order((reports::submitted_at, reports::number))
        .select(reports::id)
        .load(conn)?;
    let Some(since) = since else {
        return Ok(named);
    };
    let answered: Vec<String> = report_messages::table
        .filter(report_messages::report_id.eq_any(&named))
        .filter(report_messages::kind.eq("feedback"))
        .filter(report_messages::author_kind.eq("staff"))
        .filter(report_messages::created_at.ge(since))
        .select(report_messages::report_id)
        .load(conn)?;
    Ok(named
        .into_iter()
        .filter(|r| !answered.contains(r))
        .collect())
}

/// The feedback date for case `case_id` when its primary investigation concludes on `today`
/// (county date): [`FEEDBACK_WORKING_DAYS`] working days later when the case has a real-name
/// report, `None` for a case of anonymous reports only.
///
/// Errors: any database error.
pub fn feedback_due_from(
    conn: &mut DbConnection,
    case_id: &str,
    calendar: &crate::domain::calendar::WorkingCalendar,
    today: NaiveDate,
) -> QueryResult<Option<NaiveDate>> {
    let named: i64 = reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::anonymous.eq(false))
        .count()
        .get_result(conn)?;
    Ok((named > 0).then(|| calendar.add_working_days(today, FEEDBACK_WORKING_DAYS)))
}

/// Clears case `case_id`'s feedback deadline once every real-name reporter has had a feedback
/// message since the primary investigation's conclusion, and recomputes the case's `due_on`;
/// does nothing otherwise. The messages endpoint calls this in the transaction that sends a
/// `feedback` message (tests call it after inserting one). Idempotent.
///
/// Errors: any database error.
pub fn feedback_recorded(
    conn: &mut DbConnection,
    case_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(row) = cases::table
        .find(case_id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(());
    };
    if row.feedback_due.is_none() {
        return Ok(());
    }
    let concluded_at: Option<Option<NaiveDateTime>> = investigations::table
        .filter(investigations::case_id.eq(case_id))
        .filter(investigations::kind.eq(InvestigationKind::Primary))
        .select(investigations::concluded_at)
        .first(conn)
        .optional()?;
    let Some(Some(since)) = concluded_at else {
        return Ok(());
    };
    if !reports_without_feedback(conn, case_id, Some(since))?.is_empty() {
        return Ok(());
    }
    let deadlines = CaseDeadlines {
        feedback_due: None,
        ..super::deadlines_of(&row)
    };
    diesel::update(cases::table.find(case_id))
        .set((
            cases::feedback_due.eq(None::<NaiveDate>),
            cases::due_on.eq(super::due_on_for(row.status, &deadlines)),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
