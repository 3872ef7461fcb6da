//! `ApiError`: every error answer is RFC 7807 `application/problem+json` with a stable `code`
//! that clients can match, and `errors` per field for validation failures.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::error_code::ErrorCode;
pub use crate::domain::violation::FieldViolation;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One bad field in a request: the domain's `FieldViolation`, served as `{field, code, message}`.
pub type FieldError = FieldViolation;

/// The problem document, as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:probity:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(value_type = String)]
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra headers, e.g. `Retry-After` or `WWW-Authenticate`.
    pub headers: Vec<(header::HeaderName, String)>,
    /// Members added to the problem document beside the standard ones, e.g. `status` and
    /// `allowed_actions` of a 409 `invalid_transition`.
    pub extra: Vec<(&'static str, serde_json::Value)>,
    /// The cause of a 5xx, logged but never sent.
    source: Option<anyhow::Error>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.detail)?;
        if let Some(source) = &self.source {
            write!(f, ": {source:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The members every problem document has (`Problem`); [`ApiError::with_member`] adds others.
pub const STANDARD_MEMBERS: [&str; 6] = ["type", "title", "status", "detail", "code", "errors"];

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            extra: Vec::new(),
            source: None,
        }
    }

    /// The same answer with one more member `name` in the problem document. It must not be one
    /// of the standard members ([`STANDARD_MEMBERS`]): those always win, so such a member would
    /// be lost (debug builds and tests panic on it).
    pub fn with_member(mut self, name: &'static str, value: serde_json::Value) -> Self {
        debug_assert!(
            !STANDARD_MEMBERS.contains(&name),
            "problem member {name:?} would be hidden by the standard member"
        );
        self.extra.push((name, value));
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The same answer with a more specific stable code.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    /// 422 with one entry per bad field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "Some fields are invalid; see `errors`.",
        );
        e.errors = errors;
        e
    }

    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, detail)
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, detail)
    }

    /// 500: the cause is logged, the client sees only that something went wrong.
    pub fn unexpected(source: anyhow::Error) -> Self {
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "The server could not complete the request. Nothing was changed.",
        );
        e.source = Some(source);
        e
    }

    pub fn database_unavailable(source: impl Into<anyhow::Error>) -> Self {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::DatabaseUnavailable,
            "The database is not answering. Try again shortly.",
        )
        .with_header(header::RETRY_AFTER, "5");
        e.source = Some(source.into());
        e
    }

    /// 503 `server_busy` with `Retry-After`: the Argon2 pool's queue is full (issue 7).
    pub fn server_busy() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerBusy,
            "The server is busy. Try again in a moment. 服务器繁忙，请稍后再试。",
        )
        .with_header(
            header::RETRY_AFTER,
            crate::hashing::RETRY_AFTER_SECS.to_string(),
        )
    }

    /// The underlying cause of a 5xx, if any.
    pub fn source_ref(&self) -> Option<&anyhow::Error> {
        self.source.as_ref()
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:probity:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::unexpected(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::unexpected(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(code = self.code.as_str(), error = %self, "request failed");
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                response.insert_header((name.clone(), v));
            }
        }
        let body = if self.extra.is_empty() {
            serde_json::to_vec(&self.problem()).unwrap_or_default()
        } else {
            let mut doc = serde_json::to_value(self.problem()).unwrap_or_default();
            if let Some(map) = doc.as_object_mut() {
                for (name, value) in &self.extra {
                    map.entry(name.to_string()).or_insert_with(|| value.clone());
                }
            }
            serde_json::to_vec(&doc).unwrap_or_default()
        };
        let mut response = response.body(body);
        crate::http::headers::apply_security_headers(response.headers_mut(), false);
        response
    }
}

/// Maps actix's own extractor failures (bad JSON, wrong content type, oversize bodies,
/// bad path or query) onto problem+json.
pub mod extractors {
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
    use actix_web::http::StatusCode;
    use actix_web::HttpRequest;

    use super::{ApiError, ErrorCode};

    pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
        let api = match &err {
            JsonPayloadError::ContentType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send the body as application/json.",
            ),
            JsonPayloadError::OverflowKnownLength { limit, .. }
            | JsonPayloadError::Overflow { limit } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("The body is larger than the {limit} bytes accepted."),
            ),
            JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidBody,
                format!("The JSON does not have the expected shape: {e}"),
            ),
            JsonPayloadError::Deserialize(e) => ApiError::bad_request(
                ErrorCode::MalformedJson,
                format!("The body is not valid JSON: {e}"),
            ),
            other => ApiError::bad_request(
                ErrorCode::BadBody,
                format!("The body could not be read: {other}"),
            ),
        };
        api.into()
    }

    pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            format!("The query string is invalid: {err}"),
        )
        .into()
    }

    pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("No such resource: {err}"),
        )
        .into()
    }
}

impl From<crate::hashing::Busy> for ApiError {
    fn from(_: crate::hashing::Busy) -> ApiError {
        ApiError::server_busy()
    }
}
