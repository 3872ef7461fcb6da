//! 分办规则: which team a case goes to (SPEC.md → "Teams, routing, conflicts"). A rule names a
//! programme, a township and the level of the person reported, each or "any"; the most
//! specific active rule that matches wins, and the rule with no condition is the default.
//!
//! - `GET /staff/admin/rules`: the active rules (`routing::routes::list_rule_views`), with
//!   `?retired=1` the retired ones too, and the form for a new rule.
//! - `POST /staff/admin/rules`: a new rule (`routing::create_rule`, as
//!   `POST /api/v1/routing-rules`): refused 409 `rule_exists` when an active rule has the same
//!   three conditions.
//! - `POST /staff/admin/rules/{id}/retire`: retires a rule (`routing::retire_rule`, as
//!   `DELETE /api/v1/routing-rules/{id}`); it stays on record.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::{admin, refusal, Choice, AREA};
use crate::clock::Clock;
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::schema::{divisions, teams};
use crate::db::{self, DbPool};
use crate::domain::ids::RoutingRuleId;
use crate::domain::report::Programme;
use crate::domain::subject_level::SubjectLevel;
use crate::error::ApiError;
use crate::routing::routes::list_rule_views;
use crate::routing::{self, NewRule};

/// Rules shown at most (a county has a few dozen).
const MAX_RULES: i64 = 200;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/admin/rules")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/staff/admin/rules/{id}/retire").route(web::post().to(retire)));
}

const NOTICES: [(&str, &str); 2] = [
    ("created", "分办规则已建立，从现在起受理的案件按它分办。"),
    (
        "retired",
        "分办规则已停用。它不再分办案件，但仍保留在记录中。",
    ),
];

/// The level of the person reported, in Chinese.
pub fn subject_level_label(level: SubjectLevel) -> &'static str {
    match level {
        SubjectLevel::Village => "村干部",
        SubjectLevel::Township => "乡镇干部",
        SubjectLevel::County => "县管干部",
        SubjectLevel::AboveCounty => "市管及以上干部",
        SubjectLevel::CommissionHead => "本级纪委主要负责人",
    }
}

struct RuleRow {
    id: String,
    programme: String,
    township: String,
    subject_level: String,
    team: String,
    is_default: bool,
    created: String,
    retired: String,
}

#[derive(Template)]
#[template(path = "console/admin/rules.html")]
struct RulesPage {
    shell: Shell,
    rules: Vec<RuleRow>,
    include_retired: bool,
    programmes: Vec<Choice>,
    townships: Vec<Choice>,
    levels: Vec<Choice>,
    teams: Vec<Choice>,
}

/// What the new-rule form had chosen.
#[derive(Default)]
struct Chosen {
    programme: String,
    township_code: String,
    subject_level: String,
    team_id: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<String>,
    retired: Option<String>,
}

async fn rules_page(
    desk: &Desk,
    pool: &DbPool,
    include_retired: bool,
    notice: Option<String>,
    refused: Option<Refusal>,
    chosen: Chosen,
) -> Result<HttpResponse, PageError> {
    let (rules, team_names, township_names) = db::run(pool, move |conn| {
        let rules = list_rule_views(conn, include_retired, None, MAX_RULES)?;
        let team_names: Vec<(String, String)> = teams::table
            .order(teams::name.asc())
            .select((teams::id, teams::name))
            .load(conn)?;
        let townships: Vec<(String, String)> = divisions::table
            .filter(divisions::level.eq("township"))
            .order(divisions::code.asc())
            .select((divisions::code, divisions::name))
            .load(conn)?;
        Ok((rules, team_names, townships))
    })
    .await?;
    let team_of: HashMap<&str, &str> = team_names
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    let township_of: HashMap<&str, &str> = township_names
        .iter()
        .map(|(code, name)| (code.as_str(), name.as_str()))
        .collect();
    let rows = rules
        .into_iter()
        .map(|r| RuleRow {
            programme: r
                .programme
                .as_deref()
                .and_then(Programme::parse)
                .map(|p| p.label_zh().to_string())
                .unwrap_or_else(|| "任何项目".into()),
            township: match r.township_code.as_deref() {
                Some(code) => format!("{}（{code}）", township_of.get(code).copied().unwrap_or("")),
                None => "任何乡镇".into(),
            },
            subject_level: r
                .subject_level
                .map(subject_level_label)
                .unwrap_or("任何级别")
                .to_string(),
            team: team_of
                .get(r.team_id.as_str())
                .copied()
                .unwrap_or("")
                .to_string(),
            is_default: r.is_default,
            created: crate::web::zh::time(r.created_at),
            retired: r.retired_at.map(crate::web::zh::time).unwrap_or_default(),
            id: r.id,
        })
        .collect();
    let mut programmes = vec![Choice::new("", "任何项目", &chosen.programme)];
    programmes.extend(
        Programme::ALL
            .iter()
            .map(|p| Choice::new(p.as_str(), p.label_zh(), &chosen.programme)),
    );
    let mut townships = vec![Choice::new("", "任何乡镇", &chosen.township_code)];
    townships.extend(township_names.iter().map(|(code, name)| {
        Choice::new(
            code.clone(),
            format!("{name}（{code}）"),
            &chosen.township_code,
        )
    }));
    let mut levels = vec![Choice::new("", "任何级别", &chosen.subject_level)];
    levels.extend(
        SubjectLevel::ALL
            .iter()
            .map(|l| Choice::new(l.as_str(), subject_level_label(*l), &chosen.subject_level)),
    );
    let teams = team_names
        .iter()
        .map(|(id, name)| Choice::new(id.clone(), name.clone(), &chosen.team_id))
        .collect();
    let page = RulesPage {
        shell: desk
            .shell(AREA, "分办规则")
            .with_notice(notice)
            .with_refusal(refused),
        rules: rows,
        include_retired,
        programmes,
        townships,
        levels,
        teams,
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/admin/rules`: the active rules (with `?retired=1`, the retired ones too).
async fn list(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let query = query.into_inner();
    rules_page(
        &desk,
        &pool,
        query.retired.is_some(),
        page::notice(query.done.as_deref(), &NOTICES),
        None,
        Chosen::default(),
    )
    .await
}

/// `POST /staff/admin/rules`: `programme`, `township_code`, `subject_level` (blank: any) and
/// `team_id`. 303 back, or the page with the refusal (422 naming the field, 409
/// `rule_exists`).
async fn create(
    posted: Posted,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let new = NewRule {
        programme: form.get("programme"),
        township_code: form.get("township_code"),
        subject_level: form.get("subject_level"),
        team_id: form.text("team_id"),
    };
    let chosen = Chosen {
        programme: form.text("programme"),
        township_code: form.text("township_code"),
        subject_level: form.text("subject_level"),
        team_id: form.text("team_id"),
    };
    let actor = desk.staff.actor();
    let now = clock.now_naive();
    let created = db::run(&pool, move |conn| {
        Ok(routing::create_rule(conn, now, &actor, &new).map_err(ApiError::from))
    })
    .await?;
    match created {
        Ok(_) => Ok(page::see_other("/staff/admin/rules?done=created")),
        Err(e) => rules_page(&desk, &pool, false, None, Some(refusal(&e)), chosen).await,
    }
}

/// `POST /staff/admin/rules/{id}/retire`. 303 back, or the page with the refusal (409
/// `already_retired`).
///
/// Errors: 403 page; 404 page when no rule has the id.
async fn retire(
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, .. } = posted;
    admin(&desk)?;
    let id = RoutingRuleId::from(id.into_inner());
    let actor = desk.staff.actor();
    let now = clock.now_naive();
    let retired = db::run(&pool, move |conn| {
        Ok(routing::retire_rule(conn, now, &actor, &id).map_err(ApiError::from))
    })
    .await?;
    match retired {
        Ok(_) => Ok(page::see_other("/staff/admin/rules?done=retired")),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(PageError::not_found()),
        Err(e) => {
            rules_page(
                &desk,
                &pool,
                false,
                None,
                Some(refusal(&e)),
                Chosen::default(),
            )
            .await
        }
    }
}
