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
    fn on_request_start(request: &ServiceRequest) -> Span {
        request
            .extensions_mut()
            .insert(RequestStart(Instant::now()));
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(unmatched)".to_string());
        tracing::info_span!(
            "http_request",
            method = %request.method(),
            route = %route,
            request_id = %uuid::Uuid::new_v4(),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
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
