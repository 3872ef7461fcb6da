//! `POST /staff/suspensions/batch`: a CSV file of village codes in, the benefit status of each
//! as a CSV download out (issue 13, 暂停与发放核查).
//!
//! **In.** `multipart/form-data` with, in this order, `csrf_token` (checked before anything
//! else is read), `on` (a county day; blank: now) and `file`: UTF-8 CSV (a byte-order mark is
//! fine), its first row a header naming the code column `村代码` or `village_code` (also
//! `code`, `代码`, `区划代码`, `行政区划代码`). Any other columns are carried to the answer as
//! they are. The codes are checked as the batch API checks them (`check_batch`: 1 to 10,000),
//! and each must look like a village code (12 digits, full-width digits and spaces folded) —
//! a typing slip in a file of thousands is named by its line rather than answered "unknown".
//!
//! **Out.** UTF-8 CSV with a BOM and every cell neutralised against formula injection
//! (`http::csv::CsvTable`): the file's own columns, then 村名称, 核查日期, 是否暂停, 暂停起始,
//! 尚待整改的立案案件, 说明, one row per code, in the file's order — the batch endpoint's answer
//! (`answer_batch`), a code on record as a village or `unknown_village`.
//!
//! **Refused** (the page again, the refusal at the top and beside the file field, 4xx): a file
//! that is not UTF-8 (422 `invalid_encoding`), empty or without a header (422
//! `missing_header`), with no code column (422 `bad_header`), without rows or over 10,000 rows
//! (422, as the API), with malformed codes (422, one line each), larger than 4 MB (413).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::{county_day, county_minute, render, PageQuery};
use crate::console::form::CSRF_FIELD;
use crate::console::page::{FieldMessage, PageError, Refusal};
use crate::console::session::Desk;
use crate::db::{self, DbPool};
use crate::domain::divisions::Level;
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::csv::CsvTable;
use crate::suspensions::routes::{self as status_api, BatchEntry, BatchRequest};
use crate::suspensions::SuspensionsState;

/// The largest file accepted (10,000 codes with a few columns each fit easily).
pub const FILE_MAX: usize = 4 * 1024 * 1024;
/// The most text in the form's other fields.
const TEXT_MAX: usize = 4 * 1024;
/// The header names of the code column (compared trimmed, ASCII case ignored).
pub const CODE_COLUMNS: [&str; 6] = [
    "村代码",
    "village_code",
    "code",
    "代码",
    "区划代码",
    "行政区划代码",
];
/// At most this many bad lines are named one by one.
const LINES_NAMED: usize = 20;
/// The columns the answer adds after the file's own.
pub const ANSWER_COLUMNS: [&str; 6] = [
    "村名称",
    "核查日期",
    "是否暂停",
    "暂停起始",
    "尚待整改的立案案件",
    "说明",
];

/// A CSV file of codes, read: its header, its rows (each padded to the header's width), the
/// code column, and each row's line in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub lines: Vec<u64>,
    pub code_column: usize,
}

impl Upload {
    /// The code of each row, as typed.
    pub fn codes(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| r.get(self.code_column).cloned().unwrap_or_default())
            .collect()
    }
}

fn refused(status: StatusCode, code: ErrorCode, detail: &str, zh: &str) -> ApiError {
    let mut e = ApiError::new(status, code, detail);
    e.errors
        .push(FieldError::new("file", code, detail.to_string()).zh(zh));
    e
}

/// The line (from 1) of the record read from byte `offset` of `text`. The reader's position
/// is where its read began: before the line break that ended the previous record and any
/// blank lines it skipped, so those are passed over first.
fn line_at(text: &str, offset: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut at = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
        at += 1;
    }
    1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64
}

/// Reads `bytes` as a CSV file of village codes (see the module docs).
///
/// Errors (422): `invalid_encoding`, `unreadable`, `missing_header`, `bad_header`, and
/// `validation_failed` naming each malformed code by its line (`line 3`; the header is line 1).
pub fn parse(bytes: &[u8]) -> Result<Upload, ApiError> {
    let bytes = bytes.strip_prefix(crate::http::csv::BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidEncoding,
            "The file is not UTF-8 text.",
            "文件不是 UTF-8 编码。请在表格软件中“另存为”“CSV UTF-8（逗号分隔）”格式后重新上传。",
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| line_at(text, p.byte())).unwrap_or(0);
            refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::Unreadable,
                &format!("Line {line} could not be read as CSV."),
                &format!("第 {line} 行无法按 CSV 读取（可能是引号没有成对），请检查后重新上传。"),
            )
        })?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let line = record
            .position()
            .map(|p| line_at(text, p.byte()))
            .unwrap_or(0);
        match &header {
            None => header = Some(cells),
            Some(_) => {
                rows.push(cells);
                lines.push(line);
            }
        }
    }
    let Some(header) = header else {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::MissingHeader,
            "The file is empty.",
            "文件是空的。第一行应为表头（如“村代码”），从第二行起每行一个村代码。",
        ));
    };
    let folded: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    let Some(code_column) = folded
        .iter()
        .position(|h| CODE_COLUMNS.contains(&h.as_str()))
    else {
        let looks_like_data = folded
            .first()
            .map(|h| crate::domain::text::compact_code(h))
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_digit()));
        return Err(if looks_like_data {
            refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MissingHeader,
                "The first line is data, not a header.",
                "文件缺少表头行：第一行应为表头（如“村代码”），从第二行起每行一个村代码。",
            )
        } else {
            refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::BadHeader,
                "The header names no code column (村代码 or village_code).",
                "表头中没有村代码这一列：请把存放村代码的那一列的列名写成“村代码”或“village_code”。",
            )
        });
    };
    let width = header.len();
    let rows = rows
        .into_iter()
        .map(|mut r| {
            if r.len() < width {
                r.resize(width, String::new());
            }
            r
        })
        .collect();
    Ok(Upload {
        header,
        rows,
        lines,
        code_column,
    })
}

/// Whether `code` (as typed) looks like a village code: 12 digits once folded
/// (`text::compact_code`).
pub fn looks_like_village_code(code: &str) -> bool {
    let folded = crate::domain::text::compact_code(code);
    folded.len() == Level::Village.code_len() && folded.bytes().all(|b| b.is_ascii_digit())
}

/// The malformed codes of `upload`, one violation per line (the first 20 named, then a count).
///
/// Errors: 422 `validation_failed` when any code is malformed.
pub fn check_codes(upload: &Upload) -> Result<(), ApiError> {
    let bad: Vec<(u64, String)> = upload
        .codes()
        .into_iter()
        .zip(&upload.lines)
        .filter(|(code, _)| !looks_like_village_code(code))
        .map(|(code, line)| (*line, code))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let mut errors = vec![FieldError::new(
        "file",
        ErrorCode::WrongLength,
        format!("{} line(s) hold no village code", bad.len()),
    )
    .zh(format!(
        "文件中有 {} 行的村代码不对：村代码是12位数字。请改正后重新上传。",
        bad.len()
    ))];
    for (line, code) in bad.iter().take(LINES_NAMED) {
        let (kind, zh) = if code.is_empty() {
            (ErrorCode::Required, format!("第 {line} 行没有村代码。"))
        } else {
            let shown: String = code.chars().take(30).collect();
            (
                ErrorCode::WrongLength,
                format!("第 {line} 行的“{shown}”不是村代码（应为12位数字）。"),
            )
        };
        errors.push(FieldError::new(format!("line {line}"), kind, "not a village code").zh(zh));
    }
    if bad.len() > LINES_NAMED {
        errors.push(
            FieldError::new("lines", ErrorCode::TooMany, "more lines are wrong").zh(format!(
                "另有 {} 行也不对，未逐一列出。",
                bad.len() - LINES_NAMED
            )),
        );
    }
    Err(ApiError::validation(errors))
}

/// The answer file: the upload's own columns, then [`ANSWER_COLUMNS`], one row per code.
pub fn answer_csv(upload: &Upload, answer: &status_api::BatchAnswer, asked: &str) -> Vec<u8> {
    let mut columns: Vec<&str> = upload.header.iter().map(String::as_str).collect();
    columns.extend(ANSWER_COLUMNS);
    let mut table = CsvTable::new(&columns);
    for (row, entry) in upload.rows.iter().zip(&answer.results) {
        let mut cells = row.clone();
        match entry {
            BatchEntry::Status(s) => {
                let since = s.since.map(county_minute).unwrap_or_default();
                cells.extend([
                    s.village_name.clone(),
                    asked.to_string(),
                    if s.suspended { "是" } else { "否" }.to_string(),
                    since,
                    s.blocking_cases.join(" "),
                    if s.suspended {
                        "涉农优惠政策暂停实施，不得发放"
                    } else {
                        "涉农优惠政策正常实施"
                    }
                    .to_string(),
                ]);
            }
            BatchEntry::Unknown(_) => cells.extend([
                String::new(),
                asked.to_string(),
                String::new(),
                String::new(),
                String::new(),
                "找不到这个村代码".to_string(),
            ]),
        }
        table.row(cells);
    }
    table.into_bytes()
}

/// The form's fields, read.
struct Posted {
    on: Option<String>,
    file: Vec<u8>,
    file_chosen: bool,
}

/// Reads the multipart body: `csrf_token` first (checked before anything else is read), then
/// `on` and `file`.
///
/// Errors: the CSRF page (403); a body that is not the form (400); a file over [`FILE_MAX`]
/// (as an `ApiError`, 413, shown on the page).
async fn read(
    desk: &Desk,
    req: &HttpRequest,
    multipart: &mut Multipart,
) -> Result<Result<Posted, ApiError>, PageError> {
    let mut posted = Posted {
        on: None,
        file: Vec::new(),
        file_chosen: false,
    };
    let mut checked = false;
    let mut too_large = false;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| PageError::bad_form())?;
        let name = field.name().unwrap_or_default().to_string();
        if !checked {
            // The hidden token comes first in the form; nothing else is read before it.
            if name != CSRF_FIELD {
                return Err(PageError::csrf());
            }
            let mut token = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|_| PageError::bad_form())?;
                if token.len() + chunk.len() > TEXT_MAX {
                    return Err(PageError::csrf());
                }
                token.extend_from_slice(&chunk);
            }
            let token = String::from_utf8(token).map_err(|_| PageError::csrf())?;
            desk.check_csrf(req, Some(&token))?;
            checked = true;
            continue;
        }
        let is_file = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .is_some();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| PageError::bad_form())?;
            let limit = if is_file { FILE_MAX } else { TEXT_MAX };
            if too_large || bytes.len() + chunk.len() > limit {
                too_large = true;
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "on" if !is_file => {
                posted.on = Some(String::from_utf8_lossy(&bytes).trim().to_string())
            }
            "file" if is_file => {
                posted.file_chosen = true;
                posted.file = bytes;
            }
            _ => {}
        }
    }
    if !checked {
        return Err(PageError::csrf());
    }
    if too_large {
        return Ok(Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "The file is larger than 4 MB.",
            "文件太大：不能超过 4 MB。请分成几个文件分别核查。",
        )));
    }
    Ok(Ok(posted))
}

/// Reads and drops what is left of the body (at most a little over [`FILE_MAX`]), so that a
/// refusal answered before the whole upload arrived (no permission, an expired page) reaches
/// the browser instead of a connection reset in the middle of sending the file.
async fn drain(multipart: &mut Multipart) {
    let mut budget = FILE_MAX + 64 * 1024;
    while let Some(Ok(mut field)) = multipart.next().await {
        while let Some(Ok(chunk)) = field.next().await {
            budget = budget.saturating_sub(chunk.len());
            if budget == 0 {
                return;
            }
        }
    }
}

/// The date cell of the answer: the day asked, or now in county time.
fn asked(on: Option<chrono::NaiveDate>, now: chrono::NaiveDateTime) -> String {
    match on {
        Some(day) => day.to_string(),
        None => format!("{}（此刻）", county_minute(now.and_utc())),
    }
}

/// `POST /staff/suspensions/batch` (`Permission::ReadBenefitStatus`).
pub async fn upload(
    desk: Desk,
    req: HttpRequest,
    mut multipart: Multipart,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, PageError> {
    if let Err(refused) = desk.require(Permission::ReadBenefitStatus) {
        drain(&mut multipart).await;
        return Err(refused);
    }
    let posted = match read(&desk, &req, &mut multipart).await {
        Ok(posted) => posted,
        Err(refused) => {
            // A body that could not be read as multipart has ended: polling it again panics.
            if refused.status != StatusCode::BAD_REQUEST {
                drain(&mut multipart).await;
            }
            return Err(refused);
        }
    };
    let now = state.clock.now_naive();
    let outcome = async {
        let posted = posted?;
        if !posted.file_chosen || posted.file.is_empty() {
            return Err(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::Required,
                "Choose a CSV file.",
                "请选择一个 CSV 文件。",
            ));
        }
        let upload = parse(&posted.file)?;
        // The batch API's own checks first: 1 to 10,000 codes, and the day.
        let batch = status_api::check_batch(
            BatchRequest {
                village_codes: Some(upload.codes()),
                on: posted.on.clone(),
            },
            now,
        )
        .map_err(|mut e| {
            for f in &mut e.errors {
                f.field = match f.field.as_str() {
                    "village_codes" => "file".into(),
                    "on" => "batch_on".into(),
                    other => other.into(),
                };
            }
            e
        })?;
        check_codes(&upload)?;
        let on = batch.on;
        let answer = db::run(&pool, move |conn| {
            Ok(status_api::answer_batch(conn, batch)?)
        })
        .await?;
        Ok((upload, answer, on))
    }
    .await;
    match outcome {
        Ok((upload, answer, on)) => {
            let bytes = answer_csv(&upload, &answer, &asked(on, now));
            let day = on.unwrap_or_else(|| county_day(now));
            Ok(crate::http::csv::response(
                &format!("benefit-status-{day}.csv"),
                bytes,
            ))
        }
        Err(e) if e.status.is_client_error() => {
            let mut refusal = Refusal::from_api(&e);
            if refusal.field("file").is_none() && !refusal.fields.is_empty() {
                // Lines named one by one: the file field says so too.
                refusal.fields.insert(
                    0,
                    FieldMessage {
                        field: "file".into(),
                        message: "文件有误，见页面上方的说明。".into(),
                    },
                );
            }
            render(&desk, &pool, &state, PageQuery::default(), Some(refusal)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_code_column_and_other_columns_are_kept() {
        let up = parse("\u{feff}姓名,村代码,备注\r\n王某,３６０７３４１００２０１,=1+2\r\n\r\n李某,360734101201\r\n".as_bytes())
            .unwrap();
        assert_eq!(up.header, ["姓名", "村代码", "备注"]);
        assert_eq!(up.code_column, 1);
        assert_eq!(up.rows[1], ["李某", "360734101201", ""]);
        assert_eq!(up.lines, [2, 4]);
        assert!(check_codes(&up).is_ok(), "full-width digits fold");
    }

    #[test]
    fn files_without_a_header_or_a_code_column_are_refused() {
        assert_eq!(parse(b"").unwrap_err().code, ErrorCode::MissingHeader);
        assert_eq!(
            parse(b"360734100201\n360734101201\n").unwrap_err().code,
            ErrorCode::MissingHeader
        );
        assert_eq!(
            parse(b"name,note\nx,y\n").unwrap_err().code,
            ErrorCode::BadHeader
        );
        assert_eq!(
            parse(&[0xff, 0xfe, 0x41]).unwrap_err().code,
            ErrorCode::InvalidEncoding
        );
        let up = parse(b"Village_Code\n").unwrap();
        assert!(up.rows.is_empty());
    }

    #[test]
    fn malformed_codes_are_named_by_line() {
        let up = parse("village_code\n360734100201\nabc\n\n,x\n36073410020\n".as_bytes()).unwrap();
        let e = check_codes(&up).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["file", "line 3", "line 5", "line 6"]);
        assert!(e.errors[0].message_zh.contains("3 行"));
        assert!(e.errors[2].message_zh.contains("没有村代码"));
    }
}
