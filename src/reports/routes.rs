//! HTTP endpoints for reports.

use utoipa_actix_web::service_config::ServiceConfig;

/// Mounted under `/api/v1`.
pub fn configure(_cfg: &mut ServiceConfig) {}
