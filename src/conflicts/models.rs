//! The rows of `conflict_declarations` as diesel sees them. See docs/routing.md → "Conflicts of
//! interest".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::conflict_declarations;
use crate::domain::ids::{ConflictId, UserId};

/// A staff member's declaration that they must not handle matters in a division. Withdrawn
/// declarations keep their row with `withdrawn_at` and `withdrawn_reason` set; none is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = conflict_declarations)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct ConflictDeclaration {
    pub id: ConflictId,
    pub user_id: UserId,
    /// A county (6 digits), township (9) or village (12).
    pub division_code: String,
    pub reason: String,
    /// UTC.
    pub declared_at: NaiveDateTime,
    /// UTC; `None` while the declaration is active.
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawn_reason: Option<String>,
}
