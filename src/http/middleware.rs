use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use futures_util::FutureExt;

use crate::error::{ApiError, PROBLEM_JSON};

/// No source outside this server, ever: no CDN, no web fonts, no analytics.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

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

/// The headers every response carries. Error responses built from `ApiError` get them too, even
/// when they bypass the middleware (an error returned past it, a caught panic).
pub fn apply_security_headers(headers: &mut HeaderMap, cacheable: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if !cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
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
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
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
        || is_problem_json(&res)
        || is_html(&res)
    {
        return Ok(res);
    }
    let (code, detail) = generic_problem(status);
    let api_error = ApiError::new(status, code, detail);
    let mut replacement: HttpResponse = api_error.error_response();
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

fn generic_problem(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("not_found", "No resource lives at this path."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This path does not accept that method; see the Allow header.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "The body's content type is not accepted here.",
        ),
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be understood."),
        StatusCode::UNAUTHORIZED => ("unauthorized", "Sign in first."),
        StatusCode::FORBIDDEN => ("forbidden", "You may not do this."),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests; slow down."),
        s if s.is_server_error() => (
            "internal_error",
            "The server could not complete the request. Nothing was changed.",
        ),
        _ => ("request_failed", "The request failed."),
    }
}
