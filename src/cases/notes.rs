//! Internal notes on a case (SPEC.md: `POST /cases/{id}/notes` is internal and never reaches a
//! reporter). Notes are never changed or deleted; each is audited (without its text) in the
//! transaction that adds it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::models::NoteRow;
use super::view::CaseNote;
use super::{required_text, visible_case, CaseError, Viewer};
use crate::audit::{self, Actor};
use crate::db::schema::case_notes;
use crate::db::{self, DbConnection};
use crate::domain::ids::{NoteId, UserId};

/// The longest note, in characters.
pub const NOTE_MAX: usize = 5000;

/// The body of `POST /cases/{id}/notes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NoteRequest {
    /// 1–5,000 characters.
    pub body: Option<String>,
}

impl From<NoteRow> for CaseNote {
    fn from(n: NoteRow) -> CaseNote {
        CaseNote {
            id: n.id.into_string(),
            author_id: n.author_id.into_string(),
            body: n.body,
            created_at: n.created_at.and_utc(),
        }
    }
}

/// Adds a note by `viewer` (an investigator of the case's team or a supervisor) at `now`.
///
/// Errors: `NotFound`/`Forbidden` (404/403); `Invalid` naming `body` (422); database errors.
pub fn add_note(
    conn: &mut DbConnection,
    viewer: &Viewer,
    actor: &Actor,
    case_id: &str,
    body: &NoteRequest,
    now: NaiveDateTime,
) -> Result<CaseNote, CaseError> {
    let text = required_text("body", body.body.as_deref(), NOTE_MAX)
        .map_err(|e| CaseError::Invalid(vec![e]))?;
    db::write_tx(conn, |conn| {
        let case = visible_case(conn, viewer, case_id)?;
        let note = NoteRow {
            id: NoteId::generate(),
            case_id: case.id.clone(),
            author_id: UserId::from(viewer.user_id.as_str()),
            body: text,
            created_at: now,
        };
        diesel::insert_into(case_notes::table)
            .values(&note)
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            "case.note_added",
            "case",
            case.id.as_str(),
            serde_json::json!({"note_id": note.id}),
        )?;
        Ok(note.into())
    })
}

/// The notes of case `case_id`, oldest first.
///
/// Errors: any database error.
pub fn notes_of(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<CaseNote>> {
    Ok(case_notes::table
        .filter(case_notes::case_id.eq(case_id))
        .order((case_notes::created_at.asc(), case_notes::id.asc()))
        .select(NoteRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CaseNote::from)
        .collect())
}
