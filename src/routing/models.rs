//! The rows of the routing tables as diesel sees them: `teams`, `team_members` and
//! `routing_rules`. See docs/architecture.md → "The model layer" and docs/routing.md.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{routing_rules, team_members, teams};
use crate::domain::ids::{RoutingRuleId, TeamId, UserId};
use crate::domain::report::Programme;
use crate::domain::subject_level::SubjectLevel;

/// A team: a group of staff that cases are routed to.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = teams)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct TeamRow {
    pub id: TeamId,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// One member of one team.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = team_members)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct TeamMemberRow {
    pub team_id: TeamId,
    pub user_id: UserId,
}

/// A routing rule; `None` conditions mean "any". `retired_at` is set when an administrator
/// retires the rule (rules are never deleted).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = routing_rules)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
pub struct RoutingRuleRow {
    pub id: RoutingRuleId,
    pub programme: Option<Programme>,
    pub township_code: Option<String>,
    pub subject_level: Option<SubjectLevel>,
    pub team_id: TeamId,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

impl RoutingRuleRow {
    /// The rule's conditions as the pure choice (`domain::routing`) sees them.
    pub fn conditions(&self) -> crate::domain::routing::Conditions<'_> {
        crate::domain::routing::Conditions {
            programme: self.programme,
            township_code: self.township_code.as_deref(),
            subject_level: self.subject_level,
        }
    }
}
