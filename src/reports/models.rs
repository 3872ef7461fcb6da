//! The rows of the report tables as diesel sees them: what is read (`*Row`, `Selectable`),
//! what is written (`New*`, `Insertable`), for `reports`, `report_messages`, `attachments`,
//! (`idempotency_keys` is in `crate::idempotency`, `counters` in `db::models`), and the
//! reporter's view of `objections` (`ReporterObjectionRow`; the table's own rows are in
//! `crate::objections::models`). Queries in this capability read and write through these
//! types, never through tuples. See docs/architecture.md → "The model layer".

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{attachments, objections, report_messages, reports};
use crate::domain::ids::{AttachmentId, MessageId, ObjectionId, ReportId};
use crate::domain::objection::ObjectionStatus;
use crate::domain::report::{Channel, Programme, ReportStatus};

/// A report as the staff queue lists it: no reporter identity, no free text.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ReportSummaryRow {
    pub id: ReportId,
    pub number: String,
    pub channel: Channel,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    pub status: ReportStatus,
    pub anonymous: bool,
    pub submitted_at: NaiveDateTime,
    pub triage_due: NaiveDate,
}

/// What a report says, beyond its summary: for staff details. Never the sealed identity.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ReportContentRow {
    /// Comma-separated `Misconduct` texts.
    pub misconduct: String,
    /// JSON array of accused people.
    pub accused: String,
    pub description: String,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_to: Option<NaiveDate>,
    pub acknowledge_by: Option<NaiveDate>,
}

/// What the reporter's follow-up page shows of their own report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ReporterViewRow {
    pub number: String,
    pub programme: Programme,
    pub township_code: String,
    pub village_code: String,
    pub submitted_at: NaiveDateTime,
    pub anonymous: bool,
    pub status: ReportStatus,
    pub triage_due: NaiveDate,
    pub acknowledge_by: Option<NaiveDate>,
    /// When staff first acknowledged the report; its acknowledgement deadline stops then.
    pub acknowledged_at: Option<NaiveDateTime>,
}

/// The receipt-code lookup: which report a receipt hash belongs to.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ReceiptRow {
    pub id: ReportId,
    pub receipt_hash: String,
}

/// A new report. Identity fields arrive already sealed under the data key.
#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReport {
    pub id: ReportId,
    pub number: String,
    pub channel: Channel,
    pub programme: Programme,
    /// Comma-separated `Misconduct` texts.
    pub misconduct: String,
    pub township_code: String,
    pub village_code: String,
    /// JSON array of accused people.
    pub accused: String,
    pub description: String,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_to: Option<NaiveDate>,
    pub anonymous: bool,
    pub reporter_name: Option<Vec<u8>>,
    pub reporter_id_number: Option<Vec<u8>>,
    pub reporter_phone: Option<Vec<u8>>,
    pub reporter_email: Option<Vec<u8>>,
    pub reporter_address: Option<Vec<u8>>,
    pub receipt_hash: String,
    pub status: ReportStatus,
    pub submitted_at: NaiveDateTime,
    pub triage_due: NaiveDate,
    pub acknowledge_by: Option<NaiveDate>,
    pub logged_by: Option<String>,
}

/// A message in a report's thread, as the thread lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = report_messages)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct MessageRow {
    pub id: MessageId,
    pub author_kind: String,
    pub kind: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = report_messages)]
pub struct NewMessage<'a> {
    pub id: &'a MessageId,
    pub report_id: &'a ReportId,
    /// `reporter` or `staff`.
    pub author_kind: &'a str,
    pub author_id: Option<&'a str>,
    pub body: &'a str,
    pub created_at: NaiveDateTime,
    /// `reply` (a reporter's) or `question | acknowledgement | feedback` (staff's).
    pub kind: &'a str,
    /// The case whose message this is (staff messages); `None` for a reporter's reply.
    pub case_id: Option<&'a str>,
}

/// An attachment row: where its encrypted file is, and what it is.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub report_id: ReportId,
    pub storage_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// `reporter`, or the staff user id.
    pub uploaded_by: String,
    pub created_at: NaiveDateTime,
    /// The kinds of identifying metadata removed on intake, comma-separated (never the values).
    pub metadata_removed: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment<'a> {
    pub id: &'a AttachmentId,
    pub report_id: &'a ReportId,
    pub storage_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub uploaded_by: &'a str,
    pub created_at: NaiveDateTime,
    pub metadata_removed: &'a str,
}

/// What the reporter's view shows of their own objections (the table belongs to
/// `crate::objections`, which sits above this capability; read here through the schema).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = objections)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ReporterObjectionRow {
    pub id: ObjectionId,
    /// The feedback message the objection answers.
    pub feedback_message_id: MessageId,
    pub body: String,
    /// County date.
    pub due_on: NaiveDate,
    pub status: ObjectionStatus,
    pub outcome: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}
