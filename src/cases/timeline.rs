//! `GET /cases/{id}/timeline`: every event of a case and of the entities linked to it, in the
//! order they happened, read from the audit log (SPEC.md → "Audit log"; issue 10, item 7).
//! Without identity: the audit log never holds a reporter's identity (`audit::record`), and the
//! details are stripped of identity-shaped keys again here ([`without_identity`]) so that no
//! later entry can leak one through the timeline.
//!
//! Which entries belong to a case: those of the case itself (`entity_type` `case`) and those of
//! each kind of linked entity in [`LINKED`], found by id. **A capability that adds a table of
//! rows belonging to a case adds one line to [`LINKED`]**: the `entity_type` its audit entries
//! use and a query of the ids of the case's rows, e.g.
//!
//! ```text
//! Linked { entity_type: "investigation", ids: investigation_ids },    // investigations.case_id
//! Linked { entity_type: "suspension", ids: suspension_ids },          // via suspension_cases
//! Linked { entity_type: "clawback", ids: clawback_ids },              // clawbacks.case_id
//! Linked { entity_type: "remediation_item", ids: remediation_ids },   // remediation_items.case_id
//! ```
//!
//! Nothing else changes: the query, the order and the pagination are the same for every kind.
//! The audit log's `(entity_type, entity_id)` index serves each kind's lookup.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Serialize;
use utoipa::ToSchema;

use super::{visible_case, CaseError, Viewer};
use crate::audit::AuditEventRow;
use crate::auth::extract::Staff;
use crate::db::schema::{
    audit_events, clawbacks, false_accusations, identity_requests, investigations, suspension_cases,
};
use crate::db::{self, DbConnection, DbPool, MultiBackend};
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::pagination::{page, Page, PageQuery};

/// One kind of entity linked to a case: the `entity_type` of its audit entries, and how to
/// find the ids of the case's entities of that kind (given the case's id).
pub struct Linked {
    pub entity_type: &'static str,
    pub ids: fn(&mut DbConnection, &str) -> QueryResult<Vec<String>>,
    /// Shown to supervisors only (false-accusation findings, SPEC.md → "Investigations").
    pub supervisors_only: bool,
}

/// Every kind of entity linked to a case, beside the case itself. Add one line per new table
/// of rows that belong to a case (see the module documentation).
pub const LINKED: &[Linked] = &[
    // The reports of the case, merged ones included (`reports.case_id`).
    Linked {
        entity_type: "report",
        ids: report_ids,
        supervisors_only: false,
    },
    // Requests for the reporters' identity (`identity_requests.case_id`); reads are entries
    // of the case itself.
    Linked {
        entity_type: "identity_request",
        ids: identity_request_ids,
        supervisors_only: false,
    },
    // The reporters' objections (`objections.case_id`).
    Linked {
        entity_type: "objection",
        ids: crate::objections::ids_of_case,
        supervisors_only: false,
    },
    // The investigations filing opened (`investigations.case_id`).
    Linked {
        entity_type: "investigation",
        ids: investigation_ids,
        supervisors_only: false,
    },
    // The village suspension the case opened or joined (`suspension_cases`): its whole
    // history, other cases' joins included (they name case ids, never their content).
    Linked {
        entity_type: "suspension",
        ids: suspension_ids,
        supervisors_only: false,
    },
    // Clawbacks recorded on the case (`clawbacks.case_id`).
    Linked {
        entity_type: "clawback",
        ids: clawback_ids,
        supervisors_only: false,
    },
    // False-accusation findings (`false_accusations.case_id`): supervisors only.
    Linked {
        entity_type: "false_accusation",
        ids: false_accusation_ids,
        supervisors_only: true,
    },
];

fn investigation_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    investigations::table
        .filter(investigations::case_id.eq(case_id))
        .select(investigations::id)
        .load(conn)
}

fn suspension_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    suspension_cases::table
        .filter(suspension_cases::case_id.eq(case_id))
        .select(suspension_cases::suspension_id)
        .load(conn)
}

fn clawback_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    clawbacks::table
        .filter(clawbacks::case_id.eq(case_id))
        .select(clawbacks::id)
        .load(conn)
}

fn false_accusation_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    false_accusations::table
        .filter(false_accusations::case_id.eq(case_id))
        .select(false_accusations::id)
        .load(conn)
}

fn report_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    Ok(super::view::report_ids(conn, case_id)?
        .into_iter()
        .map(|id| id.into_string())
        .collect())
}

fn identity_request_ids(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<String>> {
    identity_requests::table
        .filter(identity_requests::case_id.eq(case_id))
        .select(identity_requests::id)
        .load(conn)
}

/// The details of an entry of a shared entity (the village's suspension, which several cases
/// may hold) without the other cases: a viewer of this case may not see those, so their
/// `case_id` and `case_number` become `null` and `other_case` says that another case did it.
fn without_other_cases(
    entity_type: &str,
    case_id: &str,
    mut details: serde_json::Value,
) -> serde_json::Value {
    if entity_type != "suspension" {
        return details;
    }
    if let Some(map) = details.as_object_mut() {
        let other = map
            .get("case_id")
            .and_then(|c| c.as_str())
            .is_some_and(|c| c != case_id);
        if other {
            map.insert("case_id".into(), serde_json::Value::Null);
            map.insert("case_number".into(), serde_json::Value::Null);
            map.insert("other_case".into(), serde_json::Value::Bool(true));
        }
    }
    details
}

/// Who did it: `user` (with `user_id`), `reporter` (never who), `service` (with
/// `api_key_id`), `system` or `cli`.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct TimelineActor {
    /// `user | reporter | service | system | cli`.
    pub kind: String,
    /// The staff member, for `user`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The service API key, for `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

impl TimelineActor {
    /// The actor stored as `text` in the audit log (`audit::Actor::as_text`).
    pub fn parse(text: &str) -> TimelineActor {
        let (kind, id) = match text.split_once(':') {
            Some((kind, id)) => (kind, Some(id.to_string())),
            None => (text, None),
        };
        TimelineActor {
            kind: kind.to_string(),
            user_id: if kind == "user" { id.clone() } else { None },
            api_key_id: if kind == "service" { id } else { None },
        }
    }
}

/// One event of the case's timeline: an audit entry, its details without identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// The audit entry's sequence number: the order of events.
    pub seq: i64,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// E.g. `report.submitted`, `case.created`, `case.disposition`, `case.note_added`,
    /// `objection.filed`.
    pub action: String,
    /// `case`, `report`, `identity_request`, `objection`, … (see `LINKED`).
    pub entity_type: String,
    pub entity_id: String,
    pub actor: TimelineActor,
    /// The audit entry's details, without identity.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Keys whose values would be a person's identity: removed from the details at any depth.
const IDENTITY_KEYS: &[&str] = &[
    "reporter",
    "reporter_name",
    "name",
    "id_number",
    "phone",
    "email",
    "address",
    "beneficiary",
    "unit",
];

/// `details` without any key of [`IDENTITY_KEYS`], at any depth (SPEC.md → "Confidentiality
/// (Art 47)": identity is never shown except through the custodian workflow).
pub fn without_identity(details: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match details {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !IDENTITY_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k, without_identity(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_identity).collect()),
        other => other,
    }
}

type Predicate = Box<dyn BoxableExpression<audit_events::table, MultiBackend, SqlType = Bool>>;

/// The timeline of case `case_id` (which the caller may see): its audit entries and those of
/// every entity of [`LINKED`] (those marked `supervisors_only` only when `supervisor`), by
/// `seq`, at most `limit` after `after` (a `seq`).
///
/// Errors: any database error.
pub fn timeline(
    conn: &mut DbConnection,
    case_id: &str,
    supervisor: bool,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<TimelineEntry>> {
    let mut belongs: Predicate = Box::new(
        audit_events::entity_type
            .eq("case")
            .and(audit_events::entity_id.eq(case_id.to_string())),
    );
    for linked in LINKED.iter().filter(|l| supervisor || !l.supervisors_only) {
        let ids = (linked.ids)(conn, case_id)?;
        if !ids.is_empty() {
            belongs = Box::new(
                belongs.or(audit_events::entity_type
                    .eq(linked.entity_type)
                    .and(audit_events::entity_id.eq_any(ids))),
            );
        }
    }
    let rows: Vec<AuditEventRow> = audit_events::table
        .filter(belongs)
        .filter(audit_events::seq.gt(after.unwrap_or(0)))
        .order(audit_events::seq.asc())
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| TimelineEntry {
            seq: r.seq,
            at: r.occurred_at.and_utc(),
            actor: TimelineActor::parse(&r.actor),
            details: without_other_cases(
                &r.entity_type,
                case_id,
                without_identity(
                    serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
                ),
            ),
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
        })
        .collect())
}

/// The case's timeline: every audited event of the case, its reports, the requests for its
/// reporters' identity, its objections, its investigations, its clawbacks and its village
/// suspension, in order, without identity. False-accusation findings appear to supervisors
/// only. Staff who may see the case (as `GET /cases/{id}`); investigators of other teams get
/// 403.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path), PageQuery),
    responses(
        (status = 200, body = Page<TimelineEntry>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/cases/{id}/timeline")]
pub async fn case_timeline(
    staff: Staff,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadCases)?;
    let (limit, after) = query.parse()?;
    let after = match after {
        None => None,
        Some(key) => Some(key.parse::<i64>().map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "cursor",
                ErrorCode::Invalid,
                "cursor must be a next_cursor value from a previous page",
            )])
        })?),
    };
    let viewer = Viewer {
        user_id: staff.user_id().to_string(),
        roles: staff.0.roles.clone(),
    };
    let id = id.into_inner();
    let items = db::run(&pool, move |conn| {
        let case = visible_case(conn, &viewer, &id).map_err(ApiError::from)?;
        let supervisor = super::investigations::reads_false_accusations(&viewer);
        timeline(conn, case.id.as_str(), supervisor, after, limit)
            .map_err(|e| ApiError::from(CaseError::from(e)))
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |e| e.seq.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn other_cases_of_a_shared_suspension_are_not_named() {
        let other = json!({"village_code": "360734100201", "case_id": "b", "case_number": "AJ-2"});
        assert_eq!(
            without_other_cases("suspension", "a", other),
            json!({"village_code": "360734100201", "case_id": null, "case_number": null,
                   "other_case": true})
        );
        let own = json!({"case_id": "a", "case_number": "AJ-1"});
        assert_eq!(without_other_cases("suspension", "a", own.clone()), own);
        let case_entry = json!({"case_id": "b"});
        assert_eq!(
            without_other_cases("case", "a", case_entry.clone()),
            case_entry
        );
    }

    #[test]
    fn identity_keys_are_removed_at_any_depth() {
        let details = json!({
            "number": "JB-2026-000001",
            "name": "李某",
            "reporter": {"name": "李某", "phone": "13800138000"},
            "reports": [{"report_id": "r1", "id_number": "11010519491231002X",
                         "email": "li@example.test", "address": "城北村三组"}],
            "reason": "需要核实",
        });
        assert_eq!(
            without_identity(details),
            json!({"number": "JB-2026-000001", "reports": [{"report_id": "r1"}],
                   "reason": "需要核实"})
        );
    }

    #[test]
    fn actors_read_as_kinds_without_revealing_the_reporter() {
        assert_eq!(
            TimelineActor::parse("user:u1"),
            TimelineActor {
                kind: "user".into(),
                user_id: Some("u1".into()),
                api_key_id: None
            }
        );
        assert_eq!(TimelineActor::parse("reporter").kind, "reporter");
        assert_eq!(TimelineActor::parse("reporter").user_id, None);
        assert_eq!(
            TimelineActor::parse("service:k1").api_key_id.as_deref(),
            Some("k1")
        );
        assert_eq!(TimelineActor::parse("system").kind, "system");
    }
}
