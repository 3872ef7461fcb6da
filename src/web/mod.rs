//! The public web pages: server-rendered, Simplified Chinese, no JavaScript needed, nothing
//! loaded from third parties.

use actix_web::web::ServiceConfig;

pub fn configure(_cfg: &mut ServiceConfig) {}
