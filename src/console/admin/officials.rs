//! 干部名册: the officials who hold posts in the divisions (村支书, 乡镇党委书记, …). Reports
//! name them, clawbacks hold them responsible as signers. They are never deleted: one who
//! leaves the post is retired (`active = false`) and stays on record.
//!
//! - `GET /staff/admin/officials[?division=CODE&status=active|retired]`: officials by division
//!   code (`divisions::officials::list`, as `GET /api/v1/officials`), 50 a page; with a
//!   division chosen, the form to add one there.
//! - `POST /staff/admin/officials`: adds one (`divisions::routes::add_official`, as
//!   `POST /api/v1/officials`).
//! - `GET /staff/admin/officials/{id}`, `POST …/{id}`: one official and its changes
//!   (`divisions::routes::change_official`, as `PATCH /api/v1/officials/{id}`);
//!   `POST …/{id}/active`: retire or reinstate.

use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use super::{admin, refusal, Choice, AREA};
use crate::clock::Clock;
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::{self, DbPool};
use crate::divisions::officials::{
    self, Filter, Official, COUNTY_POSTS, TOWNSHIP_POSTS, VILLAGE_POSTS,
};
use crate::divisions::routes::{
    add_official, change_official, CreateOfficialRequest, UpdateOfficialRequest,
};
use crate::divisions::{self as division_data, Division};
use crate::domain::divisions::Level;
use crate::domain::text;
use crate::error::ApiError;

/// Officials on one page.
const PAGE_SIZE: i64 = 50;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/admin/officials")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/staff/admin/officials/{id}")
            .route(web::get().to(show))
            .route(web::post().to(change)),
    )
    .service(web::resource("/staff/admin/officials/{id}/active").route(web::post().to(set_active)));
}

const NOTICES: [(&str, &str); 4] = [
    ("added", "干部已加入名册。"),
    ("changed", "修改已保存。"),
    (
        "retired",
        "已标记为离任。记录仍然保留，以前的举报和追回仍指向这名干部。",
    ),
    ("reinstated", "已恢复为在任。"),
];

/// A level of division or official, in Chinese.
pub fn level_label(level: &str) -> &'static str {
    match Level::parse(level) {
        Some(Level::County) => "县级",
        Some(Level::Township) => "乡镇级",
        Some(Level::Village) => "村级",
        None => "",
    }
}

/// Every division in code order (a parent's code is the prefix of its children's, so this is
/// the tree: a county, its first township, that township's villages, …).
fn all_divisions(conn: &mut db::DbConnection) -> Result<Vec<Division>, ApiError> {
    let mut all: Vec<Division> = division_data::all_by_code(conn)?.into_values().collect();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(all)
}

/// The divisions as options, indented by level, `current` selected.
fn division_choices(all: &[Division], current: &str) -> Vec<Choice> {
    all.iter()
        .map(|d| {
            let indent = match Level::parse(&d.level) {
                Some(Level::Township) => "　",
                Some(Level::Village) => "　　",
                _ => "",
            };
            Choice::new(
                d.code.clone(),
                format!("{indent}{}（{}）", d.name, d.code),
                current,
            )
        })
        .collect()
}

fn level_choices(current: &str) -> Vec<Choice> {
    Level::ALL
        .iter()
        .map(|l| Choice::new(l.as_str(), level_label(l.as_str()), current))
        .collect()
}

/// The posts the field suggests (a `<datalist>`; any post may be typed).
fn posts() -> Vec<&'static str> {
    VILLAGE_POSTS
        .iter()
        .chain(TOWNSHIP_POSTS.iter())
        .chain(COUNTY_POSTS.iter())
        .copied()
        .collect()
}

struct OfficialRow {
    id: String,
    name: String,
    post: String,
    level: &'static str,
    division: String,
    email: String,
    active: bool,
}

impl From<Official> for OfficialRow {
    fn from(o: Official) -> OfficialRow {
        OfficialRow {
            level: level_label(&o.level),
            division: format!("{}（{}）", o.division_name, o.division_code),
            email: o.email.unwrap_or_default(),
            id: o.id,
            name: o.name,
            post: o.post,
            active: o.active,
        }
    }
}

/// The values of an official's form.
#[derive(Default)]
struct OfficialForm {
    name: String,
    post: String,
    level: String,
    division_code: String,
    email: String,
}

#[derive(Template)]
#[template(path = "console/admin/officials.html")]
struct ListPage {
    shell: Shell,
    divisions: Vec<Choice>,
    statuses: Vec<Choice>,
    /// The division chosen, when it exists: its code and name.
    division: Option<(String, String)>,
    officials: Vec<OfficialRow>,
    next: Option<String>,
    form: OfficialForm,
    levels: Vec<Choice>,
    posts: Vec<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    division: Option<String>,
    status: Option<String>,
    after: Option<String>,
    done: Option<String>,
}

fn query_string(division: &str, status: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if !division.is_empty() {
        q.append_pair("division", division);
    }
    if !status.is_empty() {
        q.append_pair("status", status);
    }
    q.finish()
}

async fn list_page(
    desk: &Desk,
    pool: &DbPool,
    query: ListQuery,
    refused: Option<Refusal>,
    typed: Option<OfficialForm>,
) -> Result<HttpResponse, PageError> {
    let division = query
        .division
        .as_deref()
        .map(text::compact_code)
        .unwrap_or_default();
    let status = query.status.clone().unwrap_or_default();
    let active = match status.as_str() {
        "active" => Some(true),
        "retired" => Some(false),
        _ => None,
    };
    let after = query.after.as_deref().and_then(officials::parse_cursor_key);
    let filter = Filter {
        division: (!division.is_empty()).then(|| division.clone()),
        level: None,
        active,
        after,
    };
    let (all, found) = db::run(pool, move |conn| {
        let all = all_divisions(conn)?;
        let found = officials::list(conn, &filter, PAGE_SIZE)?;
        Ok((all, found))
    })
    .await?;
    let chosen = all.iter().find(|d| d.code == division);
    let next = (found.len() as i64 == PAGE_SIZE)
        .then(|| found.last())
        .flatten()
        .map(|o| {
            let mut q = query_string(&division, &status);
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str("after=");
            q.push_str(
                &url::form_urlencoded::byte_serialize(officials::cursor_key(o).as_bytes())
                    .collect::<String>(),
            );
            format!("/staff/admin/officials?{q}")
        });
    let form = typed.unwrap_or_else(|| OfficialForm {
        level: chosen.map(|d| d.level.clone()).unwrap_or_default(),
        ..OfficialForm::default()
    });
    let page = ListPage {
        shell: desk
            .shell(AREA, "干部名册")
            .with_notice(page::notice(query.done.as_deref(), &NOTICES))
            .with_refusal(refused),
        divisions: division_choices(&all, &division),
        statuses: vec![
            Choice::new("", "全部", &status),
            Choice::new("active", "在任", &status),
            Choice::new("retired", "已离任", &status),
        ],
        division: chosen.map(|d| (d.code.clone(), d.name.clone())),
        officials: found.into_iter().map(OfficialRow::from).collect(),
        next,
        levels: level_choices(&form.level),
        form,
        posts: posts(),
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/admin/officials`: officials by division code, filtered by division and status.
async fn list(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    list_page(&desk, &pool, query.into_inner(), None, None).await
}

/// `POST /staff/admin/officials`: `name`, `post`, `level`, `division_code`, `email` (blank:
/// none). 303 to the division's officials, or the page with the refusal (422 naming fields).
async fn create(
    posted: Posted,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let typed = OfficialForm {
        name: form.text("name"),
        post: form.text("post"),
        level: form.text("level"),
        division_code: form.text("division_code"),
        email: form.text("email"),
    };
    let req = CreateOfficialRequest {
        name: typed.name.clone(),
        post: typed.post.clone(),
        level: typed.level.clone(),
        division_code: typed.division_code.clone(),
        active: None,
        email: form.get("email"),
    };
    let actor = desk.staff.actor();
    let now = clock.now_naive();
    let added = db::run(&pool, move |conn| {
        Ok(add_official(conn, now, &actor, req, "console"))
    })
    .await?;
    match added {
        Ok(o) => Ok(page::see_other(&format!(
            "/staff/admin/officials?{}&done=added",
            query_string(&o.division_code, "")
        ))),
        Err(e) => {
            let query = ListQuery {
                division: Some(typed.division_code.clone()),
                ..ListQuery::default()
            };
            list_page(&desk, &pool, query, Some(refusal(&e)), Some(typed)).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/admin/official.html")]
struct OfficialPage {
    shell: Shell,
    official: OfficialRow,
    form: OfficialForm,
    levels: Vec<Choice>,
    divisions: Vec<Choice>,
    posts: Vec<&'static str>,
    /// The link back to the official's division.
    back: String,
}

async fn official_page(
    desk: &Desk,
    pool: &DbPool,
    id: String,
    notice: Option<String>,
    refused: Option<Refusal>,
    typed: Option<OfficialForm>,
) -> Result<HttpResponse, PageError> {
    let (official, all) = db::run(pool, move |conn| {
        Ok((officials::find(conn, &id)?, all_divisions(conn)?))
    })
    .await?;
    let official = official.ok_or_else(PageError::not_found)?;
    let form = typed.unwrap_or_else(|| OfficialForm {
        name: official.name.clone(),
        post: official.post.clone(),
        level: official.level.clone(),
        division_code: official.division_code.clone(),
        email: official.email.clone().unwrap_or_default(),
    });
    let page = OfficialPage {
        shell: desk
            .shell(AREA, format!("干部：{}", official.name))
            .with_notice(notice)
            .with_refusal(refused),
        back: format!(
            "/staff/admin/officials?{}",
            query_string(&official.division_code, "")
        ),
        levels: level_choices(&form.level),
        divisions: division_choices(&all, &form.division_code),
        form,
        posts: posts(),
        official: OfficialRow::from(official),
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/admin/officials/{id}`: one official, its changes and its status.
///
/// Errors: 403 page; 404 page when no official has the id.
async fn show(
    desk: Desk,
    id: web::Path<String>,
    query: web::Query<super::DoneQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let notice = page::notice(query.done.as_deref(), &NOTICES);
    official_page(&desk, &pool, id.into_inner(), notice, None, None).await
}

/// Runs `change_official`: 303 back to the official with `?done=done`, or its page with the
/// refusal and what was typed.
async fn apply(
    desk: Desk,
    pool: &DbPool,
    clock: &Clock,
    id: String,
    req: UpdateOfficialRequest,
    done: &str,
    typed: Option<OfficialForm>,
) -> Result<HttpResponse, PageError> {
    let actor = desk.staff.actor();
    let now = clock.now_naive();
    let target = id.clone();
    let changed = db::run(pool, move |conn| {
        Ok(change_official(conn, now, &actor, &target, req))
    })
    .await?;
    match changed {
        Ok(_) => Ok(page::see_other(&format!(
            "/staff/admin/officials/{id}?done={done}"
        ))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(PageError::not_found()),
        Err(e) => official_page(&desk, pool, id, None, Some(refusal(&e)), typed).await,
    }
}

/// `POST /staff/admin/officials/{id}`: `name`, `post`, `level`, `division_code`, `email`
/// (blank: none), all as the form shows them.
async fn change(
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let typed = OfficialForm {
        name: form.text("name"),
        post: form.text("post"),
        level: form.text("level"),
        division_code: form.text("division_code"),
        email: form.text("email"),
    };
    let req = UpdateOfficialRequest {
        name: Some(typed.name.clone()),
        post: Some(typed.post.clone()),
        level: Some(typed.level.clone()),
        division_code: Some(typed.division_code.clone()),
        active: None,
        email: Some(form.get("email")),
    };
    apply(
        desk,
        &pool,
        &clock,
        id.into_inner(),
        req,
        "changed",
        Some(typed),
    )
    .await
}

/// `POST /staff/admin/officials/{id}/active`: `active=false` retires the official,
/// `active=true` reinstates them.
///
/// Errors: 403 page; 404 page when no official has the id; 400 page for another value.
async fn set_active(
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let active = match form.get("active").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::bad_form()),
    };
    let req = UpdateOfficialRequest {
        name: None,
        post: None,
        level: None,
        division_code: None,
        active: Some(active),
        email: None,
    };
    let done = if active { "reinstated" } else { "retired" };
    apply(desk, &pool, &clock, id.into_inner(), req, done, None).await
}
