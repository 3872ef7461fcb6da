//! Teams and routing rules (issue 9, item 2; SPEC.md → "Teams, routing, conflicts"; see
//! docs/routing.md).
//!
//! Other capabilities call the lookups: [`route`] (which team a new case goes to),
//! [`is_member`], [`members`] and [`teams_of`]. The administration ([`create_team`],
//! [`replace_members`], [`create_rule`], [`retire_rule`]) records every change in the audit log
//! in the same transaction. The choice among rules is pure, in `domain::routing`.

pub mod models;
pub mod routes;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use self::models::{RoutingRuleRow, TeamMemberRow, TeamRow};
use crate::audit::{self, Actor};
use crate::db::schema::{routing_rules, team_members, teams, users};
use crate::db::{self, dialect, DbConnection};
use crate::domain::divisions::Level;
use crate::domain::ids::{RoutingRuleId, TeamId, UserId};
use crate::domain::report::Programme;
use crate::domain::routing::{self as rules, Case, Rule};
use crate::domain::subject_level::SubjectLevel;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use diesel::result::DatabaseErrorKind::UniqueViolation;
use diesel::result::Error::DatabaseError;

/// Why [`route`] found no team.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// No active rule matches the case and there is no default rule (all conditions empty).
    #[error(
        "no routing rule matches this case and there is no default routing rule; an \
         administrator must create a default routing rule (programme, township_code and \
         subject_level all null) with POST /api/v1/routing-rules"
    )]
    NoDefaultRule,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<RoutingError> for ApiError {
    /// `NoDefaultRule` is 422 `no_default_rule`; a database error is what it always is.
    fn from(e: RoutingError) -> ApiError {
        match e {
            RoutingError::NoDefaultRule => ApiError::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::NoDefaultRule,
                e.to_string(),
            ),
            RoutingError::Database(d) => d.into(),
        }
    }
}

/// The active (not retired) rules, oldest first.
pub fn active_rules(conn: &mut DbConnection) -> QueryResult<Vec<RoutingRuleRow>> {
    routing_rules::table
        .filter(routing_rules::retired_at.is_null())
        .order((routing_rules::created_at, routing_rules::id))
        .select(RoutingRuleRow::as_select())
        .load(conn)
}

/// The team a new case of `programme` in the township `township_code` (9 digits), about a
/// person of `subject_level`, goes to: the most specific active rule that matches, by the order
/// in `domain::routing` (SPEC.md: "the most specific matching rule wins").
///
/// Errors: [`RoutingError::NoDefaultRule`] when no rule matches (so no default rule exists);
/// a database error.
pub fn route(
    conn: &mut DbConnection,
    programme: Programme,
    township_code: &str,
    subject_level: SubjectLevel,
) -> Result<TeamId, RoutingError> {
    let rows = active_rules(conn)?;
    let candidates: Vec<Rule<'_>> = rows
        .iter()
        .map(|r| Rule {
            id: r.id.as_str(),
            conditions: r.conditions(),
            created_at: r.created_at,
        })
        .collect();
    let case = Case {
        programme,
        township_code,
        subject_level,
    };
    match rules::choose(&candidates, &case) {
        Some(i) => Ok(rows[i].team_id.clone()),
        None => Err(RoutingError::NoDefaultRule),
    }
}

/// Whether `user` is a member of `team`.
pub fn is_member(conn: &mut DbConnection, team: &TeamId, user: &UserId) -> QueryResult<bool> {
    let n: i64 = team_members::table
        .filter(team_members::team_id.eq(team))
        .filter(team_members::user_id.eq(user))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The members of `team`, by user id (empty for an unknown team).
pub fn members(conn: &mut DbConnection, team: &TeamId) -> QueryResult<Vec<UserId>> {
    team_members::table
        .filter(team_members::team_id.eq(team))
        .order(team_members::user_id)
        .select(team_members::user_id)
        .load(conn)
}

/// The teams `user` belongs to, by id.
pub fn teams_of(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<TeamId>> {
    team_members::table
        .filter(team_members::user_id.eq(user))
        .order(team_members::team_id)
        .select(team_members::team_id)
        .load(conn)
}

/// The team with this id, if any.
pub fn find_team(conn: &mut DbConnection, id: &TeamId) -> QueryResult<Option<TeamRow>> {
    teams::table
        .find(id)
        .select(TeamRow::as_select())
        .first(conn)
        .optional()
}

/// The rule with this id (active or retired), if any.
pub fn find_rule(
    conn: &mut DbConnection,
    id: &RoutingRuleId,
) -> QueryResult<Option<RoutingRuleRow>> {
    routing_rules::table
        .find(id)
        .select(RoutingRuleRow::as_select())
        .first(conn)
        .optional()
}

/// Why an administrator's change to teams or rules was not made. Mapped to `ApiError` at the
/// HTTP edge (`routes`).
#[derive(Debug, thiserror::Error)]
pub enum TeamsError {
    /// Fields broke their rules; each violation names its field (422).
    #[error("{} field(s) of the request are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// Another team has this name (409 `team_exists`).
    #[error("a team named {0:?} exists already")]
    TeamExists(String),
    /// An active rule has the same three conditions (409 `rule_exists`); its id when known (a
    /// concurrent creation is caught by the database's unique index, without the id).
    #[error(
        "an active routing rule{} has the same conditions; retire it first",
        .0.as_ref().map(|id| format!(" ({id})")).unwrap_or_default()
    )]
    RuleExists(Option<RoutingRuleId>),
    /// The rule was retired already (409 `already_retired`).
    #[error("the routing rule was retired already")]
    AlreadyRetired,
    /// No team or rule has the id in the path (404); names what was looked for.
    #[error("no {0} has this id")]
    NotFound(&'static str),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Creates a team named `name` (1–50 characters after `domain::text::clean`; unique) and
/// records `team.created`, in one write transaction stamped `now` (UTC, the caller's clock).
///
/// Errors: `Invalid` (field `name`), `TeamExists`, a database error.
pub fn create_team(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    name: &str,
) -> Result<TeamRow, TeamsError> {
    let name = crate::domain::text::clean(name);
    if let Some(v) = crate::domain::divisions::check_name("name", &name) {
        return Err(TeamsError::Invalid(vec![v]));
    }
    db::write_tx(conn, |conn| {
        let taken: i64 = teams::table
            .filter(teams::name.eq(&name))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(TeamsError::TeamExists(name.clone()));
        }
        let row = TeamRow {
            id: TeamId::generate(),
            name: name.clone(),
            created_at: now,
        };
        diesel::insert_into(teams::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| match e {
                // A concurrent creation of the same name (the UNIQUE constraint).
                DatabaseError(UniqueViolation, _) => TeamsError::TeamExists(name.clone()),
                other => other.into(),
            })?;
        audit::record(
            conn,
            now,
            actor,
            "team.created",
            "team",
            row.id.as_str(),
            serde_json::json!({ "name": row.name }),
        )?;
        Ok(row)
    })
}

/// The most members one request may name.
pub const MAX_MEMBERS: usize = 200;

/// Replaces the members of `team` by `user_ids` (duplicates ignored) and records
/// `team.members_replaced` with the members before and after, in one write transaction.
/// Every id must name an active staff account. Returns the new members, sorted.
///
/// Errors: `NotFound("team")`; `Invalid` naming `user_ids[i]` (`unknown_user`,
/// `inactive_user`) or `user_ids` (`too_many`, over [`MAX_MEMBERS`]); a database error.
pub fn replace_members(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    team: &TeamId,
    user_ids: &[String],
) -> Result<Vec<UserId>, TeamsError> {
    if user_ids.len() > MAX_MEMBERS {
        return Err(TeamsError::Invalid(vec![FieldViolation::new(
            "user_ids",
            ErrorCode::TooMany,
            format!("at most {MAX_MEMBERS} members"),
        )
        .limit(MAX_MEMBERS)]));
    }
    db::write_tx(conn, |conn| {
        // Locked, so concurrent replacements of one team's members follow one another.
        if !dialect::lock_team(conn, team)? {
            return Err(TeamsError::NotFound("team"));
        }
        let found: Vec<(String, bool)> = users::table
            .filter(users::id.eq_any(user_ids))
            .select((users::id, users::active))
            .load(conn)?;
        let mut violations = Vec::new();
        let mut wanted: Vec<UserId> = Vec::new();
        for (i, id) in user_ids.iter().enumerate() {
            match found.iter().find(|(f, _)| f == id) {
                None => violations.push(FieldViolation::new(
                    format!("user_ids[{i}]"),
                    ErrorCode::UnknownUser,
                    format!("no staff user has the id {id:?}"),
                )),
                Some((_, false)) => violations.push(FieldViolation::new(
                    format!("user_ids[{i}]"),
                    ErrorCode::InactiveUser,
                    format!("the user {id} is deactivated; only active staff can be members"),
                )),
                Some((_, true)) => wanted.push(UserId::from(id.as_str())),
            }
        }
        if !violations.is_empty() {
            return Err(TeamsError::Invalid(violations));
        }
        wanted.sort();
        wanted.dedup();
        let before = members(conn, team)?;
        diesel::delete(team_members::table.filter(team_members::team_id.eq(team))).execute(conn)?;
        let rows: Vec<TeamMemberRow> = wanted
            .iter()
            .map(|u| TeamMemberRow {
                team_id: team.clone(),
                user_id: u.clone(),
            })
            .collect();
        for row in &rows {
            diesel::insert_into(team_members::table)
                .values(row)
                .execute(conn)?;
        }
        audit::record(
            conn,
            now,
            actor,
            "team.members_replaced",
            "team",
            team.as_str(),
            serde_json::json!({ "before": before, "after": wanted }),
        )?;
        Ok(wanted)
    })
}

/// A rule as an administrator asks for it; `None` means "any". Texts are as sent (folded here).
#[derive(Debug, Clone, Default)]
pub struct NewRule {
    pub programme: Option<String>,
    pub township_code: Option<String>,
    pub subject_level: Option<String>,
    pub team_id: String,
}

/// Creates a routing rule and records `routing_rule.created`, in one write transaction stamped
/// `now`. `programme` must be a known programme, `township_code` an existing township (9
/// digits, full-width folded), `subject_level` a known level, `team_id` an existing team.
///
/// Errors: `Invalid` naming each bad field (`unknown_value`, `unknown_township`,
/// `unknown_team`); `RuleExists` when an active rule has the same three conditions (SPEC.md: at
/// most one active rule per combination, so the choice is never ambiguous); a database error.
pub fn create_rule(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    new: &NewRule,
) -> Result<RoutingRuleRow, TeamsError> {
    let mut violations = Vec::new();
    let programme = match new.programme.as_deref().map(str::trim) {
        None => None,
        Some(p) => match Programme::parse(p) {
            Some(p) => Some(p),
            None => {
                violations.push(FieldViolation::new(
                    "programme",
                    ErrorCode::UnknownValue,
                    format!(
                        "unknown programme {p:?}; use one of {} or null",
                        Programme::names()
                    ),
                ));
                None
            }
        },
    };
    let subject_level = match new.subject_level.as_deref().map(str::trim) {
        None => None,
        Some(l) => match SubjectLevel::parse(l) {
            Some(l) => Some(l),
            None => {
                violations.push(FieldViolation::new(
                    "subject_level",
                    ErrorCode::UnknownValue,
                    format!(
                        "unknown subject level {l:?}; use one of {} or null",
                        SubjectLevel::names()
                    ),
                ));
                None
            }
        },
    };
    let township_code = new
        .township_code
        .as_deref()
        .map(crate::domain::text::compact_code);
    let team_id = TeamId::from(new.team_id.trim());
    db::write_tx(conn, |conn| {
        if let Some(code) = &township_code {
            let is_township = crate::divisions::find(conn, code)?
                .is_some_and(|d| Level::parse(&d.level) == Some(Level::Township));
            if !is_township {
                violations.push(FieldViolation::new(
                    "township_code",
                    ErrorCode::UnknownTownship,
                    format!("no township has the code {code:?}"),
                ));
            }
        }
        if find_team(conn, &team_id)?.is_none() {
            violations.push(FieldViolation::new(
                "team_id",
                ErrorCode::UnknownTeam,
                format!("no team has the id {:?}", team_id.as_str()),
            ));
        }
        if !violations.is_empty() {
            return Err(TeamsError::Invalid(violations));
        }
        let conditions = rules::Conditions {
            programme,
            township_code: township_code.as_deref(),
            subject_level,
        };
        if let Some(same) = active_rules(conn)?
            .into_iter()
            .find(|r| r.conditions() == conditions)
        {
            return Err(TeamsError::RuleExists(Some(same.id)));
        }
        let row = RoutingRuleRow {
            id: RoutingRuleId::generate(),
            programme,
            township_code: township_code.clone(),
            subject_level,
            team_id: team_id.clone(),
            created_at: now,
            retired_at: None,
        };
        diesel::insert_into(routing_rules::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| match e {
                // A concurrent creation of the same rule (`routing_rules_one_active`).
                DatabaseError(UniqueViolation, _) => TeamsError::RuleExists(None),
                other => other.into(),
            })?;
        audit::record(
            conn,
            now,
            actor,
            "routing_rule.created",
            "routing_rule",
            row.id.as_str(),
            serde_json::json!({
                "programme": row.programme.map(Programme::as_str),
                "township_code": row.township_code,
                "subject_level": row.subject_level.map(SubjectLevel::as_str),
                "team_id": row.team_id,
            }),
        )?;
        Ok(row)
    })
}

/// Retires the rule `id` (sets `retired_at` to `now`; the row stays) and records
/// `routing_rule.retired`, in one write transaction. Returns the retired rule.
///
/// Errors: `NotFound("routing rule")`, `AlreadyRetired`, a database error.
pub fn retire_rule(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    id: &RoutingRuleId,
) -> Result<RoutingRuleRow, TeamsError> {
    db::write_tx(conn, |conn| {
        let mut row = find_rule(conn, id)?.ok_or(TeamsError::NotFound("routing rule"))?;
        if row.retired_at.is_some() {
            return Err(TeamsError::AlreadyRetired);
        }
        // Only while still active: of two concurrent retirements, one changes the row.
        let changed = diesel::update(routing_rules::table.find(id))
            .filter(routing_rules::retired_at.is_null())
            .set(routing_rules::retired_at.eq(Some(now)))
            .execute(conn)?;
        if changed == 0 {
            return Err(TeamsError::AlreadyRetired);
        }
        row.retired_at = Some(now);
        audit::record(
            conn,
            now,
            actor,
            "routing_rule.retired",
            "routing_rule",
            id.as_str(),
            serde_json::json!({ "team_id": row.team_id }),
        )?;
        Ok(row)
    })
}
