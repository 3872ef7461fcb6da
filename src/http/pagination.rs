//! Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next_cursor": ...}` out.
//! A cursor is opaque to clients (base64url of the last item's sort key).

use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::text;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl PageQuery {
    /// The limit, and the decoded sort key to continue after.
    ///
    /// Errors: 422 naming `limit` (`out_of_range`) or `cursor` (`invalid` when it is not
    /// base64url of UTF-8, `control_character` when the decoded key holds a control character,
    /// rule 1 of `domain::text`).
    pub fn parse(&self) -> Result<(i64, Option<String>), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        let mut errors = Vec::new();
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                ErrorCode::OutOfRange,
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            {
                // A decoded key goes into a SQL comparison: it meets the control-character rule
                // of `domain::text` (PostgreSQL cannot hold NUL in `text`), on both backends.
                Some(key) => match text::check_controls("cursor", &key) {
                    Ok(()) => Some(key),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                },
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
        if errors.is_empty() {
            Ok((limit, after))
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// A page from `limit` items, given the sort key of an item.
pub fn page<T>(items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = (items.len() as i64 == limit)
        .then(|| {
            items
                .last()
                .map(|last| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key(last)))
        })
        .flatten();
    Page { items, next_cursor }
}
