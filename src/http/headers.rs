//! The security headers every response carries, shared by the middleware (`http::middleware`)
//! and by error answers built from `ApiError` (`crate::error`), so neither imports the other.

use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// No source outside this server, ever: no CDN, no web fonts, no analytics.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every response carries; `Cache-Control: no-store` unless `cacheable`. Error
/// responses built from `ApiError` get them too, even when they bypass the middleware (an error
/// returned past it, a caught panic).
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
