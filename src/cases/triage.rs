//! Triage (Art 14–16): a received report is accepted (a new case, routed to a team), transferred
//! to the responsible body, escalated (Art 15: subjects above the county, or the commission's own
//! head) or merged into an open case (a repeat report opens no new case). One write transaction
//! per triage: the report's status changes by a conditional UPDATE (`WHERE status =
//! 'received'`), so of two concurrent triages exactly one wins and the other is 409
//! `already_triaged`; the case, the report's triage facts and the audit entries commit together.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::models::{CaseRow, NewCase, TriageFacts, TriageReportRow};
use super::{due_on_for, optional_text, required_line, required_text, CaseError};
use crate::audit::{self, Actor};
use crate::db::schema::{cases, officials, reports};
use crate::db::{self, DbConnection};
use crate::domain::case_status::{CaseDeadlines, CaseStatus};
use crate::domain::deadlines;
use crate::domain::ids::{CaseId, TeamId};
use crate::domain::report::{Programme, ReportStatus};
use crate::domain::subject_level::SubjectLevel;
use crate::error::{ErrorCode, FieldViolation};

/// The body of `POST /reports/{id}/triage`. Which fields are needed depends on `action`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TriageRequest {
    /// `accept | transfer | merge | escalate`.
    pub action: String,
    /// accept: the level of the most senior person reported, `village | township | county |
    /// above_county | commission_head` (the last two are refused with `must_escalate`).
    pub subject_level: Option<String>,
    /// accept: the officials named, when intake has linked them.
    #[serde(default)]
    pub accused_official_ids: Vec<String>,
    /// accept: an internal note (kept in the audit log, never shown to the reporter).
    pub note: Option<String>,
    /// transfer, escalate: the body the report goes to, e.g. `县民政局` or `赣州市纪委`
    /// (shown to the reporter).
    pub to_body: Option<String>,
    /// transfer, merge, escalate: why (1–2,000 characters).
    pub reason: Option<String>,
    /// merge: the open case the report joins.
    pub case_id: Option<String>,
}

/// 201 answer of an accepted report: the case it opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedReport {
    pub report_id: String,
    pub case_id: String,
    /// `AJ-<year>-<6 digits>`.
    pub case_number: String,
    pub team_id: String,
    /// Null until someone is assigned.
    pub assignee_id: Option<String>,
}

/// 200 answer of a transfer, escalation or merge.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriageOutcome {
    pub report_id: String,
    /// `transferred | escalated | merged`.
    pub status: String,
    /// The case a merged report joined; null otherwise.
    pub case_id: Option<String>,
}

/// What triage did.
#[derive(Debug, Clone)]
pub enum Triaged {
    Accepted(AcceptedReport),
    Other(TriageOutcome),
}

/// The longest `to_body`, and the longest `reason` or `note`.
const BODY_MAX: usize = 100;
const REASON_MAX: usize = 2000;

/// How a new case finds its team: `(conn, programme, township_code, subject_level)`. The
/// routes pass the routing rules of the teams capability (the most specific rule wins).
pub type RouteFn =
    fn(&mut DbConnection, Programme, &str, SubjectLevel) -> Result<TeamId, CaseError>;

/// Triage report `report_id` as `actor` at `now` (UTC), routing accepted cases with `route`.
///
/// Errors: `NotFound("report")` (404); `Invalid` (422) naming each bad field; `MustEscalate`
/// (422, Art 15); `AlreadyTriaged` (409, also for the loser of two concurrent triages);
/// `NotFound("case")`/`CaseNotOpen` for a merge; routing errors; database errors.
pub fn triage(
    conn: &mut DbConnection,
    report_id: &str,
    body: &TriageRequest,
    actor: &Actor,
    now: NaiveDateTime,
    route: RouteFn,
) -> Result<Triaged, CaseError> {
    db::write_tx(conn, |conn| {
        let report: TriageReportRow = reports::table
            .find(report_id)
            .select(TriageReportRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(CaseError::NotFound("report"))?;
        if report.status != ReportStatus::Received {
            return Err(CaseError::AlreadyTriaged);
        }
        match body.action.as_str() {
            "accept" => accept(conn, &report, body, actor, now, route).map(Triaged::Accepted),
            "transfer" | "escalate" => pass_on(conn, &report, body, actor, now).map(Triaged::Other),
            "merge" => merge(conn, &report, body, actor, now).map(Triaged::Other),
            _ => Err(CaseError::Invalid(vec![FieldViolation::new(
                "action",
                ErrorCode::UnknownValue,
                "action is one of accept, transfer, merge, escalate",
            )])),
        }
    })
}

/// Marks the report triaged, only if it is still `received`.
///
/// Errors: `AlreadyTriaged` when another triage got there first.
fn mark(conn: &mut DbConnection, report_id: &str, facts: TriageFacts) -> Result<(), CaseError> {
    let updated = diesel::update(
        reports::table
            .filter(reports::id.eq(report_id))
            .filter(reports::status.eq(ReportStatus::Received)),
    )
    .set(&facts)
    .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(CaseError::AlreadyTriaged)
    }
}

fn accept(
    conn: &mut DbConnection,
    report: &TriageReportRow,
    body: &TriageRequest,
    actor: &Actor,
    now: NaiveDateTime,
    route: RouteFn,
) -> Result<AcceptedReport, CaseError> {
    let mut problems = Vec::new();
    let text = body.subject_level.as_deref().unwrap_or_default();
    let level = SubjectLevel::parse(text);
    if level.is_some_and(SubjectLevel::must_escalate) {
        return Err(CaseError::MustEscalate);
    }
    if level.is_none() {
        problems.push(FieldViolation::new(
            "subject_level",
            if text.is_empty() {
                ErrorCode::Required
            } else {
                ErrorCode::UnknownValue
            },
            format!("subject_level is one of {}", SubjectLevel::names()),
        ));
    }
    let note = optional_text("note", body.note.as_deref(), REASON_MAX)
        .map_err(|e| problems.push(e))
        .ok()
        .flatten();
    let mut official_ids = body.accused_official_ids.clone();
    official_ids.sort();
    official_ids.dedup();
    if official_ids.len() > 50 {
        problems.push(
            FieldViolation::new(
                "accused_official_ids",
                ErrorCode::TooMany,
                "at most 50 officials",
            )
            .limit(50),
        );
    } else if !official_ids.is_empty() {
        let known: i64 = officials::table
            .filter(officials::id.eq_any(&official_ids))
            .count()
            .get_result(conn)?;
        if known != official_ids.len() as i64 {
            problems.push(FieldViolation::new(
                "accused_official_ids",
                ErrorCode::UnknownValue,
                "every id must name an official",
            ));
        }
    }
    let Some(level) = level.filter(|_| problems.is_empty()) else {
        return Err(CaseError::Invalid(problems));
    };
    let team = route(conn, report.programme, &report.township_code, level)?;
    let year = deadlines::today_in_county(now.and_utc()).year();
    let seq = db::dialect::increment_counter(conn, &format!("case_number:{year}"))?;
    let number = format!("AJ-{year}-{seq:06}");
    let id = CaseId::generate();
    let deadlines = CaseDeadlines {
        acknowledge_by: report.acknowledge_by,
        ..CaseDeadlines::default()
    };
    diesel::insert_into(cases::table)
        .values(NewCase {
            id: id.clone(),
            number: number.clone(),
            status: CaseStatus::Registered,
            version: 1,
            programme: report.programme,
            township_code: report.township_code.clone(),
            village_code: report.village_code.clone(),
            subject_level: level,
            accused_official_ids: serde_json::to_string(&official_ids).unwrap_or_default(),
            team_id: team.clone(),
            assignee_id: None,
            triage_due: report.triage_due,
            acknowledge_by: report.acknowledge_by,
            due_on: due_on_for(CaseStatus::Registered, &deadlines),
            received_at: report.submitted_at,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    mark(
        conn,
        report.id.as_str(),
        TriageFacts {
            status: ReportStatus::Accepted,
            case_id: Some(id.clone()),
            triage_action: Some("accept".into()),
            triage_to_body: None,
            triage_reason: None,
            triaged_at: Some(now),
            triaged_by: Some(actor.as_text()),
        },
    )?;
    audit::record(
        conn,
        now,
        actor,
        "report.accepted",
        "report",
        report.id.as_str(),
        serde_json::json!({"case_id": id, "case_number": number}),
    )?;
    audit::record(
        conn,
        now,
        actor,
        "case.created",
        "case",
        id.as_str(),
        serde_json::json!({
            "number": number,
            "report_id": report.id,
            "team_id": team,
            "subject_level": level,
            "accused_official_ids": official_ids,
            "note": note,
        }),
    )?;
    Ok(AcceptedReport {
        report_id: report.id.to_string(),
        case_id: id.into_string(),
        case_number: number,
        team_id: team.into_string(),
        assignee_id: None,
    })
}

fn pass_on(
    conn: &mut DbConnection,
    report: &TriageReportRow,
    body: &TriageRequest,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<TriageOutcome, CaseError> {
    let escalate = body.action == "escalate";
    let to_body = required_line("to_body", body.to_body.as_deref(), BODY_MAX);
    let reason = required_text("reason", body.reason.as_deref(), REASON_MAX);
    let (to_body, reason) = match (to_body, reason) {
        (Ok(b), Ok(r)) => (b, r),
        (b, r) => {
            return Err(CaseError::Invalid(
                [b.err(), r.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let (status, action) = if escalate {
        (ReportStatus::Escalated, "escalate")
    } else {
        (ReportStatus::Transferred, "transfer")
    };
    mark(
        conn,
        report.id.as_str(),
        TriageFacts {
            status,
            case_id: None,
            triage_action: Some(action.into()),
            triage_to_body: Some(to_body.clone()),
            triage_reason: Some(reason),
            triaged_at: Some(now),
            triaged_by: Some(actor.as_text()),
        },
    )?;
    audit::record(
        conn,
        now,
        actor,
        if escalate {
            "report.escalated"
        } else {
            "report.transferred"
        },
        "report",
        report.id.as_str(),
        serde_json::json!({"to_body": to_body}),
    )?;
    Ok(TriageOutcome {
        report_id: report.id.to_string(),
        status: status.as_str().to_string(),
        case_id: None,
    })
}

fn merge(
    conn: &mut DbConnection,
    report: &TriageReportRow,
    body: &TriageRequest,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<TriageOutcome, CaseError> {
    let reason = required_text("reason", body.reason.as_deref(), REASON_MAX);
    let case_id = body.case_id.as_deref().filter(|c| !c.trim().is_empty());
    let (case_id, reason) = match (case_id, reason) {
        (Some(c), Ok(r)) => (c, r),
        (c, r) => {
            let mut problems: Vec<FieldViolation> = r.err().into_iter().collect();
            if c.is_none() {
                problems.push(FieldViolation::new(
                    "case_id",
                    ErrorCode::Required,
                    "case_id names the open case to merge into",
                ));
            }
            return Err(CaseError::Invalid(problems));
        }
    };
    let case: CaseRow = cases::table
        .find(case_id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(CaseError::NotFound("case"))?;
    if !case.status.is_open() {
        return Err(CaseError::CaseNotOpen);
    }
    mark(
        conn,
        report.id.as_str(),
        TriageFacts {
            status: ReportStatus::Merged,
            case_id: Some(case.id.clone()),
            triage_action: Some("merge".into()),
            triage_to_body: None,
            triage_reason: Some(reason),
            triaged_at: Some(now),
            triaged_by: Some(actor.as_text()),
        },
    )?;
    // The merged reporter's acknowledgement date becomes the case's too, if earlier.
    let acknowledge_by = match (case.acknowledge_by, report.acknowledge_by) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let deadlines = CaseDeadlines {
        acknowledge_by,
        ..super::deadlines_of(&case)
    };
    let updated = diesel::update(
        cases::table
            .filter(cases::id.eq(case.id.as_str()))
            .filter(cases::version.eq(case.version)),
    )
    .set((
        cases::acknowledge_by.eq(acknowledge_by),
        cases::due_on.eq(super::due_on_with_objections(
            conn,
            case.id.as_str(),
            case.status,
            &deadlines,
        )?),
        cases::version.eq(case.version + 1),
        cases::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(CaseError::VersionConflict {
            current: case.version + 1,
        });
    }
    audit::record(
        conn,
        now,
        actor,
        "report.merged",
        "report",
        report.id.as_str(),
        serde_json::json!({"case_id": case.id}),
    )?;
    audit::record(
        conn,
        now,
        actor,
        "case.report_merged",
        "case",
        case.id.as_str(),
        serde_json::json!({"report_id": report.id}),
    )?;
    Ok(TriageOutcome {
        report_id: report.id.to_string(),
        status: ReportStatus::Merged.as_str().to_string(),
        case_id: Some(case.id.into_string()),
    })
}
