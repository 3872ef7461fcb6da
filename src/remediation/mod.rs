//! Remediation plans (整改; SPEC.md → "Suspension", "Case handling" → "Remediation"; issue 12,
//! item 2): the items of a filed case's plan, the evidence the responsible unit submits, and a
//! supervisor's verification or rejection. The verification that completes the last blocking
//! plan of a village lifts its suspension in the same transaction (`suspensions::lifting`).
//!
//! - `POST /cases/{id}/remediation-items` (investigator of the case's team, supervisor; a filed,
//!   concluded or closed case whose plan is not complete) → 201 with the item, `open`;
//! - `GET /cases/{id}/remediation-items` (who reads the case) → the plan and whether it is
//!   complete; `GET /remediation-items/{id}` → one item with its history and files;
//! - `POST /remediation-items/{id}/submit` (investigator of the team, supervisor): evidence text,
//!   JSON `{"evidence"}` or multipart with a `submission` part (the same JSON) and files, each
//!   cleaned of identifying metadata and encrypted like a report's evidence → `submitted`;
//! - `POST /remediation-items/{id}/verify` `{}` (supervisor) → `verified`, with what it did to
//!   the village's suspension (lifted, or the cases that still block);
//! - `POST /remediation-items/{id}/reject` `{"reason"}` (supervisor) → `rejected`, which may be
//!   submitted again;
//! - `GET /remediation-files/{id}`: a file, decrypted (audited).
//!
//! The states and the plan rule are pure, in `domain::remediation`. Every change is one write
//! transaction with its history row (`remediation_events`) and its audit entry; a stale or
//! concurrent change is 409 `version_conflict`.

pub mod models;
pub mod routes;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Actor};
use crate::cases::{required_text, visible_case, CaseError, Viewer};
use crate::db::schema::{cases, remediation_events, remediation_files, remediation_items};
use crate::db::{self, dialect, DbConnection};
use crate::domain::case_status::CaseStatus;
use crate::domain::ids::{
    CaseId, RemediationEventId, RemediationFileId, RemediationItemId, UserId,
};
use crate::domain::remediation::{self as rules, ItemAction, ItemStatus, ItemTransitionRefused};
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::reports::submit::StagedFile;
use crate::suspensions::lifting::{self, Clearance};
use models::{RemediationEventRow, RemediationFileRow, RemediationItemChanges, RemediationItemRow};

/// The longest description or evidence text, in characters.
pub const TEXT_MAX: usize = 5000;
/// The longest responsible unit (one line).
pub const UNIT_MAX: usize = 200;
/// The longest rejection reason.
pub const REASON_MAX: usize = 2000;
/// The furthest due date accepted, from today.
const DUE_HORIZON: chrono::Days = chrono::Days::new(3653);

/// Why a remediation request was not done; mapped to `ApiError` at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    /// No item has this id.
    #[error("no remediation item has this id")]
    NotFound,
    /// Items belong to filed cases (409 `case_not_filed`).
    #[error("the case is not filed")]
    CaseNotFiled,
    /// The plan is complete and closed (409 `remediation_plan_complete`).
    #[error("the remediation plan is complete")]
    PlanComplete,
    /// The item's status does not allow the action (409 `invalid_transition`).
    #[error("a {} item does not allow {}", .0.status.as_str(), .0.action.as_str())]
    InvalidTransition(ItemTransitionRefused),
    /// The `version` sent is not the item's (409 `version_conflict`).
    #[error("the item is at version {current}")]
    VersionConflict { current: i32 },
    /// Fields are invalid (422).
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Already an `ApiError` (the case's visibility, the database).
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<diesel::result::Error> for RemediationError {
    fn from(e: diesel::result::Error) -> Self {
        RemediationError::Failed(e.into())
    }
}

impl From<CaseError> for RemediationError {
    fn from(e: CaseError) -> Self {
        RemediationError::Failed(e.into())
    }
}

impl From<RemediationError> for ApiError {
    fn from(e: RemediationError) -> ApiError {
        match e {
            RemediationError::NotFound => ApiError::not_found("No remediation item has this id."),
            RemediationError::CaseNotFiled => ApiError::conflict(
                ErrorCode::CaseNotFiled,
                "Remediation items belong to a case that was filed (filed, concluded or closed).",
            ),
            RemediationError::PlanComplete => ApiError::conflict(
                ErrorCode::RemediationPlanComplete,
                "The case's remediation plan is complete: every item was verified, which \
                 cleared the case from its village's suspension. A complete plan takes no new \
                 items.",
            ),
            RemediationError::InvalidTransition(t) => {
                let allowed: Vec<&str> = t.allowed.iter().map(|a| a.as_str()).collect();
                ApiError::conflict(
                    ErrorCode::InvalidTransition,
                    format!(
                        "A remediation item that is {} does not allow {}; it allows: {}.",
                        t.status.as_str(),
                        t.action.as_str(),
                        if allowed.is_empty() {
                            "nothing".to_string()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                )
                .with_member("item_status", serde_json::json!(t.status.as_str()))
                .with_member("allowed_actions", serde_json::json!(allowed))
            }
            RemediationError::VersionConflict { current } => ApiError::conflict(
                ErrorCode::VersionConflict,
                format!(
                    "The item changed: it is now at version {current}. Reload it and try again."
                ),
            )
            .with_member("version", serde_json::json!(current)),
            RemediationError::Invalid(v) => ApiError::validation(v),
            RemediationError::Failed(e) => e,
        }
    }
}

/// The body of `POST /cases/{id}/remediation-items`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewItemRequest {
    /// What must be put right (1–5,000 characters).
    pub description: Option<String>,
    /// Who must do it, one line (1–200 characters), e.g. `城北村村委会`.
    pub responsible_unit: Option<String>,
    /// `YYYY-MM-DD` (county date), today or later, within ten years.
    pub due_on: Option<String>,
}

/// The body of `/submit` (JSON, or the multipart `submission` part).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// What was done, as evidence of it (1–5,000 characters).
    pub evidence: Option<String>,
    /// The item's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// The body of `/verify` (`{}`, or with the item's `version`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub version: Option<i32>,
}

/// The body of `/reject`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RejectRequest {
    /// Why the evidence is not enough (1–2,000 characters); the responsible unit reads it.
    pub reason: Option<String>,
    pub version: Option<i32>,
}

/// An evidence file, as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemediationFileView {
    pub id: String,
    /// The submission it came with (an entry of `history`).
    pub event_id: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Kinds of identifying metadata removed on upload (never their values).
    pub metadata_removed: Vec<String>,
    pub uploaded_by: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// One step of an item's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemediationEventView {
    pub id: String,
    /// `created | submitted | verified | rejected`.
    pub event: String,
    pub evidence: Option<String>,
    pub reason: Option<String>,
    pub by: String,
    pub at: chrono::DateTime<Utc>,
}

/// A remediation item (SPEC.md → "Remediation"), with its history and evidence files.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemediationItemView {
    pub id: String,
    pub case_id: String,
    pub case_number: String,
    pub description: String,
    pub responsible_unit: String,
    pub due_on: NaiveDate,
    /// `open | submitted | verified | rejected`.
    pub status: String,
    /// Still waiting for evidence (open or rejected) after its due date (county).
    pub overdue: bool,
    pub evidence: Option<String>,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<chrono::DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    pub version: i32,
    /// `submit`, `verify`, `reject`: what the item's status allows.
    pub allowed_actions: Vec<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<Utc>,
    pub files: Vec<RemediationFileView>,
    pub history: Vec<RemediationEventView>,
}

/// A case's remediation plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemediationPlan {
    pub items: Vec<RemediationItemView>,
    /// Always null: a plan is one page.
    pub next_cursor: Option<String>,
    pub case_id: String,
    /// At least one item, and every item verified.
    pub complete: bool,
}

/// The answer of `/verify`: the item, whether its case's plan is now complete, and what that
/// did to the village's suspension.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verified {
    #[serde(flatten)]
    pub item: RemediationItemView,
    pub plan_complete: bool,
    /// Null while the plan is not complete.
    pub suspension: Option<Clearance>,
}

/// Days and times a change needs.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    /// Today in the county.
    pub today: NaiveDate,
    /// Now, UTC.
    pub now: NaiveDateTime,
}

fn item_row(conn: &mut DbConnection, id: &str) -> Result<RemediationItemRow, RemediationError> {
    remediation_items::table
        .find(id)
        .select(RemediationItemRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(RemediationError::NotFound)
}

fn statuses_of(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<ItemStatus>> {
    remediation_items::table
        .filter(remediation_items::case_id.eq(case_id))
        .select(remediation_items::status)
        .load(conn)
}

/// Whether case `case_id`'s plan is complete (`domain::remediation::plan_complete`).
///
/// Errors: any database error.
pub fn plan_complete(conn: &mut DbConnection, case_id: &str) -> QueryResult<bool> {
    Ok(rules::plan_complete(&statuses_of(conn, case_id)?))
}

/// Statuses in which a case was filed (it has a suspension and may have a plan): filed,
/// concluded or closed. The console shows the form to add an item only in these.
pub fn was_filed(status: CaseStatus) -> bool {
    matches!(
        status,
        CaseStatus::Filed | CaseStatus::Concluded | CaseStatus::Closed
    )
}

/// The view of `row` on `today`: with its case number, history and files.
///
/// Errors: any database error.
pub fn item_view(
    conn: &mut DbConnection,
    row: RemediationItemRow,
    today: NaiveDate,
) -> QueryResult<RemediationItemView> {
    let case_number: String = cases::table
        .find(row.case_id.as_str())
        .select(cases::number)
        .first(conn)?;
    let history: Vec<RemediationEventRow> = remediation_events::table
        .filter(remediation_events::item_id.eq(row.id.as_str()))
        .order(remediation_events::position)
        .select(RemediationEventRow::as_select())
        .load(conn)?;
    let files: Vec<RemediationFileRow> = remediation_files::table
        .filter(remediation_files::item_id.eq(row.id.as_str()))
        .order((remediation_files::created_at, remediation_files::id))
        .select(RemediationFileRow::as_select())
        .load(conn)?;
    Ok(RemediationItemView {
        id: row.id.to_string(),
        case_id: row.case_id.to_string(),
        case_number,
        overdue: row.status.awaits_evidence() && row.due_on < today,
        description: row.description,
        responsible_unit: row.responsible_unit,
        due_on: row.due_on,
        status: row.status.as_str().to_string(),
        evidence: row.evidence,
        submitted_by: row.submitted_by.map(String::from),
        submitted_at: row.submitted_at.map(|t| t.and_utc()),
        decided_by: row.decided_by.map(String::from),
        decided_at: row.decided_at.map(|t| t.and_utc()),
        rejection_reason: row.rejection_reason,
        version: row.version,
        allowed_actions: row
            .status
            .allowed()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        created_by: row.created_by.to_string(),
        created_at: row.created_at.and_utc(),
        files: files
            .into_iter()
            .map(|f| RemediationFileView {
                id: f.id.to_string(),
                event_id: f.event_id.to_string(),
                content_type: f.content_type,
                size_bytes: f.size_bytes,
                sha256: f.sha256,
                metadata_removed: f
                    .metadata_removed
                    .split(',')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect(),
                uploaded_by: f.uploaded_by.to_string(),
                created_at: f.created_at.and_utc(),
            })
            .collect(),
        history: history
            .into_iter()
            .map(|e| RemediationEventView {
                id: e.id.to_string(),
                event: e.event,
                evidence: e.evidence,
                reason: e.reason,
                by: e.actor_id.to_string(),
                at: e.at.and_utc(),
            })
            .collect(),
    })
}

/// Case `case_id`'s plan as `viewer` may read it, on `today`.
///
/// Errors: the case's `NotFound`/`Forbidden`; database errors.
pub fn plan_of(
    conn: &mut DbConnection,
    viewer: &Viewer,
    case_id: &str,
    today: NaiveDate,
) -> Result<RemediationPlan, RemediationError> {
    let case = visible_case(conn, viewer, case_id)?;
    let rows: Vec<RemediationItemRow> = remediation_items::table
        .filter(remediation_items::case_id.eq(case.id.as_str()))
        .order((remediation_items::created_at, remediation_items::id))
        .select(RemediationItemRow::as_select())
        .load(conn)?;
    let complete = rules::plan_complete(&rows.iter().map(|r| r.status).collect::<Vec<_>>());
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(item_view(conn, row, today)?);
    }
    Ok(RemediationPlan {
        items,
        next_cursor: None,
        case_id: case.id.to_string(),
        complete,
    })
}

/// Item `id` as `viewer` may read it (the team rule of its case).
///
/// Errors: `NotFound`; the case's `Forbidden`; database errors.
pub fn get_item(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
    today: NaiveDate,
) -> Result<RemediationItemView, RemediationError> {
    let row = item_row(conn, id)?;
    visible_case(conn, viewer, row.case_id.as_str())?;
    Ok(item_view(conn, row, today)?)
}

fn record_event(
    conn: &mut DbConnection,
    item: &RemediationItemId,
    event: &str,
    evidence: Option<String>,
    reason: Option<String>,
    by: &UserId,
    now: NaiveDateTime,
) -> QueryResult<RemediationEventId> {
    let id = RemediationEventId::generate();
    let before: i64 = remediation_events::table
        .filter(remediation_events::item_id.eq(item.as_str()))
        .count()
        .get_result(conn)?;
    diesel::insert_into(remediation_events::table)
        .values(RemediationEventRow {
            id: id.clone(),
            item_id: item.clone(),
            position: before as i32 + 1,
            event: event.to_string(),
            evidence,
            reason,
            actor_id: by.clone(),
            at: now,
        })
        .execute(conn)?;
    Ok(id)
}

/// Adds an item to case `case_id`'s plan as `viewer` (an investigator of the case's team or a
/// supervisor; the handler checks the role).
///
/// Errors: `Invalid` (422: `description`, `responsible_unit`, `due_on`, every problem at once);
/// the case's `NotFound`/`Forbidden`; `CaseNotFiled` (409) unless the case was filed;
/// `PlanComplete` (409); database errors.
pub fn add_item(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    case_id: &str,
    body: &NewItemRequest,
    at: Moment,
) -> Result<RemediationItemView, RemediationError> {
    let mut problems = Vec::new();
    let description = required_text("description", body.description.as_deref(), TEXT_MAX)
        .map_err(|e| problems.push(e))
        .ok();
    let unit = crate::cases::required_line(
        "responsible_unit",
        body.responsible_unit.as_deref(),
        UNIT_MAX,
    )
    .map_err(|e| problems.push(e))
    .ok();
    let due_on = match body.due_on.as_deref().map(crate::domain::text::parse_date) {
        None => {
            problems.push(FieldViolation::new(
                "due_on",
                ErrorCode::Required,
                "due_on (YYYY-MM-DD) is required",
            ));
            None
        }
        Some(None) => {
            problems.push(FieldViolation::new(
                "due_on",
                ErrorCode::InvalidDate,
                "due_on is a date, YYYY-MM-DD",
            ));
            None
        }
        Some(Some(d)) if d < at.today || d > at.today + DUE_HORIZON => {
            problems.push(FieldViolation::new(
                "due_on",
                ErrorCode::OutOfRange,
                "due_on is today or later (county date), within ten years",
            ));
            None
        }
        Some(Some(d)) => Some(d),
    };
    db::write_tx(conn, |conn| {
        let case = visible_case(conn, viewer, case_id)?;
        if !was_filed(case.status) {
            return Err(RemediationError::CaseNotFiled);
        }
        let (Some(description), Some(unit), Some(due_on)) = (description, unit, due_on) else {
            return Err(RemediationError::Invalid(problems));
        };
        // Items of one case are added one after the other, so none slips in beside the
        // verification that completes the plan.
        dialect::lock_case(conn, case.id.as_str())?;
        if !rules::may_add_item(&statuses_of(conn, case.id.as_str())?) {
            return Err(RemediationError::PlanComplete);
        }
        let by = UserId::from(viewer.user_id.as_str());
        let row = RemediationItemRow {
            id: RemediationItemId::generate(),
            case_id: CaseId::from(case.id.as_str()),
            description,
            responsible_unit: unit,
            due_on,
            status: ItemStatus::Open,
            evidence: None,
            submitted_by: None,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            rejection_reason: None,
            version: 1,
            created_by: by.clone(),
            created_at: at.now,
            updated_at: at.now,
        };
        diesel::insert_into(remediation_items::table)
            .values(&row)
            .execute(conn)?;
        record_event(conn, &row.id, "created", None, None, &by, at.now)?;
        audit::record(
            conn,
            at.now,
            actor,
            "remediation.item_created",
            "case",
            case.id.as_str(),
            serde_json::json!({
                "item_id": row.id,
                "description": row.description,
                "responsible_unit": row.responsible_unit,
                "due_on": row.due_on,
            }),
        )?;
        Ok(item_view(conn, row, at.today)?)
    })
}

/// Loads item `id` for a change by `viewer`, checks the case's team rule, `version` and that
/// `action` is allowed; returns the item, its new status and the case's village.
fn prepare(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
    version: Option<i32>,
    action: ItemAction,
) -> Result<(RemediationItemRow, ItemStatus, String), RemediationError> {
    let row = item_row(conn, id)?;
    let case = visible_case(conn, viewer, row.case_id.as_str())?;
    if version.is_some_and(|v| v != row.version) {
        return Err(RemediationError::VersionConflict {
            current: row.version,
        });
    }
    let to = rules::transition(row.status, action).map_err(RemediationError::InvalidTransition)?;
    Ok((row, to, case.village_code))
}

/// Writes `changes` if the item is still at `row.version`.
///
/// Errors: `VersionConflict` when another change got there first; database errors.
fn apply(
    conn: &mut DbConnection,
    row: &RemediationItemRow,
    changes: &RemediationItemChanges,
) -> Result<RemediationItemRow, RemediationError> {
    let updated = diesel::update(
        remediation_items::table
            .filter(remediation_items::id.eq(row.id.as_str()))
            .filter(remediation_items::version.eq(row.version)),
    )
    .set(changes)
    .execute(conn)?;
    if updated != 1 {
        let current: i32 = remediation_items::table
            .find(row.id.as_str())
            .select(remediation_items::version)
            .first(conn)?;
        return Err(RemediationError::VersionConflict { current });
    }
    item_row(conn, row.id.as_str())
}

/// Submits evidence for item `id` as `viewer` (investigator of the case's team, supervisor):
/// `open` or `rejected` → `submitted`, with the evidence text and the staged `files` (already
/// cleaned and encrypted; recorded as `remediation_files` of this submission). The caller keeps
/// the files on disk only if this commits (`StagedFiles::commit`).
///
/// Errors: `Invalid` (422: `evidence`); `NotFound`; the case's `Forbidden`;
/// `VersionConflict`, `InvalidTransition` (409); database errors.
pub fn submit(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &SubmitRequest,
    files: &[StagedFile],
    at: Moment,
) -> Result<RemediationItemView, RemediationError> {
    let evidence = required_text("evidence", body.evidence.as_deref(), TEXT_MAX)
        .map_err(|e| RemediationError::Invalid(vec![e]));
    db::write_tx(conn, |conn| {
        let (row, to, _) = prepare(conn, viewer, id, body.version, ItemAction::Submit)?;
        let evidence = evidence?;
        let by = UserId::from(viewer.user_id.as_str());
        let changed = apply(
            conn,
            &row,
            &RemediationItemChanges {
                status: to,
                evidence: Some(Some(evidence.clone())),
                submitted_by: Some(Some(by.clone())),
                submitted_at: Some(Some(at.now)),
                decided_by: Some(None),
                decided_at: Some(None),
                rejection_reason: Some(None),
                version: row.version + 1,
                updated_at: at.now,
            },
        )?;
        let event = record_event(
            conn,
            &row.id,
            "submitted",
            Some(evidence),
            None,
            &by,
            at.now,
        )?;
        for staged in files {
            diesel::insert_into(remediation_files::table)
                .values(RemediationFileRow {
                    id: RemediationFileId::from(staged.attachment_id.as_str()),
                    item_id: row.id.clone(),
                    event_id: event.clone(),
                    storage_name: staged.file.storage_name.clone(),
                    content_type: staged.file.content_type.clone(),
                    size_bytes: staged.file.size as i64,
                    sha256: staged.file.sha256.clone(),
                    metadata_removed: staged.file.removed.join(","),
                    uploaded_by: by.clone(),
                    created_at: at.now,
                })
                .execute(conn)?;
        }
        audit::record(
            conn,
            at.now,
            actor,
            "remediation.submitted",
            "case",
            row.case_id.as_str(),
            serde_json::json!({
                "item_id": row.id,
                "event_id": event,
                "files": files.iter().map(|f| &f.attachment_id).collect::<Vec<_>>(),
            }),
        )?;
        Ok(item_view(conn, changed, at.today)?)
    })
}

/// Verifies item `id` as supervisor `viewer`: `submitted` → `verified`. When that completes the
/// case's plan, the case is cleared from its village's open suspension and, if no other case
/// blocks it, the suspension is lifted with this supervisor as the one who lifted it — all in
/// this transaction (`suspensions::lifting::clear_case`).
///
/// Errors: `NotFound`; `VersionConflict`, `InvalidTransition` (409); database errors.
pub fn verify(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &VerifyRequest,
    at: Moment,
) -> Result<Verified, RemediationError> {
    db::write_tx(conn, |conn| {
        // The village first: filings and lifts of one village run one after the other.
        let village: Option<String> = remediation_items::table
            .inner_join(cases::table)
            .filter(remediation_items::id.eq(id))
            .select(cases::village_code)
            .first(conn)
            .optional()?;
        if let Some(village) = &village {
            dialect::lock_division(conn, village)?;
        }
        let (row, to, _) = prepare(conn, viewer, id, body.version, ItemAction::Verify)?;
        let by = UserId::from(viewer.user_id.as_str());
        let changed = apply(
            conn,
            &row,
            &RemediationItemChanges {
                status: to,
                evidence: None,
                submitted_by: None,
                submitted_at: None,
                decided_by: Some(Some(by.clone())),
                decided_at: Some(Some(at.now)),
                rejection_reason: Some(None),
                version: row.version + 1,
                updated_at: at.now,
            },
        )?;
        record_event(conn, &row.id, "verified", None, None, &by, at.now)?;
        audit::record(
            conn,
            at.now,
            actor,
            "remediation.verified",
            "case",
            row.case_id.as_str(),
            serde_json::json!({"item_id": row.id}),
        )?;
        let complete = plan_complete(conn, row.case_id.as_str())?;
        let suspension = if complete {
            Some(lifting::clear_case(conn, &row.case_id, &by, actor, at.now)?)
        } else {
            None
        };
        Ok(Verified {
            item: item_view(conn, changed, at.today)?,
            plan_complete: complete,
            suspension,
        })
    })
}

/// Rejects the evidence of item `id` as supervisor `viewer`, with a reason: `submitted` →
/// `rejected` (it may be submitted again; the earlier submission stays in its history).
///
/// Errors: `Invalid` (422: `reason`); `NotFound`; `VersionConflict`, `InvalidTransition` (409);
/// database errors.
pub fn reject(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &RejectRequest,
    at: Moment,
) -> Result<RemediationItemView, RemediationError> {
    let reason = required_text("reason", body.reason.as_deref(), REASON_MAX)
        .map_err(|e| RemediationError::Invalid(vec![e]));
    db::write_tx(conn, |conn| {
        let (row, to, _) = prepare(conn, viewer, id, body.version, ItemAction::Reject)?;
        let reason = reason?;
        let by = UserId::from(viewer.user_id.as_str());
        let changed = apply(
            conn,
            &row,
            &RemediationItemChanges {
                status: to,
                evidence: None,
                submitted_by: None,
                submitted_at: None,
                decided_by: Some(Some(by.clone())),
                decided_at: Some(Some(at.now)),
                rejection_reason: Some(Some(reason.clone())),
                version: row.version + 1,
                updated_at: at.now,
            },
        )?;
        record_event(
            conn,
            &row.id,
            "rejected",
            None,
            Some(reason.clone()),
            &by,
            at.now,
        )?;
        audit::record(
            conn,
            at.now,
            actor,
            "remediation.rejected",
            "case",
            row.case_id.as_str(),
            serde_json::json!({"item_id": row.id, "reason": reason}),
        )?;
        Ok(item_view(conn, changed, at.today)?)
    })
}
