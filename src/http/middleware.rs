use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use futures_util::FutureExt;

use crate::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::http::headers::apply_security_headers;

/// Security headers on every response; `Cache-Control: no-store` on all but the static API docs.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // The API docs' assets and the public pages' stylesheet and script may be cached.
    let cacheable = req.path().starts_with("/api/docs/") || req.path().starts_with("/static/");
    let mut res = next.call(req).await?;
    apply_security_headers(res.headers_mut(), cacheable);
    Ok(res)
}

/// A panicking handler answers 500 problem+json instead of dropping the connection. The panic
/// message goes to the log, never to the client. (The request is not cloned before routing:
/// actix needs to own it uniquely to record the matched route.)
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result.map(|res| res.map_into_boxed_body()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            Err(ApiError::unexpected(anyhow::anyhow!("handler panicked: {message}")).into())
        }
    }
}

/// Every 4xx/5xx leaves as problem+json, including actix's own answers (unknown route, wrong
/// method, oversize body) that would otherwise be plain text or empty.
pub async fn problem_json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The staff console answers every error with a Chinese page, even those raised before or
    // around its handlers (a refused query or path, a wrong method, a panic).
    let console = crate::console::page::is_console_path(req.path());
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(error) if console => {
            let status = error.as_response_error().status_code();
            if error
                .as_error::<crate::console::page::PageError>()
                .is_some()
            {
                return Err(error);
            }
            let code = error.as_error::<ApiError>().map(|e| e.code);
            return Err(crate::console::page::PageError::for_status(status, code).into());
        }
        Err(error) if error.as_error::<ApiError>().is_some() => return Err(error),
        Err(error) => {
            let status = error.as_response_error().status_code();
            let (code, detail) = generic_problem(status);
            return Err(ApiError::new(status, code, detail).into());
        }
    };
    let status = res.status();
    // The public pages answer errors with their own Chinese HTML pages (src/web).
    if !(status.is_client_error() || status.is_server_error())
        || (!console && is_problem_json(&res))
        || is_html(&res)
    {
        return Ok(res);
    }
    let mut replacement: HttpResponse = if console {
        let code = res
            .response()
            .error()
            .and_then(|e| e.as_error::<ApiError>())
            .map(|e| e.code);
        crate::console::page::PageError::for_status(status, code).error_response()
    } else {
        let (code, detail) = generic_problem(status);
        ApiError::new(status, code, detail).error_response()
    };
    for (name, value) in res.headers() {
        if matches!(
            *name,
            header::ALLOW | header::RETRY_AFTER | header::WWW_AUTHENTICATE
        ) {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    let (request, _) = res.into_parts();
    Ok(ServiceResponse::new(request, replacement))
}

fn is_problem_json(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

fn is_html(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn generic_problem(status: StatusCode) -> (ErrorCode, &'static str) {
    match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "No resource lives at this path."),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "This path does not accept that method; see the Allow header.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "The body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "The body's content type is not accepted here.",
        ),
        StatusCode::BAD_REQUEST => (
            ErrorCode::BadRequest,
            "The request could not be understood.",
        ),
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthorized, "Sign in first."),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "You may not do this."),
        StatusCode::TOO_MANY_REQUESTS => (ErrorCode::RateLimited, "Too many requests; slow down."),
        s if s.is_server_error() => (
            ErrorCode::InternalError,
            "The server could not complete the request. Nothing was changed.",
        ),
        _ => (ErrorCode::RequestFailed, "The request failed."),
    }
}
