//! Custodian access to a reporter's identity (SPEC.md → "Reporter identity (custodian)"; issue
//! 9, item 8; docs/custodian.md).
//!
//! A staff member who can see a case asks, with a reason, to read the identity of its real-name
//! reporters ([`request`]). A supervisor who is not the requester approves or denies
//! ([`decide`]). An approval lets the requester alone read the identity for 24 hours
//! ([`read_identity`], `domain::custody`). Every request, decision and read is an audit entry in
//! the same transaction as the change, and every read leaves one `identity_disclosures` row per
//! report: the reporter's view says that (and when) their identity was seen, the staff case view
//! says to whom ([`disclosures_for_case`]). Identity values never enter the audit log.
//!
//! Layering: this capability uses `routing` (team membership) and sits below `cases`, whose
//! case view calls [`disclosures_for_case`].

pub mod models;
pub mod routes;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Actor};
use crate::crypto::DataKey;
use crate::db::schema::{cases, identity_disclosures, identity_requests, reports};
use crate::db::{self, DbConnection};
use crate::domain::custody::{self, DecisionRefused, RequestStatus};
use crate::domain::ids::{CaseId, DisclosureId, IdentityRequestId, TeamId, UserId};
use crate::domain::roles::Role;
use crate::domain::text;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use models::{Decision, DisclosureRow, IdentityRequestRow, SealedIdentityRow};

/// The longest reason of a request or a decision, in characters.
pub const REASON_MAX: usize = 2000;

/// The body of `POST /cases/{id}/identity-requests`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IdentityRequestBody {
    /// Why the identity is needed (1–2000 characters); kept on the record.
    pub reason: Option<String>,
}

/// The body of `POST /identity-requests/{id}/decision`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `true` grants the requester 24 hours of access; `false` denies.
    pub approve: bool,
    /// Why (0–2000 characters).
    pub reason: Option<String>,
}

/// A request for a reporter's identity, as staff see it. Times are RFC 3339 UTC.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityRequestView {
    pub id: String,
    pub case_id: String,
    pub requester_id: String,
    pub reason: String,
    /// `pending | approved | denied`.
    pub status: String,
    /// The supervisor who decided; null while pending.
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Approved requests: the end of the requester's access (24 h after the decision).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<IdentityRequestRow> for IdentityRequestView {
    fn from(r: IdentityRequestRow) -> Self {
        IdentityRequestView {
            id: r.id.into_string(),
            case_id: r.case_id.into_string(),
            requester_id: r.requester_id.into_string(),
            reason: r.reason,
            status: r.status.as_str().to_string(),
            decided_by: r.decided_by.map(UserId::into_string),
            decision_reason: r.decision_reason,
            decided_at: r.decided_at.map(|t| t.and_utc()),
            expires_at: r.expires_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// The identity a real-name reporter gave, decrypted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReporterIdentity {
    pub report_id: String,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// The answer of `GET /cases/{id}/reporter-identity`: the real-name reports of the case (an
/// anonymous report has nothing to reveal and is not listed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReporterIdentities {
    pub reports: Vec<ReporterIdentity>,
}

/// One disclosure of a report's identity: to whom and when (UTC). Never the identity.
#[derive(Debug, Clone, Serialize)]
pub struct Disclosure {
    pub report_id: String,
    pub to_user_id: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Who is asking: a staff member and their roles.
#[derive(Debug, Clone)]
pub struct Staffer {
    pub user_id: UserId,
    pub roles: Vec<Role>,
}

/// Why a custodian request was not done. Mapped to `ApiError` at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    /// No case (or request) has this id (404).
    #[error("no {0} has this id")]
    NotFound(&'static str),
    /// An investigator outside the case's team (403 `forbidden`).
    #[error("investigators see only their own teams' cases")]
    NotYourTeam,
    /// The decider made the request (403 `own_request`).
    #[error("a supervisor may not decide their own request")]
    OwnRequest,
    /// The request was decided already (409 `already_decided`).
    #[error("the request was decided already")]
    AlreadyDecided,
    /// No approved, unexpired request of the reader's own (403 `identity_access_required`).
    #[error("an approved identity request of your own is required")]
    AccessRequired,
    /// Fields are invalid (422).
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// A sealed value did not open under the data key (500).
    #[error("a sealed identity field of report {0} could not be decrypted")]
    Undecryptable(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<CustodyError> for ApiError {
    fn from(e: CustodyError) -> ApiError {
        use actix_web::http::StatusCode;
        match e {
            CustodyError::NotFound(what) => ApiError::not_found(format!("No {what} has this id.")),
            CustodyError::NotYourTeam => {
                ApiError::forbidden("Investigators see only their own teams' cases.")
            }
            CustodyError::OwnRequest => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::OwnRequest,
                "A supervisor who is not the requester decides a request for a reporter's identity.",
            ),
            CustodyError::AlreadyDecided => ApiError::conflict(
                ErrorCode::AlreadyDecided,
                "The request was approved or denied already; make a new request.",
            ),
            CustodyError::AccessRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::IdentityAccessRequired,
                "Reading a reporter's identity needs your own request, approved by a supervisor \
                 less than 24 hours ago.",
            ),
            CustodyError::Invalid(v) => ApiError::validation(v),
            e @ CustodyError::Undecryptable(_) => ApiError::unexpected(anyhow::anyhow!("{e}")),
            CustodyError::Database(e) => e.into(),
        }
    }
}

/// A reason after `domain::text::clean`: `min`–[`REASON_MAX`] characters; `None` when optional
/// and blank.
fn reason_field(value: Option<&str>, required: bool) -> Result<Option<String>, FieldViolation> {
    let cleaned = text::clean(value.unwrap_or_default());
    if cleaned.is_empty() && !required {
        return Ok(None);
    }
    match text::check_length(&cleaned, 1, REASON_MAX) {
        None => Ok(Some(cleaned)),
        Some(p) => Err(FieldViolation::new(
            "reason",
            p.code(),
            format!("reason must have 1–{REASON_MAX} characters"),
        )
        .limit(REASON_MAX)),
    }
}

/// The team of case `case_id`, when the case exists and `who` may see it (supervisors and
/// auditors see every case, investigators their teams' — SPEC.md → "Roles and permissions").
///
/// Errors: `NotFound("case")`, `NotYourTeam`, database errors.
fn visible_case_team(
    conn: &mut DbConnection,
    who: &Staffer,
    case_id: &str,
) -> Result<TeamId, CustodyError> {
    let team: TeamId = cases::table
        .find(case_id)
        .select(cases::team_id)
        .first(conn)
        .optional()?
        .ok_or(CustodyError::NotFound("case"))?;
    let sees_all = who
        .roles
        .iter()
        .any(|r| matches!(r, Role::Supervisor | Role::Auditor));
    if !sees_all && !crate::routing::is_member(conn, &team, &who.user_id)? {
        return Err(CustodyError::NotYourTeam);
    }
    Ok(team)
}

/// Records a request of `who` to read the reporter identity of case `case_id`, with `reason`
/// (1–2000 characters), as pending, and the audit entry `identity.requested`, in one write
/// transaction stamped `now` (UTC, the application's clock).
///
/// Errors: `Invalid` (`reason`); `NotFound("case")`; `NotYourTeam`; database errors.
pub fn request(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    who: &Staffer,
    case_id: &str,
    reason: Option<&str>,
) -> Result<IdentityRequestView, CustodyError> {
    let reason = reason_field(reason, true)
        .map_err(|v| CustodyError::Invalid(vec![v]))?
        .unwrap_or_default();
    db::write_tx(conn, |conn| {
        visible_case_team(conn, who, case_id)?;
        let row = IdentityRequestRow {
            id: IdentityRequestId::generate(),
            case_id: CaseId::from(case_id),
            requester_id: who.user_id.clone(),
            reason: reason.clone(),
            status: RequestStatus::Pending,
            decided_by: None,
            decision_reason: None,
            decided_at: None,
            expires_at: None,
            created_at: now,
        };
        diesel::insert_into(identity_requests::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            "identity.requested",
            "identity_request",
            row.id.as_str(),
            serde_json::json!({ "case_id": case_id, "reason": reason }),
        )?;
        Ok(row.into())
    })
}

/// Decides request `id` as the supervisor `decider` (the caller checks the role): approve →
/// `approved` with `expires_at` = `now` + 24 h; deny → `denied`. Records `identity.approved` or
/// `identity.denied` in the same write transaction.
///
/// Errors: `Invalid` (`reason` over 2000 characters); `NotFound("identity request")`;
/// `OwnRequest` (403) when `decider` made the request; `AlreadyDecided` (409); database errors.
pub fn decide(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    decider: &UserId,
    id: &str,
    body: &DecisionBody,
) -> Result<IdentityRequestView, CustodyError> {
    let reason =
        reason_field(body.reason.as_deref(), false).map_err(|v| CustodyError::Invalid(vec![v]))?;
    db::write_tx(conn, |conn| {
        let row: IdentityRequestRow = identity_requests::table
            .find(id)
            .select(IdentityRequestRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(CustodyError::NotFound("identity request"))?;
        custody::may_decide(row.requester_id.as_str(), decider.as_str(), row.status).map_err(
            |e| match e {
                DecisionRefused::OwnRequest => CustodyError::OwnRequest,
                DecisionRefused::AlreadyDecided => CustodyError::AlreadyDecided,
            },
        )?;
        let (status, expires) = if body.approve {
            (RequestStatus::Approved, Some(custody::expires_at(now)))
        } else {
            (RequestStatus::Denied, None)
        };
        // Conditional on `pending`, so of two concurrent decisions one wins.
        let updated = diesel::update(
            identity_requests::table
                .find(id)
                .filter(identity_requests::status.eq(RequestStatus::Pending)),
        )
        .set(&Decision {
            status,
            decided_by: Some(decider.clone()),
            decision_reason: reason.clone(),
            decided_at: Some(now),
            expires_at: expires,
        })
        .execute(conn)?;
        if updated != 1 {
            return Err(CustodyError::AlreadyDecided);
        }
        audit::record(
            conn,
            now,
            actor,
            if body.approve {
                "identity.approved"
            } else {
                "identity.denied"
            },
            "identity_request",
            id,
            serde_json::json!({
                "case_id": row.case_id,
                "requester_id": row.requester_id,
                "reason": reason,
                "expires_at": expires.map(|t| t.and_utc()),
            }),
        )?;
        Ok(identity_requests::table
            .find(id)
            .select(IdentityRequestRow::as_select())
            .first::<IdentityRequestRow>(conn)?
            .into())
    })
}

/// The requests for the reporter identity of case `case_id`, oldest first, for `who` (a staff
/// member who may see the case): who asked, why, and the decision, never the identity (the
/// console's case page lists them, with the decision form for supervisors).
///
/// Errors: `NotFound("case")`; `NotYourTeam`; database errors.
pub fn requests_for_case(
    conn: &mut DbConnection,
    who: &Staffer,
    case_id: &str,
) -> Result<Vec<IdentityRequestView>, CustodyError> {
    visible_case_team(conn, who, case_id)?;
    Ok(identity_requests::table
        .filter(identity_requests::case_id.eq(case_id))
        .order((
            identity_requests::created_at.asc(),
            identity_requests::id.asc(),
        ))
        .select(IdentityRequestRow::as_select())
        .load::<IdentityRequestRow>(conn)?
        .into_iter()
        .map(IdentityRequestView::from)
        .collect())
}

/// The case of identity request `id`, if there is one.
///
/// Errors: database errors.
pub fn case_of_request(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    identity_requests::table
        .find(id)
        .select(identity_requests::case_id)
        .first(conn)
        .optional()
}

/// Opens one sealed identity field of report `report_id`.
fn open(
    key: &DataKey,
    report_id: &str,
    field: &str,
    sealed: Option<Vec<u8>>,
) -> Result<Option<String>, CustodyError> {
    sealed
        .map(|s| {
            key.decrypt(&s, &format!("report:{report_id}:{field}"))
                .ok()
                .and_then(|plain| String::from_utf8(plain).ok())
                .ok_or_else(|| CustodyError::Undecryptable(report_id.to_string()))
        })
        .transpose()
}

/// The identity of the real-name reporters of case `case_id`, decrypted with `key`, for
/// `reader` at `now` (UTC): only when `reader` has an approved request for this case decided
/// less than 24 hours ago (`domain::custody::grants`). Records one `identity_disclosures` row
/// per report read and the audit entry `identity.read` (naming the request and the reports,
/// never the identity), in one write transaction. A case with only anonymous reports answers
/// an empty list (the read is still audited).
///
/// Errors: `NotFound("case")`; `AccessRequired` (403) for anyone else, without an approved
/// request, or after it expired; `Undecryptable` (500); database errors.
pub fn read_identity(
    conn: &mut DbConnection,
    key: &DataKey,
    now: NaiveDateTime,
    actor: &Actor,
    reader: &UserId,
    case_id: &str,
) -> Result<ReporterIdentities, CustodyError> {
    db::write_tx(conn, |conn| {
        let exists: Option<CaseId> = cases::table
            .find(case_id)
            .select(cases::id)
            .first(conn)
            .optional()?;
        if exists.is_none() {
            return Err(CustodyError::NotFound("case"));
        }
        let grant = identity_requests::table
            .filter(identity_requests::case_id.eq(case_id))
            .filter(identity_requests::requester_id.eq(reader))
            .filter(identity_requests::status.eq(RequestStatus::Approved))
            .order(identity_requests::decided_at.desc())
            .select(IdentityRequestRow::as_select())
            .load::<IdentityRequestRow>(conn)?
            .into_iter()
            .find(|r| {
                custody::grants(
                    r.requester_id.as_str(),
                    r.status,
                    r.expires_at,
                    reader.as_str(),
                    now,
                )
            })
            .ok_or(CustodyError::AccessRequired)?;
        let sealed: Vec<SealedIdentityRow> = reports::table
            .filter(reports::case_id.eq(case_id))
            .filter(reports::anonymous.eq(false))
            .order((reports::submitted_at.asc(), reports::number.asc()))
            .select(SealedIdentityRow::as_select())
            .load(conn)?;
        let mut out = Vec::with_capacity(sealed.len());
        for r in sealed {
            let id = r.id.as_str().to_string();
            out.push(ReporterIdentity {
                name: open(key, &id, "name", r.reporter_name)?,
                id_number: open(key, &id, "id_number", r.reporter_id_number)?,
                phone: open(key, &id, "phone", r.reporter_phone)?,
                email: open(key, &id, "email", r.reporter_email)?,
                address: open(key, &id, "address", r.reporter_address)?,
                report_id: id.clone(),
            });
            diesel::insert_into(identity_disclosures::table)
                .values(&DisclosureRow {
                    id: DisclosureId::generate(),
                    request_id: grant.id.clone(),
                    report_id: r.id,
                    case_id: CaseId::from(case_id),
                    to_user_id: reader.clone(),
                    at: now,
                })
                .execute(conn)?;
        }
        audit::record(
            conn,
            now,
            actor,
            "identity.read",
            "case",
            case_id,
            serde_json::json!({
                "request_id": grant.id,
                "report_ids": out.iter().map(|r| r.report_id.as_str()).collect::<Vec<_>>(),
            }),
        )?;
        Ok(ReporterIdentities { reports: out })
    })
}

/// The disclosures of the reporters' identity of case `case_id`, oldest first: to whom and when
/// (for the staff case view, SPEC.md → "Case": `identity_disclosures`).
///
/// Errors: database errors.
pub fn disclosures_for_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> QueryResult<Vec<Disclosure>> {
    Ok(identity_disclosures::table
        .filter(identity_disclosures::case_id.eq(case_id))
        .order((
            identity_disclosures::at.asc(),
            identity_disclosures::id.asc(),
        ))
        .select(DisclosureRow::as_select())
        .load::<DisclosureRow>(conn)?
        .into_iter()
        .map(|d| Disclosure {
            report_id: d.report_id.into_string(),
            to_user_id: d.to_user_id.into_string(),
            at: d.at.and_utc(),
        })
        .collect())
}

/// A pending request with the number of its case, for the supervisors' list of requests
/// awaiting a decision.
#[derive(Debug, Clone, Serialize)]
pub struct PendingRequest {
    #[serde(flatten)]
    pub request: IdentityRequestView,
    /// `AJ-<year>-<6 digits>`.
    pub case_number: String,
}

/// The requests awaiting a decision (status `pending`), oldest first, at most `limit`, after
/// `after` (the `(created_at, id)` of the last request of the previous page). Supervisors decide
/// them ([`decide`]) and see every case, so the list is not narrowed by team. For the console's
/// 工作台 and its list of identity-access requests (issue 13).
///
/// Errors: database errors.
pub fn pending_requests(
    conn: &mut DbConnection,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<PendingRequest>> {
    let mut q = identity_requests::table
        .filter(identity_requests::status.eq(RequestStatus::Pending))
        .into_boxed();
    if let Some((time, id)) = after {
        q = q.filter(
            identity_requests::created_at
                .gt(time)
                .or(identity_requests::created_at
                    .eq(time)
                    .and(identity_requests::id.gt(id))),
        );
    }
    let rows: Vec<IdentityRequestRow> = q
        .order((
            identity_requests::created_at.asc(),
            identity_requests::id.asc(),
        ))
        .limit(limit)
        .select(IdentityRequestRow::as_select())
        .load(conn)?;
    let case_ids: Vec<String> = rows.iter().map(|r| r.case_id.to_string()).collect();
    let numbers: std::collections::HashMap<String, String> = cases::table
        .filter(cases::id.eq_any(&case_ids))
        .select((cases::id, cases::number))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let case_number = numbers.get(r.case_id.as_str()).cloned().unwrap_or_default();
            PendingRequest {
                request: r.into(),
                case_number,
            }
        })
        .collect())
}

/// The number of requests awaiting a decision (what [`pending_requests`] lists).
///
/// Errors: database errors.
pub fn count_pending(conn: &mut DbConnection) -> QueryResult<i64> {
    identity_requests::table
        .filter(identity_requests::status.eq(RequestStatus::Pending))
        .count()
        .get_result(conn)
}
