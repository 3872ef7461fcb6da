//! One gate for the text rules of `domain::text` in front of every API handler, so no endpoint
//! (today's or one added later) can forget them:
//!
//! - a JSON body (`application/json` or `…+json`) is parsed to a `serde_json::Value`; a string or
//!   key holding a forbidden control character is refused with 422 `validation_failed` naming it
//!   by path (`reporter.name`, `accused[0].name`); line breaks in strings become LF, and the
//!   handler's extractor then reads the normalised body;
//! - under `/api/`, every query parameter and path segment is percent-decoded and checked the same
//!   way; one whose bytes are not UTF-8 is refused with 422 (`invalid_encoding`).
//!
//! A body that is not JSON, or larger than the gate reads, passes through untouched for the
//! handler's own extractor to refuse (400 / 413) as before. Multipart text fields and the public
//! HTML forms apply the same functions where they are read (`reports::routes`, `web::form`).

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage};
use futures_util::StreamExt;

use crate::domain::text;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError};

/// The gate's own `from_fn` middleware: reads JSON bodies up to `limit` bytes.
pub async fn text_guard(
    limit: usize,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.path().starts_with("/api/") {
        check_query(req.query_string())?;
        check_path(req.path())?;
    }
    if is_json(&req) {
        let mut payload = req.take_payload();
        let mut buf = BytesMut::new();
        let mut overflow = false;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            buf.extend_from_slice(&chunk);
            if buf.len() > limit {
                overflow = true;
                break;
            }
        }
        let body = buf.freeze();
        if overflow {
            // Hand the bytes read, then the rest, to the handler's extractor, which refuses the size.
            let rest = futures_util::stream::once(async move { Ok(body) }).chain(payload);
            let boxed: actix_http::BoxedPayloadStream = Box::pin(rest);
            req.set_payload(Payload::from(boxed));
        } else {
            let body = normalise_json(body)?;
            if let Ok(len) = HeaderValue::from_str(&body.len().to_string()) {
                req.headers_mut().insert(header::CONTENT_LENGTH, len);
            }
            req.set_payload(Payload::from(body));
        }
    }
    next.call(req).await
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| t == "application/json" || t.ends_with("+json"))
}

/// The body with line breaks normalised, or a 422 naming a field holding a control character.
/// A body that is not JSON is returned as it came, for the extractor to refuse.
pub fn normalise_json(body: Bytes) -> Result<Bytes, ApiError> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(body);
    };
    match text::check_json(&mut value) {
        Err(errors) => Err(ApiError::validation(errors)),
        Ok(false) => Ok(body),
        Ok(true) => Ok(serde_json::to_vec(&value).map(Bytes::from).unwrap_or(body)),
    }
}

fn percent_decode(s: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn decoded(field: &str, raw: &str, plus_is_space: bool) -> Result<String, ApiError> {
    String::from_utf8(percent_decode(raw, plus_is_space)).map_err(|_| {
        ApiError::validation(vec![FieldError::new(
            field,
            ErrorCode::InvalidEncoding,
            "is not valid UTF-8 once percent-decoded",
        )])
    })
}

fn check_query(query: &str) -> Result<(), ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decoded("query", key, true)?;
        let value = decoded(&key, value, true)?;
        text::check_controls(&key, &key).map_err(|e| ApiError::validation(vec![e]))?;
        text::check_controls(&key, &value).map_err(|e| ApiError::validation(vec![e]))?;
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), ApiError> {
    let path = decoded("path", path, false)?;
    text::check_controls("path", &path).map_err(|e| ApiError::validation(vec![e]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_paths_are_decoded_and_checked() {
        assert!(check_query("limit=5&cursor=abc%20d+e").is_ok());
        let e = check_query("q=a%00b").unwrap_err();
        assert_eq!(e.errors[0].field, "q");
        assert_eq!(e.errors[0].code, ErrorCode::ControlCharacter);
        let e = check_query("cursor=%FF%FE").unwrap_err();
        assert_eq!(e.errors[0].field, "cursor");
        assert_eq!(e.errors[0].code, ErrorCode::InvalidEncoding);
        assert!(check_query("a=100%").is_ok());
        assert_eq!(
            check_path("/api/v1/users/%01").unwrap_err().errors[0].field,
            "path"
        );
        assert!(check_path("/api/v1/divisions/%E5%BC%A0").is_ok());
        assert_eq!(percent_decode("%4", false), b"%4");
    }

    #[test]
    fn json_bodies_are_normalised_or_refused() {
        let body = normalise_json(Bytes::from_static(b"{\"d\":\"a\\r\\nb\"}")).unwrap();
        assert_eq!(&body[..], b"{\"d\":\"a\\nb\"}");
        let same = Bytes::from_static(b"{ \"d\" : 1e2 }");
        assert_eq!(normalise_json(same.clone()).unwrap(), same);
        let not_json = Bytes::from_static(b"{oops");
        assert_eq!(normalise_json(not_json.clone()).unwrap(), not_json);
        let e = normalise_json(Bytes::from_static(b"{\"x\":[\"\\u0000\"]}")).unwrap_err();
        assert_eq!(e.errors[0].field, "x[0]");
    }
}
