//! An official's record across cases (issue 13, the staff console's 责任追究 page): the cases
//! that touch an official, and the sanctions the investigations' conclusions decided against
//! them (SPEC.md → "Outcomes"). Read-only. And [`visible_ids`]: which of a set of cases a viewer
//! may open, so that a page links only the cases its reader may read.
//!
//! Everything here follows the case rule of [`super::visible_case`]: supervisors and auditors
//! see every case, investigators their own teams' cases ([`Viewer::sees_all`]). The caller
//! checks the permission to read cases (`Permission::ReadCases`) first.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::models::{CaseRow, ConclusionRow, SanctionRow};
use super::{teams_of, Viewer};
use crate::db::schema::{
    cases, clawback_signers, clawbacks, investigation_conclusions, investigation_officials,
    investigations, sanctions,
};
use crate::db::DbConnection;
use crate::domain::case_status::CaseStatus;
use crate::domain::ids::{CaseId, ConclusionId, InvestigationId, TeamId};
use crate::domain::investigation::{InvestigationKind, SanctionCategory};
use crate::domain::report::Programme;

/// How a case touches an official.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Named as an accused official when the report was accepted (triage).
    Accused,
    /// Looked into by one of the case's investigations: the primary (the conduct) or the
    /// accountability one (the leadership's supervisory duty, 一案双查).
    Investigated(InvestigationKind),
    /// Sanctioned by a conclusion of one of the case's investigations.
    Sanctioned,
    /// Signed the approval of a benefit the case claws back (谁签字谁负责).
    Signer,
}

impl Touch {
    /// The order a case's touches are listed in.
    fn rank(self) -> u8 {
        match self {
            Touch::Accused => 0,
            Touch::Investigated(InvestigationKind::Primary) => 1,
            Touch::Investigated(InvestigationKind::Accountability) => 2,
            Touch::Sanctioned => 3,
            Touch::Signer => 4,
        }
    }
}

/// A case that touches the official, with every way it does.
#[derive(Debug, Clone)]
pub struct TouchedCase {
    pub case_id: String,
    /// `AJ-2026-000001`.
    pub number: String,
    pub status: CaseStatus,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    /// In the order of [`Touch`], each once.
    pub touches: Vec<Touch>,
}

/// A sanction decided against the official.
#[derive(Debug, Clone)]
pub struct OfficialSanction {
    pub case_id: String,
    pub case_number: String,
    /// The kind of the investigation whose conclusion decided it.
    pub investigation_kind: InvestigationKind,
    pub category: SanctionCategory,
    /// A type of `category` (`domain::investigation::SANCTION_TYPES`).
    pub sanction_type: String,
    pub decided_on: NaiveDate,
    /// The decision's document number (文号).
    pub document_number: String,
    /// The conclusion was reopened afterwards: the sanction belongs to a conclusion that no
    /// longer stands (kept on record, as the case page keeps it under earlier conclusions).
    pub reopened: bool,
}

/// What the cases say about one official, as a viewer may read it.
#[derive(Debug, Clone, Default)]
pub struct OfficialRecord {
    /// By case number.
    pub cases: Vec<TouchedCase>,
    /// Newest decision first.
    pub sanctions: Vec<OfficialSanction>,
}

/// The teams whose cases `viewer` reads, or `None` for every case (supervisors, auditors).
fn reach(conn: &mut DbConnection, viewer: &Viewer) -> QueryResult<Option<HashSet<TeamId>>> {
    if viewer.sees_all() {
        return Ok(None);
    }
    Ok(Some(teams_of(conn, &viewer.user_id)?.into_iter().collect()))
}

/// The ids among `case_ids` of cases `viewer` may open (as [`super::visible_case`] decides).
/// Unknown ids are left out.
///
/// Errors: database errors.
pub fn visible_ids(
    conn: &mut DbConnection,
    viewer: &Viewer,
    case_ids: &[&str],
) -> QueryResult<HashSet<String>> {
    if case_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let teams = reach(conn, viewer)?;
    let rows: Vec<(CaseId, TeamId)> = cases::table
        .filter(cases::id.eq_any(case_ids))
        .select((cases::id, cases::team_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, team)| teams.as_ref().is_none_or(|t| t.contains(team)))
        .map(|(id, _)| id.into_string())
        .collect())
}

/// `text` for a LIKE pattern: `\`, `%` and `_` escaped with `\`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The cases touching official `official_id` and the sanctions decided against them, as
/// `viewer` may read them: the cases of other teams are left out for an investigator. A
/// sanction is listed with its case and the kind of investigation that decided it.
///
/// Errors: database errors.
pub fn official_record(
    conn: &mut DbConnection,
    viewer: &Viewer,
    official_id: &str,
) -> QueryResult<OfficialRecord> {
    let mut touches: HashMap<String, Vec<Touch>> = HashMap::new();
    let mut touch = |case: String, t: Touch| {
        let list = touches.entry(case).or_default();
        if !list.contains(&t) {
            list.push(t);
        }
    };

    // Accused at triage: `accused_official_ids` is a JSON array of ids; the LIKE narrows, the
    // parse decides.
    let pattern = format!("%\"{}\"%", like_escaped(official_id));
    let accused: Vec<(CaseId, String)> = cases::table
        .filter(cases::accused_official_ids.like(pattern).escape('\\'))
        .select((cases::id, cases::accused_official_ids))
        .load(conn)?;
    for (case, ids) in accused {
        let ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
        if ids.iter().any(|i| i == official_id) {
            touch(case.into_string(), Touch::Accused);
        }
    }

    let investigated: Vec<(CaseId, InvestigationKind)> = investigation_officials::table
        .inner_join(investigations::table)
        .filter(investigation_officials::official_id.eq(official_id))
        .select((investigations::case_id, investigations::kind))
        .load(conn)?;
    for (case, kind) in investigated {
        touch(case.into_string(), Touch::Investigated(kind));
    }

    let sanction_rows: Vec<SanctionRow> = sanctions::table
        .filter(sanctions::official_id.eq(official_id))
        .select(SanctionRow::as_select())
        .load(conn)?;
    let investigation_ids: Vec<&InvestigationId> =
        sanction_rows.iter().map(|s| &s.investigation_id).collect();
    let of_investigation: HashMap<InvestigationId, (CaseId, InvestigationKind)> =
        investigations::table
            .filter(investigations::id.eq_any(investigation_ids))
            .select((
                investigations::id,
                investigations::case_id,
                investigations::kind,
            ))
            .load::<(InvestigationId, CaseId, InvestigationKind)>(conn)?
            .into_iter()
            .map(|(id, case, kind)| (id, (case, kind)))
            .collect();
    let conclusion_ids: Vec<&ConclusionId> =
        sanction_rows.iter().map(|s| &s.conclusion_id).collect();
    let reopened: HashSet<ConclusionId> = investigation_conclusions::table
        .filter(investigation_conclusions::id.eq_any(conclusion_ids))
        .select(ConclusionRow::as_select())
        .load(conn)?
        .into_iter()
        .filter(|c| c.reopened_at.is_some())
        .map(|c| c.id)
        .collect();
    for s in &sanction_rows {
        if let Some((case, _)) = of_investigation.get(&s.investigation_id) {
            touch(case.to_string(), Touch::Sanctioned);
        }
    }

    let signed: Vec<CaseId> = clawback_signers::table
        .inner_join(clawbacks::table)
        .filter(clawback_signers::official_id.eq(official_id))
        .select(clawbacks::case_id)
        .load(conn)?;
    for case in signed {
        touch(case.into_string(), Touch::Signer);
    }

    let ids: Vec<&str> = touches.keys().map(String::as_str).collect();
    let teams = reach(conn, viewer)?;
    let rows: Vec<CaseRow> = if ids.is_empty() {
        Vec::new()
    } else {
        cases::table
            .filter(cases::id.eq_any(&ids))
            .select(CaseRow::as_select())
            .load(conn)?
    };
    let visible: BTreeMap<String, CaseRow> = rows
        .into_iter()
        .filter(|c| teams.as_ref().is_none_or(|t| t.contains(&c.team_id)))
        .map(|c| (c.number.clone(), c))
        .collect();
    let number_of: HashMap<String, String> = visible
        .values()
        .map(|c| (c.id.to_string(), c.number.clone()))
        .collect();

    let mut sanctions_out: Vec<OfficialSanction> = sanction_rows
        .into_iter()
        .filter_map(|s| {
            let (case, kind) = of_investigation.get(&s.investigation_id)?;
            let number = number_of.get(case.as_str())?;
            Some(OfficialSanction {
                case_id: case.to_string(),
                case_number: number.clone(),
                investigation_kind: *kind,
                category: s.category,
                sanction_type: s.sanction_type,
                decided_on: s.decided_on,
                document_number: s.document_number,
                reopened: reopened.contains(&s.conclusion_id),
            })
        })
        .collect();
    sanctions_out.sort_by(|a, b| {
        b.decided_on
            .cmp(&a.decided_on)
            .then_with(|| a.case_number.cmp(&b.case_number))
    });

    let cases_out = visible
        .into_values()
        .map(|c| {
            let mut t = touches.remove(c.id.as_str()).unwrap_or_default();
            t.sort_by_key(|t| t.rank());
            TouchedCase {
                case_id: c.id.into_string(),
                number: c.number,
                status: c.status,
                programme: c.programme,
                township_code: c.township_code,
                village_code: c.village_code,
                touches: t,
            }
        })
        .collect();
    Ok(OfficialRecord {
        cases: cases_out,
        sanctions: sanctions_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_escaped("a_b%c\\d"), "a\\_b\\%c\\\\d");
        assert_eq!(like_escaped("0b7c-11"), "0b7c-11");
    }
}
