//! Cross-cutting HTTP behaviour: request tracing without client addresses, security headers,
//! panic catching, and problem+json for every error answer, whoever produced it.

pub mod csv;
pub mod headers;
pub mod middleware;
pub mod pagination;
pub mod request_span;
pub mod text_guard;
