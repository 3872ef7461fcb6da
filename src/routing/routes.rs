//! HTTP endpoints for teams and routing rules (SPEC.md → "Teams, routing, conflicts").
//!
//! Admin (`Administer`): `POST /teams`, `PUT /teams/{id}/members`, `POST /routing-rules`,
//! `DELETE /routing-rules/{id}` (retires). Admin or supervisor: `GET /teams`,
//! `GET /routing-rules`.

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::models::{MemberWithUser, RoutingRuleRow, TeamRow};
use super::{NewRule, TeamsError};
use crate::auth::extract::Staff;
use crate::clock::Clock;
use crate::db::schema::{routing_rules, team_members, teams, users};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::ids::{RoutingRuleId, TeamId};
use crate::domain::permissions::Permission;
use crate::domain::report::Programme;
use crate::domain::subject_level::SubjectLevel;
use crate::error::{ApiError, ErrorCode};
use crate::http::pagination::{page, Page, PageQuery};

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_team)
        .service(list_teams)
        .service(replace_members)
        .service(create_rule)
        .service(list_rules)
        .service(retire_rule);
}

impl From<TeamsError> for ApiError {
    fn from(e: TeamsError) -> ApiError {
        match e {
            TeamsError::Invalid(v) => ApiError::validation(v),
            TeamsError::TeamExists(_) => ApiError::conflict(ErrorCode::TeamExists, e.to_string()),
            TeamsError::RuleExists(_) => ApiError::conflict(ErrorCode::RuleExists, e.to_string()),
            TeamsError::AlreadyRetired => {
                ApiError::conflict(ErrorCode::AlreadyRetired, e.to_string())
            }
            TeamsError::NotFound(_) => ApiError::not_found(e.to_string()),
            TeamsError::Database(d) => d.into(),
        }
    }
}

/// Teams and rules are read by administrators and supervisors.
const READERS: &[Permission] = &[Permission::Administer, Permission::Supervise];

// ---------- teams ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    /// 1–50 characters, unique, e.g. `第一纪检监察室`.
    pub name: String,
}

/// A team just created.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamCreated {
    pub id: String,
    pub name: String,
}

/// One member of a team, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMember {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub active: bool,
}

/// A team with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Sorted by username.
    pub members: Vec<TeamMember>,
}

fn team_views(conn: &mut DbConnection, rows: Vec<TeamRow>) -> QueryResult<Vec<TeamView>> {
    let ids: Vec<&TeamId> = rows.iter().map(|t| &t.id).collect();
    let all: Vec<MemberWithUser> = team_members::table
        .inner_join(users::table)
        .filter(team_members::team_id.eq_any(ids))
        .order(users::username)
        .select(MemberWithUser::columns())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|t| TeamView {
            members: all
                .iter()
                .filter(|m| m.team_id == t.id)
                .map(|m| TeamMember {
                    user_id: m.user_id.clone(),
                    username: m.username.clone(),
                    display_name: m.display_name.clone(),
                    active: m.active,
                })
                .collect(),
            id: t.id.into_string(),
            name: t.name,
            created_at: t.created_at.and_utc(),
        })
        .collect())
}

/// The teams with their members, by name: at most `limit` teams named after `after` (what
/// `GET /teams` serves, one page). Errors: a database error.
pub fn list_team_views(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<TeamView>> {
    let mut q = teams::table.select(TeamRow::as_select()).into_boxed();
    if let Some(after) = after {
        q = q.filter(teams::name.gt(after.to_string()));
    }
    let rows = q.order(teams::name).limit(limit).load(conn)?;
    team_views(conn, rows)
}

/// The team `id` with its members (as `PUT /teams/{id}/members` answers it); `None` when no
/// team has the id. Errors: a database error.
pub fn team_view(conn: &mut DbConnection, id: &TeamId) -> QueryResult<Option<TeamView>> {
    match super::find_team(conn, id)? {
        Some(row) => Ok(team_views(conn, vec![row])?.pop()),
        None => Ok(None),
    }
}

/// Create a team (admin). Records `team.created`.
#[utoipa::path(
    tag = "teams",
    request_body = CreateTeamRequest,
    responses((status = 201, body = TeamCreated)),
    security(("bearer" = []))
)]
#[post("/teams")]
pub async fn create_team(
    staff: Staff,
    body: web::Json<CreateTeamRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let name = body.into_inner().name;
    let actor = staff.actor();
    let now = clock.now_naive();
    let team = db::run(&pool, move |conn| {
        Ok(super::create_team(conn, now, &actor, &name)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(TeamCreated {
        id: team.id.into_string(),
        name: team.name,
    }))
}

/// The teams with their members, by name (admin, supervisor).
#[utoipa::path(
    tag = "teams",
    params(PageQuery),
    responses((status = 200, body = Page<TeamView>)),
    security(("bearer" = []))
)]
#[get("/teams")]
pub async fn list_teams(
    staff: Staff,
    query: web::Query<PageQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(READERS)?;
    let (limit, after) = query.parse()?;
    let items = db::run(&pool, move |conn| {
        Ok(list_team_views(conn, after.as_deref(), limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |t| t.name.clone())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceMembersRequest {
    /// The ids of the new members: active staff accounts, at most 200. Replaces the members.
    pub user_ids: Vec<String>,
}

/// Replace a team's members (admin). Records `team.members_replaced`.
#[utoipa::path(
    tag = "teams",
    params(("id" = String, Path, description = "the team's id")),
    request_body = ReplaceMembersRequest,
    responses((status = 200, body = TeamView)),
    security(("bearer" = []))
)]
#[put("/teams/{id}/members")]
pub async fn replace_members(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<ReplaceMembersRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let team = TeamId::from(id.into_inner());
    let user_ids = body.into_inner().user_ids;
    let actor = staff.actor();
    let now = clock.now_naive();
    let view = db::run(&pool, move |conn| {
        super::replace_members(conn, now, &actor, &team, &user_ids)?;
        team_view(conn, &team)?.ok_or_else(|| ApiError::not_found("no team has this id"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------- routing rules ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRuleRequest {
    /// `dibao`, `house_renovation`, `poverty_identification`, `other`; null or absent for any.
    #[serde(default)]
    pub programme: Option<String>,
    /// A township's 9-digit code; null or absent for any.
    #[serde(default)]
    pub township_code: Option<String>,
    /// `village`, `township`, `county`, `above_county`, `commission_head`; null or absent for any.
    #[serde(default)]
    pub subject_level: Option<String>,
    /// The team that receives the matching cases.
    pub team_id: String,
}

/// A routing rule. Null conditions mean "any"; a rule with all three null is the default.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: String,
    /// `dibao`, `house_renovation`, `poverty_identification` or `other`; null for any.
    pub programme: Option<String>,
    /// A township's code; null for any.
    pub township_code: Option<String>,
    /// Null for any.
    pub subject_level: Option<SubjectLevel>,
    pub team_id: String,
    /// How many conditions are set (0–3); the most specific matching rule wins.
    pub specificity: u8,
    /// True for the default rule (no condition set).
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    /// Set once the rule is retired; a retired rule routes nothing.
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<RoutingRuleRow> for RuleView {
    fn from(r: RoutingRuleRow) -> RuleView {
        let conditions = r.conditions();
        RuleView {
            specificity: conditions.specificity(),
            is_default: conditions.is_default(),
            id: r.id.into_string(),
            programme: r.programme.map(|p| Programme::as_str(p).to_string()),
            township_code: r.township_code,
            subject_level: r.subject_level,
            team_id: r.team_id.into_string(),
            created_at: r.created_at.and_utc(),
            retired_at: r.retired_at.map(|t| t.and_utc()),
        }
    }
}

/// Create a routing rule (admin). Records `routing_rule.created`.
#[utoipa::path(
    tag = "teams",
    request_body = CreateRuleRequest,
    responses((status = 201, body = RuleView)),
    security(("bearer" = []))
)]
#[post("/routing-rules")]
pub async fn create_rule(
    staff: Staff,
    body: web::Json<CreateRuleRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let req = body.into_inner();
    let new = NewRule {
        programme: req.programme,
        township_code: req.township_code,
        subject_level: req.subject_level,
        team_id: req.team_id,
    };
    let actor = staff.actor();
    let now = clock.now_naive();
    let rule = db::run(&pool, move |conn| {
        Ok(super::create_rule(conn, now, &actor, &new)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(RuleView::from(rule)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RulesQuery {
    /// Also list retired rules. Default false: the active rules only.
    pub include_retired: Option<bool>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// The routing rules by id (what `GET /routing-rules` serves, one page): the active ones, or
/// with `include_retired` the retired ones too; at most `limit`, with ids after `after`.
/// Errors: a database error.
pub fn list_rule_views(
    conn: &mut DbConnection,
    include_retired: bool,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<RuleView>> {
    let mut q = routing_rules::table
        .select(RoutingRuleRow::as_select())
        .into_boxed();
    if !include_retired {
        q = q.filter(routing_rules::retired_at.is_null());
    }
    if let Some(after) = after {
        q = q.filter(routing_rules::id.gt(after.to_string()));
    }
    let rows = q.order(routing_rules::id).limit(limit).load(conn)?;
    Ok(rows.into_iter().map(RuleView::from).collect())
}

/// The routing rules, by id (admin, supervisor).
#[utoipa::path(
    tag = "teams",
    params(RulesQuery),
    responses((status = 200, body = Page<RuleView>)),
    security(("bearer" = []))
)]
#[get("/routing-rules")]
pub async fn list_rules(
    staff: Staff,
    query: web::Query<RulesQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require_any(READERS)?;
    let query = query.into_inner();
    let (limit, after) = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let include_retired = query.include_retired.unwrap_or(false);
    let items = db::run(&pool, move |conn| {
        Ok(list_rule_views(
            conn,
            include_retired,
            after.as_deref(),
            limit,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |r| r.id.clone())))
}

/// Retire a routing rule (admin): it stops routing and stays on record. Records
/// `routing_rule.retired`. Returns the retired rule.
#[utoipa::path(
    tag = "teams",
    params(("id" = String, Path, description = "the rule's id")),
    responses((status = 200, body = RuleView)),
    security(("bearer" = []))
)]
#[delete("/routing-rules/{id}")]
pub async fn retire_rule(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let id = RoutingRuleId::from(id.into_inner());
    let actor = staff.actor();
    let now = clock.now_naive();
    let rule = db::run(&pool, move |conn| {
        Ok(super::retire_rule(conn, now, &actor, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RuleView::from(rule)))
}
