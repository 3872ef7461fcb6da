//! Cases a report may repeat (Art 16: a repeat report joins the case already registered):
//! `GET /reports/{id}/similar` suggests open cases for a merge.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::CaseRow;
use super::{CaseError, Viewer};
use crate::db::schema::{cases, reports};
use crate::db::DbConnection;
use crate::domain::case_status::CaseStatus;
use crate::domain::report::{AccusedPerson, Programme};

/// How far back a case counts as possibly the same matter (calendar days).
pub const WINDOW_DAYS: i64 = 180;
/// The most cases considered and listed.
const MAX_SUGGESTIONS: i64 = 50;

/// An open case that may be the same matter as the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarCase {
    pub case_id: String,
    pub number: String,
    pub status: String,
    pub programme: String,
    pub village_code: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub report_ids: Vec<String>,
    /// Accused names the report shares with the case's reports (exact, after trimming).
    pub overlapping_names: Vec<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
struct PlaceRow {
    programme: Programme,
    village_code: String,
    accused: String,
}

fn names(accused_json: &str) -> BTreeSet<String> {
    serde_json::from_str::<Vec<AccusedPerson>>(accused_json)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.name.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Open cases of report `report_id`'s village and programme opened in the last
/// [`WINDOW_DAYS`] before `now` (UTC), those sharing an accused name with it first (more shared
/// names first), then the newest. Investigators see only their teams' cases.
///
/// Errors: `NotFound("report")`; database errors.
pub fn similar(
    conn: &mut DbConnection,
    viewer: &Viewer,
    report_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<SimilarCase>, CaseError> {
    let report: PlaceRow = reports::table
        .find(report_id)
        .select(PlaceRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(CaseError::NotFound("report"))?;
    let wanted = names(&report.accused);
    let since = now - chrono::Duration::days(WINDOW_DAYS);
    let mut q = cases::table
        .filter(cases::village_code.eq(report.village_code.clone()))
        .filter(cases::programme.eq(report.programme))
        .filter(cases::created_at.ge(since))
        .filter(
            cases::status
                .ne(CaseStatus::Closed)
                .and(cases::status.ne(CaseStatus::ClosedWithoutAction)),
        )
        .into_boxed();
    if !viewer.sees_all() && !viewer.roles.contains(&crate::domain::roles::Role::Intake) {
        q = q.filter(cases::team_id.eq_any(super::teams_of(conn, &viewer.user_id)?));
    }
    let rows: Vec<CaseRow> = q
        .order((cases::created_at.desc(), cases::number.desc()))
        .limit(MAX_SUGGESTIONS)
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let theirs: Vec<(crate::domain::ids::ReportId, String)> = reports::table
            .filter(reports::case_id.eq(row.id.as_str()))
            .filter(reports::id.ne(report_id))
            .order(reports::submitted_at.asc())
            .select((reports::id, reports::accused))
            .load(conn)?;
        let mut shared = BTreeSet::new();
        for (_, accused) in &theirs {
            shared.extend(names(accused).intersection(&wanted).cloned());
        }
        found.push(SimilarCase {
            case_id: row.id.into_string(),
            number: row.number,
            status: row.status.as_str().to_string(),
            programme: row.programme.as_str().to_string(),
            village_code: row.village_code,
            created_at: row.created_at.and_utc(),
            report_ids: theirs.into_iter().map(|(id, _)| id.into_string()).collect(),
            overlapping_names: shared.into_iter().collect(),
        });
    }
    // Stable: within the same overlap, the newest first as loaded.
    found.sort_by_key(|c| std::cmp::Reverse(c.overlapping_names.len()));
    Ok(found)
}
