//! A case's investigations as staff read them (`GET /cases/{id}/investigations`, and inside
//! `GET /cases/{id}`), and their conclusions (`POST /investigations/{id}/conclude`; SPEC.md →
//! "Investigations", "Outcomes"; issue 10, item 3).
//!
//! A conclusion is one write transaction, under the case's row lock (`db::dialect::lock_case`)
//! so that two investigations concluded at once both see each other: the investigation's
//! conditional `UPDATE … WHERE version = ? AND status = 'open'`, the conclusion row (kept when
//! the case is reopened), the sanctions, a false-accusation finding (its own table, supervisors
//! only, nothing about the reporter), the audit entries, and the case's own change: the
//! feedback deadline when the primary investigation concludes (15 working days, real-name
//! reports only) and `concluded` when no investigation is left open.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::disposition::apply;
use super::lifecycle::{feedback_due_from, open_investigation_due};
use super::models::{
    CaseChanges, CaseRow, ConclusionRow, FalseAccusationRow, InvestigationChanges,
    InvestigationRow, SanctionRow,
};
use super::{
    deadlines_of, due_on_with_objections, required_line, required_text, visible_case, CaseError,
};
use super::{Viewer, REASON_MAX};
use crate::audit::{self, Actor};
use crate::db::schema::{
    false_accusations, investigation_conclusions, investigation_officials, investigations,
    officials, sanctions,
};
use crate::db::{self, dialect, DbConnection};
use crate::divisions::models::OfficialRow;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::case_status::{self, CaseAction, CaseDeadlines, CaseStatus};
use crate::domain::ids::{ConclusionId, FalseAccusationId, InvestigationId, SanctionId, UserId};
use crate::domain::investigation::{
    InvestigationKind, InvestigationStatus, Outcome, SanctionCategory,
};
use crate::domain::roles::Role;
use crate::error::{ErrorCode, FieldViolation};

/// The longest findings text, in characters.
pub const FINDINGS_MAX: usize = 20_000;
/// The most sanctions one conclusion records.
pub const SANCTIONS_MAX: usize = 50;
/// The longest document number (文号), in characters.
pub const DOCUMENT_NUMBER_MAX: usize = 100;

/// A sanction as staff read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SanctionView {
    pub id: String,
    pub official_id: String,
    /// `organisational | party | government`.
    pub category: String,
    /// A type of the category, e.g. `admonishment_talk`, `serious_warning`, `demerit`.
    #[serde(rename = "type")]
    pub sanction_type: String,
    pub decided_on: NaiveDate,
    /// The decision's document number (文号).
    pub document_number: String,
}

/// A false-accusation finding (诬告陷害). Shown to supervisors only; it names nobody.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FalseAccusationView {
    pub id: String,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: chrono::DateTime<Utc>,
}

/// An earlier conclusion of an investigation that was reopened, kept readable.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConclusionView {
    pub id: String,
    pub outcome: String,
    pub findings: String,
    pub concluded_by: String,
    pub concluded_at: chrono::DateTime<Utc>,
    pub reopened_by: Option<String>,
    pub reopened_at: Option<chrono::DateTime<Utc>>,
    pub reopen_reason: Option<String>,
    pub sanctions: Vec<SanctionView>,
    /// Supervisors only; absent for everyone else and when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_accusation: Option<FalseAccusationView>,
}

/// An investigation as staff read it (SPEC.md → "Investigations", plus its findings, sanctions
/// and history).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvestigationView {
    pub id: String,
    pub case_id: String,
    /// `primary | accountability`.
    pub kind: String,
    /// `village | township | county`: the level looked into.
    pub target_level: String,
    pub target_division_code: String,
    /// The officials looked into: the accused (primary) or the leaders on record
    /// (accountability).
    pub official_ids: Vec<String>,
    pub assignee_id: Option<String>,
    /// Why there is no assignee (e.g. the team has no other investigator); null otherwise.
    pub assignment_note: Option<String>,
    pub due_on: NaiveDate,
    /// `open | concluded`.
    pub status: String,
    /// `substantiated | partly_substantiated | unsubstantiated` (primary) or `duty_fulfilled |
    /// duty_not_fulfilled` (accountability); null while open.
    pub outcome: Option<String>,
    pub findings: Option<String>,
    pub concluded_by: Option<String>,
    pub concluded_at: Option<chrono::DateTime<Utc>>,
    /// The sanctions of the current conclusion.
    pub sanctions: Vec<SanctionView>,
    /// Supervisors only; absent for everyone else and when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_accusation: Option<FalseAccusationView>,
    /// Conclusions before a reopen, oldest first.
    pub earlier_conclusions: Vec<ConclusionView>,
    /// Send back as `version` with a conclusion; a stale one is 409 `version_conflict`.
    pub version: i32,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

fn sanction_view(s: SanctionRow) -> SanctionView {
    SanctionView {
        id: s.id.into_string(),
        official_id: s.official_id.into_string(),
        category: s.category.as_str().to_string(),
        sanction_type: s.sanction_type,
        decided_on: s.decided_on,
        document_number: s.document_number,
    }
}

fn false_accusation_view(f: FalseAccusationRow) -> FalseAccusationView {
    FalseAccusationView {
        id: f.id.into_string(),
        reason: f.reason,
        recorded_by: f.recorded_by.into_string(),
        recorded_at: f.recorded_at.and_utc(),
    }
}

/// Whether `viewer` reads false-accusation findings: supervisors only (issue 10, item 3).
pub fn reads_false_accusations(viewer: &Viewer) -> bool {
    viewer.roles.contains(&Role::Supervisor)
}

/// Every investigation of case `case_id`, the primary first; false-accusation findings only
/// when `with_false_accusations` (a supervisor reads them, see [`reads_false_accusations`]).
///
/// Errors: any database error.
pub fn investigations_of(
    conn: &mut DbConnection,
    with_false_accusations: bool,
    case_id: &str,
) -> QueryResult<Vec<InvestigationView>> {
    let mut rows: Vec<InvestigationRow> = investigations::table
        .filter(investigations::case_id.eq(case_id))
        .select(InvestigationRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| (r.kind != InvestigationKind::Primary, r.created_at));
    let ids: Vec<InvestigationId> = rows.iter().map(|r| r.id.clone()).collect();
    let mut officials_of: HashMap<InvestigationId, Vec<String>> = HashMap::new();
    for link in investigation_officials::table
        .filter(investigation_officials::investigation_id.eq_any(&ids))
        .order((
            investigation_officials::investigation_id,
            investigation_officials::position,
        ))
        .select(super::models::InvestigationOfficialRow::as_select())
        .load(conn)?
    {
        officials_of
            .entry(link.investigation_id)
            .or_default()
            .push(link.official_id.into_string());
    }
    let conclusions: Vec<ConclusionRow> = investigation_conclusions::table
        .filter(investigation_conclusions::investigation_id.eq_any(&ids))
        .order((
            investigation_conclusions::concluded_at,
            investigation_conclusions::id,
        ))
        .select(ConclusionRow::as_select())
        .load(conn)?;
    let mut sanctions_of: HashMap<ConclusionId, Vec<SanctionView>> = HashMap::new();
    for s in sanctions::table
        .filter(sanctions::investigation_id.eq_any(&ids))
        .order((sanctions::conclusion_id, sanctions::position))
        .select(SanctionRow::as_select())
        .load(conn)?
    {
        sanctions_of
            .entry(s.conclusion_id.clone())
            .or_default()
            .push(sanction_view(s));
    }
    let mut accusation_of: HashMap<ConclusionId, FalseAccusationView> = HashMap::new();
    if with_false_accusations {
        for f in false_accusations::table
            .filter(false_accusations::investigation_id.eq_any(&ids))
            .select(FalseAccusationRow::as_select())
            .load(conn)?
        {
            accusation_of.insert(f.conclusion_id.clone(), false_accusation_view(f));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<&ConclusionRow> = conclusions
                .iter()
                .filter(|c| c.investigation_id == r.id)
                .collect();
            let current = mine
                .iter()
                .find(|c| c.reopened_at.is_none() && r.status == InvestigationStatus::Concluded);
            let earlier = mine
                .iter()
                .filter(|c| c.reopened_at.is_some())
                .map(|c| ConclusionView {
                    id: c.id.to_string(),
                    outcome: c.outcome.as_str().to_string(),
                    findings: c.findings.clone(),
                    concluded_by: c.concluded_by.to_string(),
                    concluded_at: c.concluded_at.and_utc(),
                    reopened_by: c.reopened_by.as_ref().map(|u| u.to_string()),
                    reopened_at: c.reopened_at.map(|t| t.and_utc()),
                    reopen_reason: c.reopen_reason.clone(),
                    sanctions: sanctions_of.get(&c.id).cloned().unwrap_or_default(),
                    false_accusation: accusation_of.get(&c.id).cloned(),
                })
                .collect();
            InvestigationView {
                official_ids: officials_of.remove(&r.id).unwrap_or_default(),
                sanctions: current
                    .and_then(|c| sanctions_of.get(&c.id).cloned())
                    .unwrap_or_default(),
                false_accusation: current.and_then(|c| accusation_of.get(&c.id).cloned()),
                earlier_conclusions: earlier,
                id: r.id.into_string(),
                case_id: r.case_id.into_string(),
                kind: r.kind.as_str().to_string(),
                target_level: r.target_level.as_str().to_string(),
                target_division_code: r.target_division_code,
                assignee_id: r.assignee_id.map(UserId::into_string),
                assignment_note: r.assignment_note,
                due_on: r.due_on,
                status: r.status.as_str().to_string(),
                outcome: r.outcome.map(|o| o.as_str().to_string()),
                findings: r.findings,
                concluded_by: r.concluded_by.map(UserId::into_string),
                concluded_at: r.concluded_at.map(|t| t.and_utc()),
                version: r.version,
                created_at: r.created_at.and_utc(),
                updated_at: r.updated_at.and_utc(),
            }
        })
        .collect())
}

/// One sanction in a conclusion. Every field is required; missing ones are named in the 422.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SanctionRequest {
    /// An official on record (for an accountability investigation: one of the leadership it
    /// looks into, i.e. an official of its target division).
    pub official_id: Option<String>,
    /// `organisational | party | government`.
    pub category: Option<String>,
    /// `organisational`: `criticism_education`, `admonishment_talk`; `party`: `warning`,
    /// `serious_warning`, `removal_from_party_post`, `probation`, `expulsion`; `government`:
    /// `warning`, `demerit`, `major_demerit`, `demotion`, `dismissal_from_post`, `dismissal`.
    #[serde(rename = "type")]
    pub sanction_type: Option<String>,
    /// `YYYY-MM-DD`, not after today (county date).
    pub decided_on: Option<String>,
    /// The decision's document number (文号), one line, 1–100 characters.
    pub document_number: Option<String>,
}

/// A false-accusation finding (诬告陷害) with a primary conclusion of `unsubstantiated`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FalseAccusationRequest {
    /// Why the report is found to be a false accusation (1–2,000 characters).
    pub reason: Option<String>,
}

/// The body of `POST /investigations/{id}/conclude`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConcludeRequest {
    /// primary: `substantiated | partly_substantiated | unsubstantiated`; accountability:
    /// `duty_fulfilled | duty_not_fulfilled`.
    pub outcome: Option<String>,
    /// What was found (1–20,000 characters). Staff only: never shown to a reporter.
    pub findings: Option<String>,
    /// Only with an outcome that finds wrongdoing (`substantiated`, `partly_substantiated`,
    /// `duty_not_fulfilled`); at most 50.
    #[serde(default)]
    pub sanctions: Vec<SanctionRequest>,
    /// primary with `unsubstantiated` only; null otherwise.
    pub false_accusation: Option<FalseAccusationRequest>,
    /// The investigation's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// 200 answer of a conclusion: the investigation as concluded and where the case now stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConcludedInvestigation {
    #[serde(flatten)]
    pub investigation: InvestigationView,
    /// `filed` while another investigation is open; `concluded` once none is.
    pub case_status: String,
    pub case_version: i32,
    /// The case's feedback deadline (set when the primary concludes on a case with a real-name
    /// report); null otherwise.
    pub feedback_due: Option<NaiveDate>,
}

/// The days a conclusion needs: today in the county, now, and the working-day calendar.
#[derive(Clone)]
pub struct ConcludeContext {
    pub today: NaiveDate,
    pub now: NaiveDateTime,
    pub calendar: Arc<WorkingCalendar>,
}

/// A checked sanction, ready to store.
struct CheckedSanction {
    official: OfficialRow,
    category: SanctionCategory,
    sanction_type: String,
    decided_on: NaiveDate,
    document_number: String,
}

/// Checks `body` for investigation `inv` on `today`, naming every bad field.
fn check_conclusion(
    conn: &mut DbConnection,
    inv: &InvestigationRow,
    body: &ConcludeRequest,
    today: NaiveDate,
) -> Result<(Outcome, String, Vec<CheckedSanction>, Option<String>), CaseError> {
    let mut problems = Vec::new();
    let allowed = Outcome::for_kind(inv.kind);
    let names = allowed
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let outcome = match body.outcome.as_deref().map(str::trim) {
        None | Some("") => {
            problems.push(FieldViolation::new(
                "outcome",
                ErrorCode::Required,
                format!("outcome is required: one of {names}"),
            ));
            None
        }
        Some(text) => match Outcome::parse(text).filter(|o| allowed.contains(o)) {
            Some(o) => Some(o),
            None => {
                problems.push(FieldViolation::new(
                    "outcome",
                    ErrorCode::UnknownValue,
                    format!(
                        "outcome of a {} investigation is one of {names}",
                        inv.kind.as_str()
                    ),
                ));
                None
            }
        },
    };
    let findings = required_text("findings", body.findings.as_deref(), FINDINGS_MAX)
        .map_err(|e| problems.push(e))
        .ok();
    if body.sanctions.len() > SANCTIONS_MAX {
        problems.push(
            FieldViolation::new(
                "sanctions",
                ErrorCode::TooMany,
                format!("at most {SANCTIONS_MAX} sanctions"),
            )
            .limit(SANCTIONS_MAX),
        );
    } else if !body.sanctions.is_empty() && outcome.is_some_and(|o| !o.admits_sanctions()) {
        problems.push(FieldViolation::new(
            "sanctions",
            ErrorCode::NotAllowed,
            "sanctions are recorded only with an outcome that finds wrongdoing \
             (substantiated, partly_substantiated, duty_not_fulfilled)",
        ));
    }
    let ids: Vec<String> = body
        .sanctions
        .iter()
        .filter_map(|s| s.official_id.as_deref().map(|i| i.trim().to_string()))
        .collect();
    let on_record: Vec<OfficialRow> = officials::table
        .filter(officials::id.eq_any(&ids))
        .select(OfficialRow::as_select())
        .load(conn)?;
    let mut checked = Vec::new();
    for (i, s) in body.sanctions.iter().take(SANCTIONS_MAX).enumerate() {
        let at = |field: &str| format!("sanctions[{i}].{field}");
        let renamed = |mut v: FieldViolation, field: &str| {
            v.field = at(field);
            v
        };
        let official = match s.official_id.as_deref().map(str::trim) {
            None | Some("") => {
                problems.push(FieldViolation::new(
                    at("official_id"),
                    ErrorCode::Required,
                    "official_id is required: an official on record",
                ));
                None
            }
            Some(id) => match on_record.iter().find(|o| o.id.as_str() == id) {
                None => {
                    problems.push(FieldViolation::new(
                        at("official_id"),
                        ErrorCode::UnknownOfficial,
                        "no official on record has this id",
                    ));
                    None
                }
                Some(o)
                    if inv.kind == InvestigationKind::Accountability
                        && o.division_code != inv.target_division_code =>
                {
                    problems.push(FieldViolation::new(
                        at("official_id"),
                        ErrorCode::NotTargetOfficial,
                        format!(
                            "an accountability investigation sanctions the leadership it looks \
                             into: officials of division {}",
                            inv.target_division_code
                        ),
                    ));
                    None
                }
                Some(o) => Some(o.clone()),
            },
        };
        let category = match s.category.as_deref().map(str::trim) {
            None | Some("") => {
                problems.push(FieldViolation::new(
                    at("category"),
                    ErrorCode::Required,
                    format!("category is required: one of {}", SanctionCategory::names()),
                ));
                None
            }
            Some(text) => SanctionCategory::parse(text).or_else(|| {
                problems.push(FieldViolation::new(
                    at("category"),
                    ErrorCode::UnknownValue,
                    format!("category is one of {}", SanctionCategory::names()),
                ));
                None
            }),
        };
        let sanction_type = match (s.sanction_type.as_deref().map(str::trim), category) {
            (None | Some(""), _) => {
                problems.push(FieldViolation::new(
                    at("type"),
                    ErrorCode::Required,
                    "type is required: a type of the category",
                ));
                None
            }
            (Some(t), Some(c)) if c.has_type(t) => Some(t.to_string()),
            (Some(_), Some(c)) => {
                problems.push(FieldViolation::new(
                    at("type"),
                    ErrorCode::UnknownValue,
                    format!(
                        "a {} sanction is one of {}",
                        c.as_str(),
                        c.types().join(", ")
                    ),
                ));
                None
            }
            // The category is already named as wrong.
            (Some(_), None) => None,
        };
        let decided_on = match s.decided_on.as_deref().map(str::trim) {
            None | Some("") => {
                problems.push(FieldViolation::new(
                    at("decided_on"),
                    ErrorCode::Required,
                    "decided_on (YYYY-MM-DD) is required",
                ));
                None
            }
            Some(text) => match crate::domain::text::parse_date(text) {
                Some(d) if d <= today => Some(d),
                Some(_) => {
                    problems.push(FieldViolation::new(
                        at("decided_on"),
                        ErrorCode::InFuture,
                        "decided_on cannot be after today (county date)",
                    ));
                    None
                }
                None => {
                    problems.push(FieldViolation::new(
                        at("decided_on"),
                        ErrorCode::InvalidDate,
                        "decided_on is a date, YYYY-MM-DD",
                    ));
                    None
                }
            },
        };
        let document_number = required_line(
            "document_number",
            s.document_number.as_deref(),
            DOCUMENT_NUMBER_MAX,
        )
        .map_err(|v| problems.push(renamed(v, "document_number")))
        .ok();
        if let (Some(official), Some(category), Some(sanction_type), Some(decided_on), Some(doc)) = (
            official,
            category,
            sanction_type,
            decided_on,
            document_number,
        ) {
            checked.push(CheckedSanction {
                official,
                category,
                sanction_type,
                decided_on,
                document_number: doc,
            });
        }
    }
    let false_accusation = match &body.false_accusation {
        None => None,
        Some(_) if inv.kind == InvestigationKind::Accountability => {
            problems.push(FieldViolation::new(
                "false_accusation",
                ErrorCode::NotAllowed,
                "a false accusation is found by the primary investigation only",
            ));
            None
        }
        Some(_) if outcome.is_some_and(|o| o != Outcome::Unsubstantiated) => {
            problems.push(FieldViolation::new(
                "false_accusation",
                ErrorCode::NotAllowed,
                "a report found to be a false accusation is concluded unsubstantiated",
            ));
            None
        }
        Some(f) => match required_text("reason", f.reason.as_deref(), REASON_MAX) {
            Ok(reason) => Some(reason),
            Err(mut v) => {
                v.field = "false_accusation.reason".to_string();
                problems.push(v);
                None
            }
        },
    };
    match (outcome, findings) {
        (Some(outcome), Some(findings)) if problems.is_empty() => {
            Ok((outcome, findings, checked, false_accusation))
        }
        _ => Err(CaseError::Invalid(problems)),
    }
}

/// The investigation `id`, when it exists.
fn find_investigation(conn: &mut DbConnection, id: &str) -> Result<InvestigationRow, CaseError> {
    investigations::table
        .find(id)
        .select(InvestigationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(CaseError::NotFound("investigation"))
}

/// The case of investigation `id` as `viewer` may see it (404 for an unknown investigation,
/// 403 for an investigator of another team).
///
/// Errors: `NotFound`, `Forbidden`, database errors.
pub fn case_of_investigation(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<(InvestigationRow, CaseRow), CaseError> {
    let inv = find_investigation(conn, id)?;
    let case = visible_case(conn, viewer, inv.case_id.as_str())?;
    Ok((inv, case))
}

/// Concludes investigation `id` as `viewer` (an investigator of the case's team or a
/// supervisor) with `body`, in one write transaction (see the module docs). When it is the
/// primary investigation, the case's `feedback_due` becomes today + 15 working days (for cases
/// with a real-name report); when no investigation is left open, the case becomes `concluded`.
///
/// Errors: `NotFound` (404); `Forbidden` (403); `InvestigationConcluded` (409);
/// `InvestigationVersionConflict` (409); `Invalid` (422, every bad field); database errors.
/// Returns the investigation as `viewer` reads it and the case as changed.
pub fn conclude(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &ConcludeRequest,
    ctx: &ConcludeContext,
) -> Result<(InvestigationView, CaseRow), CaseError> {
    db::write_tx(conn, |conn| {
        let inv = find_investigation(conn, id)?;
        dialect::lock_case(conn, inv.case_id.as_str())?;
        let (inv, case) = case_of_investigation(conn, viewer, id)?;
        if body.version.is_some_and(|v| v != inv.version) {
            return Err(CaseError::InvestigationVersionConflict {
                current: inv.version,
            });
        }
        if inv.status == InvestigationStatus::Concluded {
            return Err(CaseError::InvestigationConcluded);
        }
        let (outcome, findings, checked, false_accusation) =
            check_conclusion(conn, &inv, body, ctx.today)?;
        let concluder = UserId::from(viewer.user_id.as_str());
        let updated = diesel::update(
            investigations::table
                .filter(investigations::id.eq(inv.id.as_str()))
                .filter(investigations::version.eq(inv.version))
                .filter(investigations::status.eq(InvestigationStatus::Open)),
        )
        .set(&InvestigationChanges {
            status: InvestigationStatus::Concluded,
            outcome: Some(Some(outcome)),
            findings: Some(Some(findings.clone())),
            concluded_by: Some(Some(concluder.clone())),
            concluded_at: Some(Some(ctx.now)),
            due_on: None,
            version: inv.version + 1,
            updated_at: ctx.now,
        })
        .execute(conn)?;
        if updated != 1 {
            let current: i32 = investigations::table
                .find(inv.id.as_str())
                .select(investigations::version)
                .first(conn)?;
            return Err(CaseError::InvestigationVersionConflict { current });
        }
        let conclusion_id = ConclusionId::generate();
        diesel::insert_into(investigation_conclusions::table)
            .values(ConclusionRow {
                id: conclusion_id.clone(),
                investigation_id: inv.id.clone(),
                outcome,
                findings: findings.clone(),
                concluded_by: concluder.clone(),
                concluded_at: ctx.now,
                reopened_by: None,
                reopened_at: None,
                reopen_reason: None,
            })
            .execute(conn)?;
        let mut recorded = Vec::new();
        for (position, s) in (0..).zip(&checked) {
            let row = SanctionRow {
                id: SanctionId::generate(),
                investigation_id: inv.id.clone(),
                conclusion_id: conclusion_id.clone(),
                official_id: s.official.id.clone(),
                category: s.category,
                sanction_type: s.sanction_type.clone(),
                decided_on: s.decided_on,
                document_number: s.document_number.clone(),
                position,
                created_at: ctx.now,
            };
            diesel::insert_into(sanctions::table)
                .values(&row)
                .execute(conn)?;
            recorded.push(sanction_view(row));
        }
        audit::record(
            conn,
            ctx.now,
            actor,
            "investigation.concluded",
            "investigation",
            inv.id.as_str(),
            serde_json::json!({
                "case_id": case.id,
                "case_number": case.number,
                "kind": inv.kind.as_str(),
                "conclusion_id": conclusion_id,
                "outcome": outcome.as_str(),
                "findings": findings,
                "sanctions": recorded.iter().map(|s| serde_json::json!({
                    "official_id": s.official_id,
                    "category": s.category,
                    "type": s.sanction_type,
                    "decided_on": s.decided_on,
                    "document_number": s.document_number,
                })).collect::<Vec<_>>(),
            }),
        )?;
        if let Some(reason) = false_accusation {
            let finding = FalseAccusationId::generate();
            diesel::insert_into(false_accusations::table)
                .values(FalseAccusationRow {
                    id: finding.clone(),
                    case_id: case.id.clone(),
                    investigation_id: inv.id.clone(),
                    conclusion_id: conclusion_id.clone(),
                    reason,
                    recorded_by: concluder.clone(),
                    recorded_at: ctx.now,
                })
                .execute(conn)?;
            // Its own entity, so a timeline built for case workers can leave it out; the reason
            // stays in the table (supervisors only), and nothing names the reporter.
            audit::record(
                conn,
                ctx.now,
                actor,
                "false_accusation.recorded",
                "false_accusation",
                finding.as_str(),
                serde_json::json!({"case_id": case.id, "investigation_id": inv.id}),
            )?;
        }
        let case = after_investigation_change(conn, &case, actor, ctx, inv.kind)?;
        let view = investigations_of(conn, reads_false_accusations(viewer), case.id.as_str())?
            .into_iter()
            .find(|v| v.id == inv.id.as_str())
            .ok_or(CaseError::NotFound("investigation"))?;
        Ok((view, case))
    })
}

/// The case's own change after one of its investigations concluded: `feedback_due` when the
/// primary concluded, the open investigations' due date, and `concluded` when none is left
/// open (audited as `case.concluded`; otherwise `case.investigation_concluded`).
fn after_investigation_change(
    conn: &mut DbConnection,
    case: &CaseRow,
    actor: &Actor,
    ctx: &ConcludeContext,
    kind: InvestigationKind,
) -> Result<CaseRow, CaseError> {
    let investigation_due = open_investigation_due(conn, case.id.as_str())?;
    let feedback_due = if kind == InvestigationKind::Primary {
        feedback_due_from(conn, case.id.as_str(), &ctx.calendar, ctx.today)?
    } else {
        case.feedback_due
    };
    let to = if investigation_due.is_none() {
        case_status::transition(case.status, CaseAction::Conclude)?
    } else {
        case.status
    };
    let deadlines = CaseDeadlines {
        feedback_due,
        investigation_due,
        ..deadlines_of(case)
    };
    let changes = CaseChanges {
        feedback_due: Some(feedback_due),
        investigation_due: Some(investigation_due),
        ..CaseChanges::new(
            to,
            case.version + 1,
            due_on_with_objections(conn, case.id.as_str(), to, &deadlines)?,
            ctx.now,
        )
    };
    let (action, details) = if to == CaseStatus::Concluded {
        (
            "case.concluded",
            serde_json::json!({"from": case.status.as_str(), "to": to.as_str(),
                               "feedback_due": feedback_due}),
        )
    } else {
        (
            "case.investigation_concluded",
            serde_json::json!({"kind": kind.as_str(), "feedback_due": feedback_due}),
        )
    };
    apply(conn, case, &changes, actor, ctx.now, action, details)
}
