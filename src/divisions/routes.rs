//! HTTP endpoints for divisions and officials.
//!
//! Public: `GET /divisions?parent=CODE`, `GET /divisions/{code}`. Admin (`Administer`):
//! `POST /divisions`, `PATCH /divisions/{code}`, `POST /divisions/import` (text/csv),
//! `GET/POST /officials`, `GET/PATCH /officials/{id}`. Nothing is ever deleted.

use actix_web::{get, patch, post, web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::officials::{self, NewOfficial, Official, OfficialChange};
use super::{Division, ImportCounts, ImportError, NewDivision};
use crate::auth::extract::Staff;
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::divisions::{self as rules, Level};
use crate::domain::permissions::Permission;
use crate::domain::text;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError, FieldViolation, Problem};
use crate::http::pagination::{page, Page, PageQuery, MAX_LIMIT};

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_divisions)
        .service(create_division)
        .service(import_divisions)
        .service(get_division)
        .service(update_division)
        .service(list_officials)
        .service(create_official)
        .service(get_official)
        .service(update_official);
}

/// The largest divisions CSV accepted, in bytes (a whole province fits).
pub const IMPORT_BODY_LIMIT: usize = 4 * 1024 * 1024;

fn validation(found: Vec<FieldViolation>) -> ApiError {
    ApiError::validation(found)
}

fn no_division() -> ApiError {
    ApiError::not_found("No division has this code.")
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// A division code from a query string, folded as every typed code is (`text::compact_code`:
/// `３６０７３４` reads as `360734`); `None` when nothing is left.
fn code_param(code: Option<String>) -> Option<String> {
    code.map(|c| text::compact_code(&c))
        .filter(|c| !c.is_empty())
}

// ---------- divisions ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct DivisionsQuery {
    /// A division's code: list its children (a county's townships, a township's villages).
    /// Without it, the top level: the counties.
    pub parent: Option<String>,
    /// 1–200, default 200 (a township's villages fit on one page).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Administrative divisions: the counties, or the children of `parent`, by code. Public.
#[utoipa::path(
    tag = "divisions",
    params(DivisionsQuery),
    responses(
        (status = 200, body = Page<Division>),
        (status = 404, description = "no division has the code `parent`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/divisions")]
pub async fn list_divisions(
    query: web::Query<DivisionsQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (limit, after) = PageQuery {
        limit: Some(query.limit.unwrap_or(MAX_LIMIT)),
        cursor: query.cursor,
    }
    .parse()?;
    let parent = code_param(query.parent);
    let items = db::run(&pool, move |conn| {
        if let Some(p) = &parent {
            super::find(conn, p)?.ok_or_else(no_division)?;
        }
        Ok(super::children_page(
            conn,
            parent.as_deref(),
            after.as_deref(),
            limit,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, |d| d.code.clone())))
}

/// One administrative division. Public.
#[utoipa::path(
    tag = "divisions",
    params(("code" = String, Path, description = "6, 9 or 12 digits")),
    responses(
        (status = 200, body = Division),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/divisions/{code}")]
pub async fn get_division(
    code: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let code = text::compact_code(&code.into_inner());
    let division = db::run(&pool, move |conn| Ok(super::find(conn, &code)?))
        .await?
        .ok_or_else(no_division)?;
    Ok(HttpResponse::Ok().json(division))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDivisionRequest {
    /// Digits only: 6 for a county, 9 for a township (starting with its county's code), 12 for
    /// a village (starting with its township's code).
    pub code: String,
    /// 1–50 characters.
    pub name: String,
    /// `county`, `township` or `village`.
    pub level: String,
    /// The division one level up; absent or null for a county.
    pub parent_code: Option<String>,
}

/// Add one division (admin). Its parent must already exist.
#[utoipa::path(
    tag = "divisions",
    request_body = CreateDivisionRequest,
    responses(
        (status = 201, body = Division),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the code exists already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/divisions")]
pub async fn create_division(
    staff: Staff,
    body: web::Json<CreateDivisionRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let req = body.into_inner();
    // Codes fold full-width digits and drop separators; names are cleaned (domain::text).
    let code = text::compact_code(&req.code);
    let name = text::clean(&req.name);
    let parent = req
        .parent_code
        .as_deref()
        .map(text::compact_code)
        .filter(|p| !p.is_empty());
    let (level, mut found) =
        rules::check_division(&code, &name, req.level.trim(), parent.as_deref());
    let check_parent = !found.iter().any(|v| v.field == "parent_code");
    let actor = staff.actor();
    let now = clock.now_naive();
    let division = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            if let (Some(l), Some(p), true) = (level, &parent, check_parent) {
                let parent_level = super::find(conn, p)?.and_then(|d| Level::parse(&d.level));
                found.extend(rules::check_parent(l, p, parent_level));
            }
            let Some(level) = level.filter(|_| found.is_empty()) else {
                return Err(validation(found));
            };
            if super::find(conn, &code)?.is_some() {
                return Err(ApiError::conflict(
                    ErrorCode::DivisionExists,
                    format!(
                        "Division {code} exists already; rename it with PATCH \
                         /api/v1/divisions/{code}."
                    ),
                ));
            }
            let new = NewDivision {
                code: code.clone(),
                name,
                level,
                parent_code: parent,
                demo: false,
            };
            super::insert(conn, now, &actor, &new, "api")?;
            super::find(conn, &code)?.ok_or_else(no_division)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(division))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDivisionRequest {
    /// The new name, 1–50 characters. A division's code, level and parent never change.
    pub name: String,
}

/// Rename a division (admin).
#[utoipa::path(
    tag = "divisions",
    params(("code" = String, Path)),
    request_body = UpdateDivisionRequest,
    responses(
        (status = 200, body = Division),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/divisions/{code}")]
pub async fn update_division(
    staff: Staff,
    code: web::Path<String>,
    body: web::Json<UpdateDivisionRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let code = text::compact_code(&code.into_inner());
    let name = text::clean(&body.into_inner().name);
    if let Some(v) = rules::check_name("name", &name) {
        return Err(validation(vec![v]));
    }
    let actor = staff.actor();
    let now = clock.now_naive();
    let division = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let current = super::find(conn, &code)?.ok_or_else(no_division)?;
            if current.name == name {
                return Ok(current);
            }
            super::rename(conn, now, &actor, &current, &name, false, "api")?;
            super::find(conn, &code)?.ok_or_else(no_division)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(division))
}

/// Is the request's body declared as UTF-8 CSV?
///
/// Errors: [`ImportError::UnsupportedMediaType`] saying what to send instead.
fn check_csv_content_type(req: &HttpRequest) -> Result<(), ImportError> {
    let mime = req
        .mime_type()
        .ok()
        .flatten()
        .filter(|m| m.essence_str() == "text/csv")
        .ok_or(ImportError::UnsupportedMediaType(
            "Send the file as `Content-Type: text/csv`.",
        ))?;
    match mime.get_param(actix_web::mime::CHARSET) {
        Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => {
            Err(ImportError::UnsupportedMediaType(
                "Send the file as UTF-8 (`Content-Type: text/csv; charset=utf-8`).",
            ))
        }
        _ => Ok(()),
    }
}

/// Reads a CSV upload of at most [`IMPORT_BODY_LIMIT`] bytes as UTF-8 text.
///
/// Errors: [`ImportError::UnsupportedMediaType`], `Unreadable` (the body broke off),
/// `TooLarge`, `NotUtf8`.
async fn read_csv(req: &HttpRequest, mut payload: web::Payload) -> Result<String, ImportError> {
    check_csv_content_type(req)?;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ImportError::Unreadable(e.to_string()))?;
        if body.len() + chunk.len() > IMPORT_BODY_LIMIT {
            return Err(ImportError::TooLarge(IMPORT_BODY_LIMIT));
        }
        body.extend_from_slice(&chunk);
    }
    super::csv_text(body.to_vec())
}

/// Import divisions from CSV (admin): header `code,name,level,parent_code`, UTF-8. New codes
/// are added and existing codes renamed, all in one transaction. If any row is bad nothing is
/// imported, and the answer is 422 with one error per bad row, its `field` naming the line
/// (`line 7`; the header is line 1).
#[utoipa::path(
    tag = "divisions",
    request_body(
        content = String,
        content_type = "text/csv",
        description = "code,name,level,parent_code\n360734,寻乌县,county,\n360734100,长宁镇,township,360734\n…"
    ),
    responses(
        (status = 200, body = ImportCounts),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "one error per bad line; nothing was imported", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/divisions/import")]
pub async fn import_divisions(
    staff: Staff,
    req: HttpRequest,
    payload: web::Payload,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let text = read_csv(&req, payload).await?;
    let actor = staff.actor();
    let now = clock.now_naive();
    let counts = db::run(&pool, move |conn| {
        Ok(super::import_csv(conn, now, &actor, &text))
    })
    .await??;
    Ok(HttpResponse::Ok().json(counts))
}

// ---------- officials ----------

#[derive(Debug, Deserialize, IntoParams)]
pub struct OfficialsQuery {
    /// Only officials of this division (exact code).
    pub division: Option<String>,
    /// Only `village`, `township` or `county` officials.
    pub level: Option<String>,
    /// Only active (`true`) or retired (`false`) officials.
    pub active: Option<bool>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// List officials (admin), by division code, filterable by division, level and active.
#[utoipa::path(
    tag = "officials",
    params(OfficialsQuery),
    responses(
        (status = 200, body = Page<Official>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/officials")]
pub async fn list_officials(
    staff: Staff,
    query: web::Query<OfficialsQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    // Intake links accused people to officials; case workers and auditors read them.
    staff.require_any(&[
        Permission::Administer,
        Permission::TriageReports,
        Permission::WorkCases,
        Permission::ReadCases,
    ])?;
    let query = query.into_inner();
    let (limit, after) = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let mut errors = Vec::new();
    let after = match after.map(|key| officials::parse_cursor_key(&key)) {
        Some(None) => {
            errors.push(FieldError::new(
                "cursor",
                ErrorCode::Invalid,
                "cursor must be a next_cursor value from a previous page",
            ));
            None
        }
        Some(Some(key)) => Some(key),
        None => None,
    };
    let level = match trimmed(query.level).map(|l| rules::check_level(&l)) {
        Some(Err(v)) => {
            errors.push(v);
            None
        }
        Some(Ok(l)) => Some(l),
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = officials::Filter {
        division: code_param(query.division),
        level,
        active: query.active,
        after,
    };
    let items = db::run(&pool, move |conn| {
        Ok(officials::list(conn, &filter, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(items, limit, officials::cursor_key)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOfficialRequest {
    /// 1–50 characters.
    pub name: String,
    /// 1–50 characters, e.g. 村支书, 村委会主任, 乡镇党委书记, 乡镇长, 分管扶贫领导, 乡镇纪委书记.
    pub post: String,
    /// `village`, `township` or `county`: must be the level of the division.
    pub level: String,
    pub division_code: String,
    /// Default true.
    pub active: Option<bool>,
    /// Optional: where the official is told that a clawback names them as a signer.
    pub email: Option<String>,
}

/// An official's optional address, as typed on a phone (`text::fold_email`) and checked with
/// `domain::email::check`; blank is none.
///
/// Errors: `invalid_email` naming `email`.
fn official_email(email: Option<&str>) -> Result<Option<String>, FieldViolation> {
    let Some(email) = email.map(text::fold_email).filter(|e| !e.trim().is_empty()) else {
        return Ok(None);
    };
    crate::domain::email::check(&email)
        .map(|()| Some(email))
        .map_err(|e| FieldViolation::new("email", ErrorCode::InvalidEmail, e.to_string()))
}

/// Add an official (admin).
#[utoipa::path(
    tag = "officials",
    request_body = CreateOfficialRequest,
    responses(
        (status = 201, body = Official),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/officials")]
pub async fn create_official(
    staff: Staff,
    body: web::Json<CreateOfficialRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let req = body.into_inner();
    let actor = staff.actor();
    let now = clock.now_naive();
    let official = db::run(&pool, move |conn| {
        add_official(conn, now, &actor, req, "api")
    })
    .await?;
    Ok(HttpResponse::Created().json(official))
}

/// Adds the official `req` describes, on behalf of `actor` (already allowed to administer),
/// and returns it as shown. Names and posts are cleaned (`text::clean`), the division code
/// folded (`text::compact_code`), the email folded and checked; the division must exist at the
/// official's level (`domain::divisions::check_official_division`). Records `official.created`
/// in one write transaction stamped `now` (the caller's clock), noting the door it came
/// through (`via`: `api`, `console`). What `POST /officials` does.
///
/// Errors: 422 `validation_failed` naming each bad field (`name`, `post`, `level`,
/// `division_code`, `email`); a database error.
pub fn add_official(
    conn: &mut db::DbConnection,
    now: chrono::NaiveDateTime,
    actor: &crate::audit::Actor,
    req: CreateOfficialRequest,
    via: &str,
) -> Result<Official, ApiError> {
    let name = text::clean(&req.name);
    let post = text::clean(&req.post);
    let division_code = text::compact_code(&req.division_code);
    let (level, mut found) = rules::check_official(&name, &post, req.level.trim());
    let email = official_email(req.email.as_deref()).unwrap_or_else(|v| {
        found.push(v);
        None
    });
    db::write_tx(conn, move |conn| {
        let division = super::find(conn, &division_code)?;
        let division_level = division.as_ref().and_then(|d| Level::parse(&d.level));
        match level {
            Some(l) => found.extend(rules::check_official_division(
                l,
                &division_code,
                division_level,
                "level",
            )),
            None if division.is_none() => found.push(FieldViolation::new(
                "division_code",
                ErrorCode::UnknownDivision,
                format!("no division has code {division_code}"),
            )),
            None => {}
        }
        let Some(level) = level.filter(|_| found.is_empty()) else {
            return Err(validation(found));
        };
        let new = NewOfficial {
            name,
            post,
            level,
            division_code,
            active: req.active.unwrap_or(true),
            email,
        };
        let id = officials::insert(conn, now, actor, &new, via)?;
        officials::find(conn, &id)?.ok_or_else(|| ApiError::not_found("official vanished"))
    })
}

fn no_official() -> ApiError {
    ApiError::not_found("No official has this id.")
}

/// One official (admin).
#[utoipa::path(
    tag = "officials",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Official),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/officials/{id}")]
pub async fn get_official(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    // Intake links accused people to officials; case workers and auditors read them.
    staff.require_any(&[
        Permission::Administer,
        Permission::TriageReports,
        Permission::WorkCases,
        Permission::ReadCases,
    ])?;
    let id = id.into_inner();
    let official = db::run(&pool, move |conn| Ok(officials::find(conn, &id)?))
        .await?
        .ok_or_else(no_official)?;
    Ok(HttpResponse::Ok().json(official))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOfficialRequest {
    pub name: Option<String>,
    pub post: Option<String>,
    /// Must match the level of the (new) division.
    pub level: Option<String>,
    pub division_code: Option<String>,
    /// False when the official leaves the post. Officials are never deleted.
    pub active: Option<bool>,
    /// `null` removes the address; absent leaves it.
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

/// Change an official (admin): name, post, level, division, active, email. Absent fields stay.
#[utoipa::path(
    tag = "officials",
    params(("id" = String, Path)),
    request_body = UpdateOfficialRequest,
    responses(
        (status = 200, body = Official),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/officials/{id}")]
pub async fn update_official(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<UpdateOfficialRequest>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let id = id.into_inner();
    let req = body.into_inner();
    let actor = staff.actor();
    let now = clock.now_naive();
    let official = db::run(&pool, move |conn| {
        change_official(conn, now, &actor, &id, req)
    })
    .await?;
    Ok(HttpResponse::Ok().json(official))
}

/// Applies `req` to the official `id` on behalf of `actor` (already allowed to administer) and
/// returns the official as shown: name, post, level, division, active (false retires: officials
/// are never deleted), email; absent fields stay. A new level or division must agree
/// (`domain::divisions::check_official_division`). Records `official.updated` with what
/// changed, in one write transaction stamped `now`. What `PATCH /officials/{id}` does.
///
/// Errors: 404 when no official has the id; 422 `validation_failed` naming each bad field; a
/// database error.
pub fn change_official(
    conn: &mut db::DbConnection,
    now: chrono::NaiveDateTime,
    actor: &crate::audit::Actor,
    id: &str,
    req: UpdateOfficialRequest,
) -> Result<Official, ApiError> {
    let mut found = Vec::new();
    let name = req.name.map(|n| text::clean(&n));
    let post = req.post.map(|p| text::clean(&p));
    if let Some(n) = &name {
        found.extend(rules::check_name("name", n));
    }
    if let Some(p) = &post {
        found.extend(rules::check_name("post", p));
    }
    let level = match req.level.as_deref().map(|l| rules::check_level(l.trim())) {
        Some(Err(v)) => {
            found.push(v);
            None
        }
        Some(Ok(l)) => Some(l),
        None => None,
    };
    let email = match req.email.as_ref().map(|e| official_email(e.as_deref())) {
        Some(Err(v)) => {
            found.push(v);
            None
        }
        Some(Ok(e)) => Some(e),
        None => None,
    };
    let level_given = req.level.is_some();
    let division_code = req.division_code.map(|d| text::compact_code(&d));
    db::write_tx(conn, move |conn| {
        let current = officials::find(conn, id)?.ok_or_else(no_official)?;
        let new_level = match level {
            Some(l) => Some(l),
            None if level_given => None,
            None => Level::parse(&current.level),
        };
        let new_division = division_code
            .clone()
            .unwrap_or_else(|| current.division_code.clone());
        let moved = division_code.is_some() || level_given;
        if let (Some(l), true) = (new_level, moved) {
            let division_level =
                super::find(conn, &new_division)?.and_then(|d| Level::parse(&d.level));
            let blame = if level_given {
                "level"
            } else {
                "division_code"
            };
            found.extend(rules::check_official_division(
                l,
                &new_division,
                division_level,
                blame,
            ));
        }
        if !found.is_empty() {
            return Err(validation(found));
        }
        let change = OfficialChange {
            name,
            post,
            level,
            division_code,
            active: req.active,
            email,
        };
        officials::update(conn, now, actor, &current, &change)?;
        officials::find(conn, id)?.ok_or_else(no_official)
    })
}
