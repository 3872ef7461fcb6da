//! The rows of `identity_requests` and `identity_disclosures`, and the sealed identity columns
//! of `reports`, as diesel sees them (docs/architecture.md → "The model layer").

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{identity_disclosures, identity_requests, reports};
use crate::domain::custody::RequestStatus;
use crate::domain::ids::{CaseId, DisclosureId, IdentityRequestId, ReportId, UserId};

/// A request for the reporter identity of a case, as stored. Times are UTC.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = identity_requests)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct IdentityRequestRow {
    pub id: IdentityRequestId,
    pub case_id: CaseId,
    pub requester_id: UserId,
    pub reason: String,
    pub status: RequestStatus,
    pub decided_by: Option<UserId>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    /// Approved requests: `decided_at` + 24 h.
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The decision written on a pending request.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = identity_requests)]
pub struct Decision {
    pub status: RequestStatus,
    pub decided_by: Option<UserId>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

/// One read of one report's identity by one staff member.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = identity_disclosures)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct DisclosureRow {
    pub id: DisclosureId,
    pub request_id: IdentityRequestId,
    pub report_id: ReportId,
    pub case_id: CaseId,
    pub to_user_id: UserId,
    /// UTC.
    pub at: NaiveDateTime,
}

/// The sealed identity of a report (XChaCha20-Poly1305 under the data key, bound to
/// `report:<id>:<field>`; see `reports::submit`). Read only by the custodian workflow.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct SealedIdentityRow {
    pub id: ReportId,
    pub anonymous: bool,
    pub reporter_name: Option<Vec<u8>>,
    pub reporter_id_number: Option<Vec<u8>>,
    pub reporter_phone: Option<Vec<u8>>,
    pub reporter_email: Option<Vec<u8>>,
    pub reporter_address: Option<Vec<u8>>,
}
