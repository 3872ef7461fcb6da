//! The benefit-status API (SPEC.md → "Suspensions"; issue 12, item 4), for benefit offices'
//! staff and their disbursement systems' service keys (`benefit-status:read`), and any staff
//! role (SPEC.md → "Roles and permissions": everyone reads benefit status):
//!
//! - `GET /villages/{code}/benefit-status[?on=YYYY-MM-DD]`: now, or any moment of a county day;
//! - `POST /benefit-status/batch`: up to 10,000 codes, unknown ones reported per entry, results
//!   in the order asked;
//! - `GET /suspensions?active=true|false`: every suspension period, newest first, with cursor
//!   pagination, or all of them as CSV (`Accept: text/csv`: UTF-8 with a BOM, formula cells
//!   neutralised).
//!
//! The path is hot (a province's disbursement run may ask about every village of every
//! payment): a lookup is one indexed read (`super::periods::villages_at`), and a service key is
//! checked against memory after its first use (`auth::api_keys::KeyCache`), never with a slow
//! hash.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::announce::SuspensionView;
use super::models::SuspensionPeriodRow;
use super::periods::{self, VillagePeriods};
use super::SuspensionsState;
use crate::auth::extract::Principal;
use crate::db::schema::{divisions, suspension_periods};
use crate::db::{self, DbPool};
use crate::domain::benefit_status::{self, At, POLICIES};
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::pagination::{Page, DEFAULT_LIMIT, MAX_LIMIT};

/// The most codes one batch may ask about.
pub const BATCH_MAX: usize = 10_000;
/// Codes per statement of a batch (well under both backends' limits on bound parameters).
const BATCH_CHUNK: usize = 5_000;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(village_status)
        .service(batch_status)
        .service(list_suspensions)
        .service(super::webhooks::create_webhook)
        .service(super::webhooks::list_webhooks)
        .service(super::webhooks::get_webhook)
        .service(super::webhooks::update_webhook)
        .service(super::webhooks::remove_webhook);
}

/// `?on=` of a status request.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatusQuery {
    /// A county calendar day, `YYYY-MM-DD`: suspended if suspended at any moment of that day
    /// (UTC+8). Without it: now.
    pub on: Option<String>,
}

/// A village's benefit status (SPEC.md → "Suspensions").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BenefitStatus {
    pub village_code: String,
    pub village_name: String,
    /// Whether the village's agriculture-related preferential policies are (or, with `on`,
    /// were at some moment of that day) suspended.
    pub suspended: bool,
    /// When the suspension began (RFC 3339 UTC); null when not suspended.
    pub since: Option<DateTime<Utc>>,
    /// The filed cases that keep it suspended (that day: that held it during the day).
    pub blocking_cases: Vec<String>,
    /// What is suspended: `全部涉农优惠政策` (every policy); null when not suspended.
    pub policies: Option<String>,
    /// The day asked (`on`), or null for now.
    pub on: Option<NaiveDate>,
    /// When that suspension was lifted; null while it lasts (or when not suspended).
    pub lifted_at: Option<DateTime<Utc>>,
    pub suspension_id: Option<String>,
}

/// One entry of a batch answer: the status, or `{"village_code", "error": "unknown_village"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchEntry {
    Status(BatchStatus),
    Unknown(BatchUnknown),
}

/// A known village in a batch answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchStatus {
    pub village_code: String,
    pub suspended: bool,
    pub since: Option<DateTime<Utc>>,
    pub blocking_cases: Vec<String>,
    pub village_name: String,
}

/// A code that names no village on record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchUnknown {
    /// The code as asked.
    pub village_code: String,
    /// `unknown_village`.
    pub error: String,
}

/// The body of `POST /benefit-status/batch`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// 1 to 10,000 village codes (12 digits); repeats are answered each time.
    pub village_codes: Option<Vec<String>>,
    /// A county day, `YYYY-MM-DD`, or null for now.
    pub on: Option<String>,
}

/// The answer of a batch: one entry per code asked, in the order asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchAnswer {
    pub on: Option<NaiveDate>,
    pub results: Vec<BatchEntry>,
}

/// Parses `on`: a county date (full-width digits folded), or now.
///
/// Errors: 422 naming `on` (`invalid_date`).
fn at_of(on: Option<&str>, now: NaiveDateTime) -> Result<(At, Option<NaiveDate>), FieldError> {
    match on.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok((At::Now(now), None)),
        Some(text) => crate::domain::text::parse_date(text)
            .map(|day| (At::Day(day), Some(day)))
            .ok_or_else(|| {
                FieldError::new("on", ErrorCode::InvalidDate, "on is a date, YYYY-MM-DD")
            }),
    }
}

/// A code as typed: full-width digits folded, spaces removed.
fn fold(code: &str) -> String {
    crate::domain::text::compact_code(code)
}

fn status_of(found: &VillagePeriods, at: At, on: Option<NaiveDate>) -> BenefitStatus {
    let s = benefit_status::status(&found.periods, at);
    BenefitStatus {
        village_code: found.village.code.clone(),
        village_name: found.village.name.clone(),
        suspended: s.suspended,
        since: s.since,
        blocking_cases: s.blocking_cases,
        policies: s.suspended.then(|| POLICIES.to_string()),
        on,
        lifted_at: s.lifted_at,
        suspension_id: s.suspension_id,
    }
}

/// Whether a village's benefits are suspended, now or on a county day (`?on=YYYY-MM-DD`: at
/// any moment of that day, so no payment dated that day slips through; the days a suspension
/// starts and lifts both count). Service keys with `benefit-status:read`, and every staff role.
#[utoipa::path(
    tag = "benefit-status",
    params(("code" = String, Path, description = "The village's 12-digit division code"), StatusQuery),
    responses(
        (status = 200, body = BenefitStatus),
        (status = 404, description = "`unknown_village`: no village has this code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `on` is not a date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
#[get("/villages/{code}/benefit-status")]
pub async fn village_status(
    principal: Principal,
    code: web::Path<String>,
    query: web::Query<StatusQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::ReadBenefitStatus)?;
    let (at, on) = when_asked(query.on.as_deref(), state.clock.now_naive())?;
    let code = code.into_inner();
    let (status, _) = db::run(&pool, move |conn| village_status_at(conn, &code, at, on)).await?;
    Ok(HttpResponse::Ok().json(status))
}

/// When a status is asked for: `on` as typed (a county day `YYYY-MM-DD`, full-width digits
/// folded; blank or absent: `now`), with the day itself for the answer's `on`. Shared by the
/// API and the staff console (`console::benefits`).
///
/// Errors: 422 `validation_failed` naming `on` (`invalid_date`).
pub fn when_asked(
    on: Option<&str>,
    now: NaiveDateTime,
) -> Result<(At, Option<NaiveDate>), ApiError> {
    at_of(on, now).map_err(|e| ApiError::validation(vec![e]))
}

/// The benefit status of village `code` (as typed: folded with `text::compact_code`) at `at`,
/// as `GET /villages/{code}/benefit-status` answers it (`on`: the day asked, echoed), and the
/// suspension periods it was read from (their cases carry the case ids, for links). One
/// indexed read (`periods::village_at`). Shared by the API and the staff console.
///
/// Errors: 404 `unknown_village` when no village has this code; database errors.
pub fn village_status_at(
    conn: &mut crate::db::DbConnection,
    code: &str,
    at: At,
    on: Option<NaiveDate>,
) -> Result<(BenefitStatus, VillagePeriods), ApiError> {
    let code = fold(code);
    let found = periods::village_at(conn, &code, at)?.ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            ErrorCode::UnknownVillage,
            "No village on record has this code (a 12-digit village division code).",
        )
    })?;
    Ok((status_of(&found, at, on), found))
}

/// The benefit status of up to 10,000 villages at once, now or on a county day (`on`), in the
/// order asked. A code that names no village gets `{"village_code", "error":
/// "unknown_village"}` in its place; the batch never fails for it.
#[utoipa::path(
    tag = "benefit-status",
    request_body = BatchRequest,
    responses(
        (status = 200, body = BatchAnswer),
        (status = 422, description = "`validation_failed`: `village_codes` missing, empty or over 10,000 (`too_many`); `on` not a date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
#[post("/benefit-status/batch")]
pub async fn batch_status(
    principal: Principal,
    body: web::Json<BatchRequest>,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::ReadBenefitStatus)?;
    let batch = check_batch(body.into_inner(), state.clock.now_naive())?;
    let answer = db::run(&pool, move |conn| Ok(answer_batch(conn, batch)?)).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// A batch of status questions, checked ([`check_batch`]): the codes as asked, and when.
#[derive(Debug, Clone)]
pub struct CheckedBatch {
    /// 1 to [`BATCH_MAX`] codes, as asked (answered in this order).
    pub codes: Vec<String>,
    pub at: At,
    /// The day asked, echoed in the answer; `None` for now.
    pub on: Option<NaiveDate>,
}

/// Checks a batch request (`POST /benefit-status/batch`, and the console's CSV upload): 1 to
/// [`BATCH_MAX`] codes, and `on` a county day or absent for `now`.
///
/// Errors: 422 `validation_failed` naming every bad field: `village_codes` (`required` when
/// missing or empty, `too_many` over 10,000) and `on` (`invalid_date`).
pub fn check_batch(body: BatchRequest, now: NaiveDateTime) -> Result<CheckedBatch, ApiError> {
    let mut errors = Vec::new();
    let codes = match body.village_codes {
        None => {
            errors.push(
                FieldError::new(
                    "village_codes",
                    ErrorCode::Required,
                    "village_codes is a list of 1 to 10000 village codes",
                )
                .zh("请提供 1 至 10000 个村代码。"),
            );
            Vec::new()
        }
        Some(list) if list.is_empty() => {
            errors.push(
                FieldError::new(
                    "village_codes",
                    ErrorCode::Required,
                    "village_codes is a list of 1 to 10000 village codes",
                )
                .zh("请提供 1 至 10000 个村代码。"),
            );
            list
        }
        Some(list) if list.len() > BATCH_MAX => {
            errors.push(
                FieldError::new(
                    "village_codes",
                    ErrorCode::TooMany,
                    "at most 10000 village codes per batch",
                )
                .limit(BATCH_MAX)
                .zh("一次最多查询 10000 个村代码。"),
            );
            list
        }
        Some(list) => list,
    };
    let at = at_of(body.on.as_deref(), now)
        .map_err(|e| errors.push(e))
        .ok();
    let Some((at, on)) = at.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    Ok(CheckedBatch { codes, at, on })
}

/// Answers a checked batch: one entry per code asked, in the order asked; a code that names
/// no village gets [`BatchUnknown`] (`unknown_village`) in its place. One statement per
/// 5,000 distinct codes (`periods::villages_at`).
///
/// Errors: database errors.
pub fn answer_batch(
    conn: &mut crate::db::DbConnection,
    batch: CheckedBatch,
) -> QueryResult<BatchAnswer> {
    let CheckedBatch { codes, at, on } = batch;
    let folded: Vec<String> = codes.iter().map(|c| fold(c)).collect();
    let mut unique: Vec<&str> = folded.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    let mut found: HashMap<String, VillagePeriods> = HashMap::with_capacity(unique.len());
    for chunk in unique.chunks(BATCH_CHUNK) {
        found.extend(periods::villages_at(conn, chunk, at)?);
    }
    let results = codes
        .into_iter()
        .zip(folded)
        .map(|(asked, code)| match found.get(&code) {
            Some(v) => {
                let s = status_of(v, at, on);
                BatchEntry::Status(BatchStatus {
                    village_code: s.village_code,
                    suspended: s.suspended,
                    since: s.since,
                    blocking_cases: s.blocking_cases,
                    village_name: s.village_name,
                })
            }
            None => BatchEntry::Unknown(BatchUnknown {
                village_code: asked,
                error: ErrorCode::UnknownVillage.as_str().to_string(),
            }),
        })
        .collect();
    Ok(BatchAnswer { on, results })
}

/// `?active=&limit=&cursor=` of the suspension list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// true: suspensions in force; false: lifted ones; omitted: all.
    pub active: Option<bool>,
    /// 1–200, default 50 (JSON only; CSV has every row).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A timestamp as a cursor key (microseconds, which both backends keep exactly).
fn time_key(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn decode_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let (time, id) = raw.split_once('|')?;
    if crate::domain::text::forbidden_char(id).is_some() {
        return None;
    }
    let time = NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some((time, id.to_string()))
}

/// Whether the client asked for CSV (`Accept: text/csv`).
fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.trim().split(';').next().unwrap_or_default().trim() == "text/csv")
}

/// The suspensions as CSV: UTF-8 with a byte-order mark (so spreadsheet programs read the
/// Chinese names), each cell neutralised (`domain::benefit_status::csv_cell`).
fn csv_body(items: &[SuspensionView]) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let fail = |e: csv::Error| ApiError::unexpected(e.into());
        w.write_record([
            "id",
            "village_code",
            "village_name",
            "started_at",
            "lifted_at",
            "case_numbers",
        ])
        .map_err(fail)?;
        for s in items {
            let lifted = s.lifted_at.map(|t| t.to_rfc3339()).unwrap_or_default();
            let cases = s.case_numbers.join(" ");
            let cells = [
                s.id.as_str(),
                s.village_code.as_str(),
                s.village_name.as_str(),
                &s.started_at.to_rfc3339(),
                &lifted,
                &cases,
            ];
            w.write_record(
                cells
                    .iter()
                    .map(|c| benefit_status::csv_cell(c).into_owned()),
            )
            .map_err(fail)?;
        }
        w.flush().map_err(|e| ApiError::unexpected(e.into()))?;
    }
    Ok(out)
}

/// Every suspension period, newest first: in force (`active=true`), lifted (`active=false`) or
/// all; JSON with cursor pagination, or every matching row as CSV with `Accept: text/csv`
/// (UTF-8 with a BOM; cells starting `=`, `+`, `-`, `@`, a tab or a carriage return are
/// prefixed with `'`).
#[utoipa::path(
    tag = "benefit-status",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of suspensions, or all of them as CSV",
         content((Page<SuspensionView> = "application/json"), (String = "text/csv"))),
        (status = 422, description = "`validation_failed`: `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
#[get("/suspensions")]
pub async fn list_suspensions(
    principal: Principal,
    req: HttpRequest,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::ReadBenefitStatus)?;
    let csv = wants_csv(&req);
    let request = query.into_inner().check(csv)?;
    let listed = request.clone();
    let rows = db::run(&pool, move |conn| Ok(list_periods(conn, &listed)?)).await?;
    let items: Vec<SuspensionView> = rows
        .iter()
        .map(|(row, name)| SuspensionView::of(row, name.clone()))
        .collect();
    if csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"suspensions.csv\"",
            ))
            .body(csv_body(&items)?));
    }
    let next_cursor = request.limit.and_then(|limit| next_cursor(&rows, limit));
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// A checked request for the suspension list ([`ListQuery::check`]).
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// `Some(true)`: in force; `Some(false)`: lifted; `None`: all.
    pub active: Option<bool>,
    /// The page size; `None`: every matching row (the CSV).
    pub limit: Option<i64>,
    /// The (start, id) of the last row of the previous page.
    pub after: Option<(NaiveDateTime, String)>,
}

impl ListQuery {
    /// Checks `limit` (1–200, default 50) and `cursor` (a `next_cursor` of a previous page).
    /// With `all` (the CSV) both are checked, then every matching row is listed.
    ///
    /// Errors: 422 `validation_failed` naming `limit` (`out_of_range`) and `cursor` (`invalid`).
    pub fn check(self, all: bool) -> Result<ListRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        let mut errors = Vec::new();
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                ErrorCode::OutOfRange,
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match self.cursor.as_deref() {
            None => None,
            Some(c) => match decode_cursor(c) {
                Some(key) => Some(key),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        ErrorCode::Invalid,
                        "cursor must be a next_cursor value from a previous page",
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(ListRequest {
            active: self.active,
            limit: (!all).then_some(limit),
            after: after.filter(|_| !all),
        })
    }
}

/// The suspension periods `request` asks for, each with its village's name, newest first (by
/// start, then id), as `GET /suspensions` lists them. Shared by the API and the staff console.
///
/// Errors: database errors.
pub fn list_periods(
    conn: &mut crate::db::DbConnection,
    request: &ListRequest,
) -> QueryResult<Vec<(SuspensionPeriodRow, String)>> {
    let mut q = suspension_periods::table
        .inner_join(divisions::table.on(divisions::code.eq(suspension_periods::village_code)))
        .select((SuspensionPeriodRow::as_select(), divisions::name))
        .order((
            suspension_periods::started_at.desc(),
            suspension_periods::suspension_id.desc(),
        ))
        .into_boxed();
    match request.active {
        Some(true) => q = q.filter(suspension_periods::lifted_at.is_null()),
        Some(false) => q = q.filter(suspension_periods::lifted_at.is_not_null()),
        None => {}
    }
    if let Some((time, id)) = request.after.clone() {
        q = q.filter(
            suspension_periods::started_at
                .lt(time)
                .or(suspension_periods::started_at
                    .eq(time)
                    .and(suspension_periods::suspension_id.lt(id))),
        );
    }
    if let Some(limit) = request.limit {
        q = q.limit(limit);
    }
    q.load(conn)
}

/// The `next_cursor` after `rows`, a page of at most `limit`: `None` when the page is not full
/// (nothing follows).
pub fn next_cursor(rows: &[(SuspensionPeriodRow, String)], limit: i64) -> Option<String> {
    if rows.len() as i64 != limit {
        return None;
    }
    rows.last().map(|(row, _)| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "{}|{}",
            time_key(row.started_at),
            row.suspension_id
        ))
    })
}
