//! The supervisors' lists of what waits for their decision. The decisions themselves are taken
//! on the case page (`/staff/cases/{id}`), where the whole case can be read first.
//!
//! - `GET /staff/identity-requests`: requests to read a reporter's identity that are pending
//!   (`custodian::pending_requests`), oldest first, each linking to `/staff/cases/{id}#identity`.
//! - `GET /staff/objections`: the reporters' open objections (`objections::list` with
//!   `status=open`, as `GET /api/v1/objections?status=open`), oldest (so earliest due) first,
//!   each linking to `/staff/cases/{id}#actions`.
//!
//! Both need `Supervise` (supervisors).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;

use crate::console::page::{self, PageError, Shell};
use crate::console::session::Desk;
use crate::db::schema::users;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::deadlines;
use crate::domain::permissions::Permission;
use crate::domain::text;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::objections::ObjectionQuery;
use crate::reports::ReportsState;
use crate::web::zh;

/// A page of these lists.
const LIMIT: i64 = 50;

/// The query of both lists.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
}

/// The display names of staff `ids` (id → name). Staff names are shown to staff only.
///
/// Errors: database errors.
fn display_names(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, String>, ApiError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

// ---- identity-access requests ---------------------------------------------------------------

struct RequestLine {
    case_id: String,
    case_number: String,
    requester: String,
    /// The signed-in supervisor made it: another supervisor decides it (403 `own_request`).
    own: bool,
    reason: String,
    at: String,
}

#[derive(Template)]
#[template(path = "console/intake/identity_requests.html")]
struct RequestsPage {
    shell: Shell,
    requests: Vec<RequestLine>,
    next: Option<String>,
    later_page: bool,
}

fn request_cursor(created_at: NaiveDateTime, id: &str) -> String {
    let key = format!("{}|{id}", created_at.format("%Y-%m-%dT%H:%M:%S%.6f"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The `(created_at, id)` a cursor of [`request_cursor`] names.
///
/// Errors: 422 naming `cursor` when it is not one.
fn decode_request_cursor(cursor: &str) -> Result<(NaiveDateTime, String), ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|raw| {
            let (time, id) = raw.split_once('|')?;
            if text::forbidden_char(id).is_some() {
                return None;
            }
            let time = NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
            Some((time, id.to_string()))
        })
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "cursor",
                ErrorCode::Invalid,
                "cursor must be a next page link's value",
            )])
        })
}

/// `GET /staff/identity-requests`: the pending requests for a reporter's identity, oldest
/// first, 50 a page.
///
/// Errors: 403 without `Supervise`; a bad `cursor` as the Chinese 422 page.
pub async fn identity_requests(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::Supervise)?;
    let query = query.into_inner();
    let later_page = query.cursor.is_some();
    let after = query
        .cursor
        .as_deref()
        .map(decode_request_cursor)
        .transpose()?;
    let (found, names) = db::run(&pool, move |conn| {
        let found = crate::custodian::pending_requests(conn, after, LIMIT)?;
        let ids: Vec<String> = found
            .iter()
            .map(|r| r.request.requester_id.clone())
            .collect();
        let names = display_names(conn, &ids)?;
        Ok((found, names))
    })
    .await?;
    let next = (found.len() as i64 == LIMIT)
        .then(|| found.last())
        .flatten()
        .map(|r| {
            format!(
                "/staff/identity-requests?cursor={}",
                request_cursor(r.request.created_at.naive_utc(), &r.request.id)
            )
        });
    let me = desk.user_id().to_string();
    let requests = found
        .into_iter()
        .map(|r| RequestLine {
            own: r.request.requester_id == me,
            requester: names
                .get(&r.request.requester_id)
                .cloned()
                .unwrap_or_else(|| r.request.requester_id.clone()),
            reason: r.request.reason,
            at: zh::time(r.request.created_at),
            case_id: r.request.case_id,
            case_number: r.case_number,
        })
        .collect();
    let shell = desk.shell("/staff", "待决定的身份查看申请");
    Ok(page::render(
        StatusCode::OK,
        &RequestsPage {
            shell,
            requests,
            next,
            later_page,
        },
    ))
}

// ---- objections -------------------------------------------------------------------------------

struct ObjectionLine {
    case_id: String,
    case_number: String,
    body: String,
    received_at: String,
    due_on: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "console/intake/objections.html")]
struct ObjectionsPage {
    shell: Shell,
    objections: Vec<ObjectionLine>,
    next: Option<String>,
    later_page: bool,
}

/// `GET /staff/objections`: the open objections, oldest (earliest due) first, 50 a page.
///
/// Errors: 403 without `Supervise`; a bad `cursor` as the Chinese 422 page.
pub async fn objections(
    desk: Desk,
    query: web::Query<ListQuery>,
    pool: web::Data<DbPool>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, PageError> {
    desk.require(Permission::Supervise)?;
    let query = query.into_inner();
    let later_page = query.cursor.is_some();
    let today = deadlines::today_in_county(state.clock.now());
    let list = ObjectionQuery {
        status: Some("open".into()),
        limit: Some(LIMIT),
        cursor: query.cursor,
    };
    // Supervisors see every case (`cases::Viewer::sees_all`): no team narrows the list.
    let found = db::run(&pool, move |conn| {
        Ok(crate::objections::list(conn, None, &list, today)?)
    })
    .await?;
    let next = found
        .next_cursor
        .map(|c| format!("/staff/objections?cursor={c}"));
    let objections = found
        .items
        .into_iter()
        .map(|o| ObjectionLine {
            body: shorten(&o.body, 200),
            received_at: zh::time(o.received_at),
            due_on: zh::date(o.due_on),
            overdue: o.overdue,
            case_id: o.case_id,
            case_number: o.case_number,
        })
        .collect();
    let shell = desk.shell("/staff", "待处理的异议");
    Ok(page::render(
        StatusCode::OK,
        &ObjectionsPage {
            shell,
            objections,
            next,
            later_page,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_cursors_round_trip_and_refuse_anything_else() {
        let t = NaiveDateTime::parse_from_str("2026-12-01T03:04:05.123456", "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap();
        let c = request_cursor(t, "req-1");
        assert_eq!(decode_request_cursor(&c).unwrap(), (t, "req-1".to_string()));
        assert!(decode_request_cursor("not a cursor").is_err());
        let nul =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("2026-12-01T03:04:05|a\u{0}b");
        assert!(decode_request_cursor(&nul).is_err());
        assert_eq!(shorten("一二三", 2), "一二…");
        assert_eq!(shorten("一二", 2), "一二");
    }
}
