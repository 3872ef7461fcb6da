//! 工作组和成员: teams (e.g. 第一纪检监察室) and who is in them (SPEC.md → "Teams, routing,
//! conflicts"). Cases are routed to a team; its investigators work them.
//!
//! - `GET /staff/admin/teams`: every team with its members (`routing::routes::list_team_views`).
//! - `POST /staff/admin/teams`: a new team (`routing::create_team`, as `POST /api/v1/teams`).
//! - `POST /staff/admin/teams/members`: `action=add` or `action=remove` one `user_id` in
//!   `team_id`. The API replaces a team's members as a whole (`routing::replace_members`, as
//!   `PUT /api/v1/teams/{id}/members`); the console sends the team's active members with one
//!   added or taken away. Members must be active accounts, so a deactivated member leaves the
//!   team at its next change (the page says so beside them).

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::{admin, also_beside, refusal, role_label, Choice, AREA};
use crate::clock::Clock;
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::schema::{user_roles, users};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::ids::TeamId;
use crate::error::ApiError;
use crate::routing;
use crate::routing::routes::{list_team_views, TeamView};

/// Teams on one page.
const PAGE_SIZE: i64 = 100;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/admin/teams")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/staff/admin/teams/members").route(web::post().to(members)));
}

const NOTICES: [(&str, &str); 3] = [
    ("created", "工作组已建立。"),
    ("added", "成员已加入工作组。"),
    ("removed", "成员已移出工作组。"),
];

/// An active account, as the "add a member" list offers it.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub label: String,
}

/// Every active account by username, labelled with name, username and roles (two queries).
///
/// Errors: a database error.
pub fn active_people(conn: &mut DbConnection) -> QueryResult<Vec<Person>> {
    let rows: Vec<(String, String, String)> = users::table
        .filter(users::active.eq(true))
        .order(users::username.asc())
        .select((users::id, users::username, users::display_name))
        .load(conn)?;
    let roles: Vec<(String, String)> = user_roles::table
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, username, name)| {
            let held: Vec<&str> = roles
                .iter()
                .filter(|(u, _)| *u == id)
                .map(|(_, r)| role_label(r))
                .collect();
            Person {
                label: format!("{name}（{username}，{}）", held.join("、")),
                id,
            }
        })
        .collect())
}

struct MemberRow {
    user_id: String,
    username: String,
    display_name: String,
    active: bool,
}

struct TeamBlock {
    id: String,
    name: String,
    created: String,
    members: Vec<MemberRow>,
}

#[derive(Template)]
#[template(path = "console/admin/teams.html")]
struct TeamsPage {
    shell: Shell,
    teams: Vec<TeamBlock>,
    /// The "add a member" form: its team and person choices.
    team_choices: Vec<Choice>,
    people: Vec<Choice>,
    /// The new team's name as typed.
    name: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<String>,
    after: Option<String>,
}

struct Shown {
    notice: Option<String>,
    refusal: Option<Refusal>,
    name: String,
    /// The team and user chosen in the refused "add" form.
    chosen_team: String,
    chosen: String,
}

async fn teams_page(
    desk: &Desk,
    pool: &DbPool,
    after: Option<String>,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let (teams, people) = db::run(pool, move |conn| {
        let teams = list_team_views(conn, after.as_deref(), PAGE_SIZE)?;
        Ok((teams, active_people(conn)?))
    })
    .await?;
    let next = (teams.len() as i64 == PAGE_SIZE)
        .then(|| teams.last())
        .flatten()
        .map(|t| {
            format!(
                "/staff/admin/teams?after={}",
                url::form_urlencoded::byte_serialize(t.name.as_bytes()).collect::<String>()
            )
        });
    let team_choices = teams
        .iter()
        .map(|t| Choice::new(t.id.clone(), t.name.clone(), &shown.chosen_team))
        .collect();
    let people = people
        .into_iter()
        .map(|p| Choice::new(p.id, p.label, &shown.chosen))
        .collect();
    let blocks = teams
        .into_iter()
        .map(|t: TeamView| TeamBlock {
            members: t
                .members
                .into_iter()
                .map(|m| MemberRow {
                    user_id: m.user_id,
                    username: m.username,
                    display_name: m.display_name,
                    active: m.active,
                })
                .collect(),
            created: crate::web::zh::time(t.created_at),
            id: t.id,
            name: t.name,
        })
        .collect();
    let page = TeamsPage {
        shell: desk
            .shell(AREA, "工作组和成员")
            .with_notice(shown.notice)
            .with_refusal(shown.refusal),
        teams: blocks,
        team_choices,
        people,
        name: shown.name,
        next,
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/admin/teams`: the teams by name, each with its members and forms.
async fn list(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let query = query.into_inner();
    let shown = Shown {
        notice: page::notice(query.done.as_deref(), &NOTICES),
        refusal: None,
        name: String::new(),
        chosen_team: String::new(),
        chosen: String::new(),
    };
    teams_page(&desk, &pool, query.after, shown).await
}

/// `POST /staff/admin/teams`: `name` (1–50 characters, unique). 303 back, or the page with the
/// refusal (422 for the name, 409 `team_exists`).
async fn create(
    posted: Posted,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let name = form.text("name");
    let actor = desk.staff.actor();
    let now = clock.now_naive();
    let wanted = name.clone();
    let created = db::run(&pool, move |conn| {
        Ok(routing::create_team(conn, now, &actor, &wanted).map_err(ApiError::from))
    })
    .await?;
    match created {
        Ok(team) => Ok(page::see_other(&format!(
            "/staff/admin/teams?done=created#team-{}",
            team.id.as_str()
        ))),
        Err(e) => {
            let shown = Shown {
                notice: None,
                refusal: Some(refusal(&e)),
                name,
                chosen_team: String::new(),
                chosen: String::new(),
            };
            teams_page(&desk, &pool, None, shown).await
        }
    }
}

/// `POST /staff/admin/teams/members`: `team_id`, `action` `add` or `remove`, and `user_id`.
/// The team's active members, with `user_id` added or taken away, replace its members
/// (`routing::replace_members`). 303 back, or the page with the refusal (422 naming the user).
///
/// Errors: 403 page; 404 page when no team has the id; 400 page for another `action`.
async fn members(
    posted: Posted,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let team = TeamId::from(form.text("team_id"));
    let adding = match form.get("action").as_deref() {
        Some("add") => true,
        Some("remove") => false,
        _ => return Err(PageError::bad_form()),
    };
    let user = form.text("user_id");
    let actor = desk.staff.actor();
    let now = clock.now_naive();
    let (team_id, chosen) = (team.clone(), user.clone());
    let replaced = db::run(&pool, move |conn| {
        let current: Vec<String> = routing::members(conn, &team)?
            .iter()
            .map(|u| u.as_str().to_string())
            .collect();
        let active: Vec<String> = users::table
            .filter(users::id.eq_any(&current))
            .filter(users::active.eq(true))
            .select(users::id)
            .load(conn)?;
        let mut wanted: Vec<String> = active.into_iter().filter(|u| *u != user).collect();
        if adding {
            wanted.push(user);
        }
        Ok(routing::replace_members(conn, now, &actor, &team, &wanted).map_err(ApiError::from))
    })
    .await?;
    match replaced {
        Ok(_) => Ok(page::see_other(&format!(
            "/staff/admin/teams?done={}#team-{}",
            if adding { "added" } else { "removed" },
            team_id.as_str()
        ))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(PageError::not_found()),
        Err(e) => {
            let shown = Shown {
                notice: None,
                refusal: Some(also_beside(refusal(&e), "user_ids", "user_id")),
                name: String::new(),
                chosen_team: team_id.as_str().to_string(),
                chosen,
            };
            teams_page(&desk, &pool, None, shown).await
        }
    }
}
