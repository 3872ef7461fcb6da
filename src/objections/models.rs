//! The rows of `objections` as diesel sees them (`ObjectionRow`, read and written whole;
//! `Decision`, the change that decides one; `OpenDueRow`, an open one's deadline), and the part of `cases` the objection list shows
//! (`CaseRefRow`). See docs/architecture.md → "The model layer".

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{cases, objections};
use crate::domain::ids::{CaseId, MessageId, ObjectionId, ReportId, TeamId, UserId};
use crate::domain::objection::ObjectionStatus;

/// An objection as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = objections)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ObjectionRow {
    pub id: ObjectionId,
    pub case_id: CaseId,
    pub report_id: ReportId,
    /// The feedback message (kind `feedback`) the objection answers.
    pub feedback_message_id: MessageId,
    pub body: String,
    /// County date: 15 working days after the county date of receipt.
    pub due_on: NaiveDate,
    pub status: ObjectionStatus,
    /// How a decided objection was handled (`case_reopened`); null while open.
    pub outcome: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
}

/// An open objection's case and deadline, for the queue's `objection_due`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = objections)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct OpenDueRow {
    pub case_id: CaseId,
    pub due_on: NaiveDate,
}

/// Deciding an open objection.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = objections)]
pub struct Decision {
    pub status: ObjectionStatus,
    pub outcome: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
}

/// What the objection list shows of an objection's case: its number, and its team (for the
/// investigators' team rule).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct CaseRefRow {
    pub number: String,
    pub team_id: TeamId,
}
