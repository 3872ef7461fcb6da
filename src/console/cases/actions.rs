//! The case page's actions (being built).

use actix_web::web::ServiceConfig;

/// Notices after these actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[];

pub fn configure(_cfg: &mut ServiceConfig) {}
