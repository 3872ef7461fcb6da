//! HTTP endpoints for divisions and officials.

use utoipa_actix_web::service_config::ServiceConfig;

/// Mounted under `/api/v1`.
pub fn configure(_cfg: &mut ServiceConfig) {}
