//! Assigning a case (SPEC.md → "Case": `POST /cases/{id}/assign`; issue 9, items 6 and 7): a
//! supervisor gives the case to an active investigator of its team, never to someone who
//! declared a conflict of interest covering the case's village or township (Art 15 recusal,
//! `conflicts::find_conflict`). The change, its audit entry and the email to the new assignee
//! (a job, content-free) are one write transaction.
//!
//! Access follows team membership (`super::visible_case`), not the assignee: a previous
//! assignee keeps the case while still in its team and loses it once out of the team.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::models::CaseRow;
use super::view::{self, CaseView};
use super::{visible_case, CaseError, CasesState, Viewer};
use crate::audit::{self, Actor};
use crate::auth::extract::Staff;
use crate::db::schema::{cases, investigations, user_roles, users};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::deadlines;
use crate::domain::ids::UserId;
use crate::domain::investigation::{InvestigationKind, InvestigationStatus};
use crate::domain::permissions::Permission;
use crate::domain::roles::Role;
use crate::error::{ApiError, ErrorCode, Problem};

/// The body of `POST /cases/{id}/assign`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// The new assignee: an active investigator who is a member of the case's team.
    pub assignee_id: String,
    /// The case's `version` as last read; a stale one is 409 `version_conflict`.
    pub version: Option<i32>,
}

/// Whether `user` is an active account with the investigator role and a member of the case's
/// team (`routing::is_member`).
pub fn is_active_investigator_of_team(
    conn: &mut DbConnection,
    row: &CaseRow,
    user: &UserId,
) -> QueryResult<bool> {
    let active: Option<bool> = users::table
        .find(user.as_str())
        .select(users::active)
        .first(conn)
        .optional()?;
    if active != Some(true) {
        return Ok(false);
    }
    let investigator: i64 = user_roles::table
        .filter(user_roles::user_id.eq(user.as_str()))
        .filter(user_roles::role.eq(Role::Investigator.as_str()))
        .count()
        .get_result(conn)?;
    Ok(investigator > 0 && crate::routing::is_member(conn, &row.team_id, user)?)
}

/// Assigns case `id` to `body.assignee_id` as `viewer` (a supervisor; the handler checks),
/// records `case.assigned` (from, to) and queues the `case_assigned` email to the new assignee
/// (when they have an address; it names the case number only), in one write transaction
/// stamped `now` (UTC). Assigning the current assignee again changes nothing and sends nothing.
///
/// Errors: `NotFound` (404); `CaseNotOpen` (409) for a closed case; `VersionConflict` (409);
/// 422 `not_in_team` when the assignee is not an active investigator of the case's team; 409
/// `conflict_of_interest` naming the declaration (`id`, `division_code`, `declared_at`); 409
/// `accountability_investigator` when the assignee holds the case's open accountability
/// investigation (一案双查);
/// database errors. Returns the case as changed.
pub fn assign(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: &str,
    body: &AssignRequest,
    now: NaiveDateTime,
) -> Result<CaseRow, CaseError> {
    let assignee = UserId::from(body.assignee_id.trim());
    db::write_tx(conn, |conn| {
        let row = visible_case(conn, viewer, id)?;
        if !row.status.is_open() {
            return Err(CaseError::Failed(ApiError::conflict(
                ErrorCode::CaseNotOpen,
                "The case is closed: it cannot be assigned. A supervisor may reopen it.",
            )));
        }
        if body.version.is_some_and(|v| v != row.version) {
            return Err(CaseError::VersionConflict {
                current: row.version,
            });
        }
        if !is_active_investigator_of_team(conn, &row, &assignee)? {
            return Err(CaseError::Failed(
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::NotInTeam,
                    "The assignee must be an active investigator who is a member of the case's team.",
                )
                .with_member("team_id", serde_json::json!(row.team_id)),
            ));
        }
        if let Some(d) = crate::conflicts::find_conflict(
            conn,
            &assignee,
            &row.township_code,
            Some(&row.village_code),
        )? {
            return Err(CaseError::Failed(
                ApiError::conflict(
                    ErrorCode::ConflictOfInterest,
                    format!(
                        "The assignee declared a conflict of interest in division {} and may \
                         not handle this case.",
                        d.division_code
                    ),
                )
                .with_member(
                    "declaration",
                    serde_json::json!({
                        "id": d.id,
                        "division_code": d.division_code,
                        "declared_at": d.declared_at.and_utc(),
                    }),
                ),
            ));
        }
        if row.assignee_id.as_ref() == Some(&assignee) {
            return Ok(row);
        }
        // 一案双查 (SPEC.md rule 2): the primary investigation follows the case's assignee, so
        // the case may not go to the investigator of its open accountability investigation.
        let holds_accountability: i64 = investigations::table
            .filter(investigations::case_id.eq(row.id.as_str()))
            .filter(investigations::kind.eq(InvestigationKind::Accountability))
            .filter(investigations::status.eq(InvestigationStatus::Open))
            .filter(investigations::assignee_id.eq(assignee.as_str()))
            .count()
            .get_result(conn)?;
        if holds_accountability > 0 {
            return Err(CaseError::Failed(ApiError::conflict(
                ErrorCode::AccountabilityInvestigator,
                "The assignee conducts this case's accountability investigation; one case, two \
                 investigations (一案双查) keeps the two with different investigators.",
            )));
        }
        let updated = diesel::update(
            cases::table
                .filter(cases::id.eq(row.id.as_str()))
                .filter(cases::version.eq(row.version)),
        )
        .set((
            cases::assignee_id.eq(Some(&assignee)),
            cases::version.eq(row.version + 1),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
        if updated != 1 {
            let current: i32 = cases::table
                .find(row.id.as_str())
                .select(cases::version)
                .first(conn)?;
            return Err(CaseError::VersionConflict { current });
        }
        // The primary investigation (the conduct) follows the case's assignee while it is open.
        diesel::update(
            investigations::table
                .filter(investigations::case_id.eq(row.id.as_str()))
                .filter(investigations::kind.eq(InvestigationKind::Primary))
                .filter(investigations::status.eq(InvestigationStatus::Open)),
        )
        .set((
            investigations::assignee_id.eq(Some(&assignee)),
            investigations::assignment_note.eq(None::<String>),
            investigations::updated_at.eq(now),
        ))
        .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            "case.assigned",
            "case",
            row.id.as_str(),
            serde_json::json!({ "from": row.assignee_id, "to": assignee }),
        )?;
        let email: Option<String> = users::table
            .find(assignee.as_str())
            .select(users::email)
            .first(conn)?;
        if let Some(email) = email {
            crate::notify::enqueue(
                conn,
                "case_assigned",
                &email,
                serde_json::json!({ "case_number": row.number }),
            )
            .map_err(|e| CaseError::Failed(ApiError::unexpected(e.into())))?;
        }
        Ok(cases::table
            .find(row.id.as_str())
            .select(CaseRow::as_select())
            .first(conn)?)
    })
}

/// Assign a case to an investigator of its team (supervisor). Refused with 422 `not_in_team`
/// or 409 `conflict_of_interest` (naming the declaration), `accountability_investigator` (the
/// assignee holds the case's accountability investigation: 一案双查), `case_not_open` or
/// `version_conflict`. The new assignee gets an email that
/// says only that case `AJ-…` was assigned to them. Answers the case as changed.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, description = "The case's id")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "The changed case", body = CaseView),
        (status = 409, description = "`conflict_of_interest`, `accountability_investigator`, `case_not_open` or `version_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`not_in_team`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/cases/{id}/assign")]
pub async fn assign_case(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<AssignRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<CasesState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Supervise)?;
    let viewer = Viewer {
        user_id: staff.user_id().to_string(),
        roles: staff.0.roles.clone(),
    };
    let actor = staff.actor();
    let (id, body) = (id.into_inner(), body.into_inner());
    let now = state.clock.now_naive();
    let today = deadlines::today_in_county(state.clock.now());
    let view = db::run(&pool, move |conn| {
        let row = assign(conn, &viewer, &actor, &id, &body, now)?;
        Ok(view::case_view(conn, row, today)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
