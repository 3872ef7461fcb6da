//! Console form bodies (`application/x-www-form-urlencoded`), read together with their CSRF
//! check, so that no console POST handler can forget it.
//!
//! **CSRF.** A console form carries the hidden field `csrf_token`: HMAC-SHA256 of the sign-in
//! (the session id) under the console's key, hex. It is accepted only when it equals the
//! session's (compared in constant time) and the request's provenance is this site
//! (`web::csrf::check_request`: `Sec-Fetch-Site`, else `Origin`). The session cookie is
//! `SameSite=Strict` besides, so another site's form cannot even send it.
//!
//! **Repeated rows.** A form with rows (sanction rows, signer rows) repeats each field name once
//! per row, in document order; [`FormData::rows`] zips them back and drops rows left blank.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::page::PageError;
use super::session::Desk;

/// The hidden field holding the token.
pub const CSRF_FIELD: &str = "csrf_token";
/// At most this much form body (a long message or finding, with room to spare).
pub const BODY_MAX: usize = 512 * 1024;

/// The CSRF token of the console forms of sign-in `session_id`, under `key`.
pub fn csrf_token(key: &[u8; 32], session_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"console form\0");
    mac.update(session_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `submitted` is sign-in `session_id`'s token (constant time).
pub fn csrf_matches(key: &[u8; 32], session_id: &str, submitted: Option<&str>) -> bool {
    let expected = csrf_token(key, session_id);
    submitted.is_some_and(|s| bool::from(s.trim().as_bytes().ct_eq(expected.as_bytes())))
}

/// The fields of a posted form, in the order sent.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// Parses an urlencoded body (`+` is a space, percent escapes are UTF-8; bad bytes become
    /// U+FFFD and are then refused by the capability's own text checks).
    pub fn parse(body: &[u8]) -> FormData {
        FormData {
            pairs: url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The fields `pairs`, in the order sent (a multipart form's text fields).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> FormData {
        FormData { pairs }
    }

    /// The first value of `name`, as sent (possibly empty).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// The first value of `name` trimmed, or "" (for text the capability validates itself).
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    /// Every non-blank value of `name`, in order (checkbox groups, multi-selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The `version` a form carried (the record's version when the page was rendered): absent or
    /// not a number reads as none, so the capability runs without the check, as the API does
    /// when a request leaves `version` out.
    pub fn version(&self) -> Option<i32> {
        self.get("version").and_then(|v| v.parse().ok())
    }

    /// Whether a checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Rows of repeated fields: the i-th value of each of `columns` makes row i. Rows whose
    /// every value is blank are dropped. Values are trimmed.
    pub fn rows(&self, columns: &[&str]) -> Vec<Vec<String>> {
        let values: Vec<Vec<String>> = columns
            .iter()
            .map(|c| {
                self.pairs
                    .iter()
                    .filter(|(k, _)| k == c)
                    .map(|(_, v)| v.trim().to_string())
                    .collect()
            })
            .collect();
        let count = values.iter().map(Vec::len).max().unwrap_or(0);
        (0..count)
            .map(|i| {
                values
                    .iter()
                    .map(|v| v.get(i).cloned().unwrap_or_default())
                    .collect::<Vec<_>>()
            })
            .filter(|row| row.iter().any(|v| !v.is_empty()))
            .collect()
    }
}

/// A signed-in staff member's POST: the [`Desk`] and the form, CSRF-checked. A handler that
/// takes `Posted` cannot run for a forged or token-less request: that is answered 403 with the
/// Chinese "page expired" page before the handler is called.
pub struct Posted {
    pub desk: Desk,
    pub form: FormData,
}

impl FromRequest for Posted {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Posted, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let desk = Desk::from_request(&req, &mut Payload::None).await?;
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| PageError::bad_form())?;
                if body.len() + chunk.len() > BODY_MAX {
                    return Err(PageError::too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let form = FormData::parse(&body);
            desk.check_csrf(&req, form.raw(CSRF_FIELD))?;
            Ok(Posted { desk, form })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_zip_repeated_fields_and_drop_blank_rows() {
        let form = FormData::parse(
            "name=%E5%BC%A0%E4%B8%89&role=a&name=&role=&name=+Li+&role=b&csrf_token=x".as_bytes(),
        );
        assert_eq!(
            form.rows(&["name", "role"]),
            vec![
                vec!["张三".to_string(), "a".to_string()],
                vec!["Li".to_string(), "b".to_string()],
            ]
        );
        assert_eq!(form.get("name").as_deref(), Some("张三"));
        assert_eq!(form.get("missing"), None);
        assert_eq!(form.all("role"), vec!["a", "b"]);
    }

    #[test]
    fn the_token_belongs_to_one_session() {
        let key = [9u8; 32];
        let token = csrf_token(&key, "session-a");
        assert!(csrf_matches(&key, "session-a", Some(&token)));
        assert!(!csrf_matches(&key, "session-b", Some(&token)));
        assert!(!csrf_matches(&key, "session-a", None));
        assert!(!csrf_matches(&key, "session-a", Some("")));
        assert!(!csrf_matches(&[8u8; 32], "session-a", Some(&token)));
    }
}
