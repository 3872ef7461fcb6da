//! 导入行政区划: the divisions CSV import (`code,name,level,parent_code`, UTF-8), as
//! `POST /api/v1/divisions/import` does it (`divisions::import_csv`): all rows or none, new
//! codes added, existing codes renamed, every bad line named.
//!
//! - `GET /staff/admin/divisions/import`: the upload form, and after an import what it did.
//! - `POST /staff/admin/divisions/import`: `multipart/form-data` with `csrf_token` first, then
//!   `file`. The token is read and checked before a byte of the file is; the file may be at
//!   most `divisions::routes::IMPORT_BODY_LIMIT` bytes.

use actix_multipart::{Field, Multipart};
use actix_web::http::StatusCode;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use super::{admin, refusal, AREA};
use crate::clock::Clock;
use crate::console::form::CSRF_FIELD;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::{self, DbPool};
use crate::divisions::routes::IMPORT_BODY_LIMIT;
use crate::divisions::{self as division_data, ImportError};
use crate::error::{ApiError, ErrorCode};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/admin/divisions/import")
            .route(web::get().to(form))
            .route(web::post().to(import)),
    );
}

/// The token is short; anything longer in its place is not a token.
const TOKEN_MAX: usize = 256;

/// One bad line of a refused file.
struct LineError {
    line: String,
    content: String,
    message: String,
}

#[derive(Template)]
#[template(path = "console/admin/import.html")]
struct ImportPage {
    shell: Shell,
    lines: Vec<LineError>,
    limit_mb: usize,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    inserted: Option<usize>,
    updated: Option<usize>,
    unchanged: Option<usize>,
}

fn import_page(shell: Shell, lines: Vec<LineError>) -> HttpResponse {
    let page = ImportPage {
        shell,
        lines,
        limit_mb: IMPORT_BODY_LIMIT / (1024 * 1024),
    };
    page::show(&page.shell, &page)
}

/// `GET /staff/admin/divisions/import`: the form; after an import, how many divisions it added,
/// renamed and left unchanged.
async fn form(desk: Desk, query: web::Query<DoneQuery>) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let notice = (query.done.as_deref() == Some("imported")).then(|| {
        format!(
            "导入完成：新增 {} 个区划，改名 {} 个，{} 个没有变化。",
            query.inserted.unwrap_or(0),
            query.updated.unwrap_or(0),
            query.unchanged.unwrap_or(0)
        )
    });
    Ok(import_page(
        desk.shell(AREA, "导入行政区划").with_notice(notice),
        Vec::new(),
    ))
}

/// Reads `field` whole, refusing more than `limit` bytes.
///
/// Errors: `ImportError::TooLarge`, `Unreadable`.
async fn read_field(field: &mut Field, limit: usize) -> Result<Vec<u8>, ImportError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| ImportError::Unreadable(e.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ImportError::TooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The bad lines of a refused file, each with what the line holds.
fn line_errors(refused: &Refusal, text: &str) -> Vec<LineError> {
    let lines: Vec<&str> = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .collect();
    refused
        .fields
        .iter()
        .filter_map(|f| {
            let n: usize = f.field.strip_prefix("line ")?.parse().ok()?;
            Some(LineError {
                line: n.to_string(),
                content: lines
                    .get(n.checked_sub(1)?)
                    .map(|l| l.chars().take(200).collect())
                    .unwrap_or_default(),
                message: f.message.clone(),
            })
        })
        .collect()
}

/// `POST /staff/admin/divisions/import`: checks the form's token, reads the file and imports
/// it (`divisions::import_csv`); 303 back with the counts. A refused file comes back with the
/// API's status (422 with every bad line, 413 too large) and nothing imported.
///
/// Errors: 403 page (not an administrator, or the token is missing or wrong); 400 page for a
/// body that is not a multipart form.
async fn import(
    req: HttpRequest,
    payload: web::Payload,
    desk: Desk,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let mut multipart = Multipart::new(req.headers(), payload.into_inner());
    // The token comes first (the form puts it first); nothing else is read before it holds.
    let token = match multipart.next().await {
        Some(Ok(mut field)) if field.name() == Some(CSRF_FIELD) => {
            let bytes = read_field(&mut field, TOKEN_MAX).await.ok();
            bytes.and_then(|b| String::from_utf8(b).ok())
        }
        _ => None,
    };
    desk.check_csrf(&req, token.as_deref())?;
    let mut file: Option<Result<Vec<u8>, ImportError>> = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| PageError::bad_form())?;
        if field.name() == Some("file") && file.is_none() {
            file = Some(read_field(&mut field, IMPORT_BODY_LIMIT).await);
            if matches!(file, Some(Err(_))) {
                break;
            }
        } else {
            // Other parts are not read (but must be drained to reach the next).
            while let Some(chunk) = field.next().await {
                chunk.map_err(|_| PageError::bad_form())?;
            }
        }
    }
    // No file part at all reads as an empty file, which the import refuses.
    let outcome: Result<division_data::ImportCounts, (ApiError, String)> = match file
        .unwrap_or(Ok(Vec::new()))
        .and_then(division_data::csv_text)
    {
        Ok(text) => {
            let actor = desk.staff.actor();
            let now = clock.now_naive();
            let kept = text.clone();
            let imported = db::run(&pool, move |conn| {
                Ok(division_data::import_csv(conn, now, &actor, &text).map_err(ApiError::from))
            })
            .await?;
            imported.map_err(|e| (e, kept))
        }
        Err(e) => Err((e.into(), String::new())),
    };
    match outcome {
        Ok(counts) => Ok(page::see_other(&format!(
            "/staff/admin/divisions/import?done=imported&inserted={}&updated={}&unchanged={}",
            counts.inserted, counts.updated, counts.unchanged
        ))),
        Err((e, text)) => {
            let mut shown = refusal(&e);
            let lines = line_errors(&shown, &text);
            if !lines.is_empty() {
                // The lines are listed in full below the form; the top says what happened.
                shown.fields.clear();
                shown.message = format!(
                    "文件中有 {} 行有误，什么也没有导入。请改正下面列出的行后重新上传整个文件。",
                    lines.len()
                );
            }
            if e.code == ErrorCode::InvalidEncoding {
                shown.message = "文件不是 UTF-8 编码，无法读取，什么也没有导入。\
                    请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后重新上传。"
                    .to_string();
            }
            if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                shown.message = format!(
                    "文件太大：最多 {} MB。请把文件分成几个，分别导入。",
                    IMPORT_BODY_LIMIT / (1024 * 1024)
                );
            }
            Ok(import_page(
                desk.shell(AREA, "导入行政区划").with_refusal(Some(shown)),
                lines,
            ))
        }
    }
}
