//! The root span for every request. It records method, route pattern, status and latency, and
//! deliberately **no client IP, no user agent, no query string**: tracing-actix-web's default
//! builder records client IP and user agent, which Probity must never keep.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

pub struct ProbityRootSpan;

struct RequestStart(Instant);

impl RootSpanBuilder for ProbityRootSpan {
    /// The span, its fields filled only when it is enabled: with request logs off (a level
    /// above `info`), no route is matched a second time and no request id drawn (issue 12: the
    /// benefit-status path).
    fn on_request_start(request: &ServiceRequest) -> Span {
        let span = tracing::info_span!(
            "http_request",
            method = %request.method(),
            route = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        if span.is_disabled() {
            return span;
        }
        request
            .extensions_mut()
            .insert(RequestStart(Instant::now()));
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(unmatched)".to_string());
        span.record("route", tracing::field::display(&route));
        span.record("request_id", tracing::field::display(uuid::Uuid::new_v4()));
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if span.is_disabled() {
            return;
        }
        let _entered = span.enter();
        match outcome {
            Ok(response) => {
                let latency_ms = response
                    .request()
                    .extensions()
                    .get::<RequestStart>()
                    .map(|s| s.0.elapsed().as_secs_f64() * 1000.0)
                    .unwrap_or_default();
                let status = response.status().as_u16();
                tracing::info!(
                    status,
                    latency_ms = format!("{latency_ms:.1}"),
                    "request completed"
                );
            }
            Err(error) => {
                let status = error.as_response_error().status_code().as_u16();
                tracing::info!(status, "request failed");
            }
        }
    }
}
