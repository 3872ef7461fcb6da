//! The case page's `remediation` section (being built).

use actix_web::web::ServiceConfig;
use actix_web::HttpRequest;

use super::{CaseView, Failed};
use crate::console::page::PageError;
use crate::console::session::Desk;

/// Notices after this section's actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[];

/// This section of case `case`'s page, as HTML.
pub async fn section(
    _req: &HttpRequest,
    _desk: &Desk,
    _case: &CaseView,
    _failed: Option<&Failed>,
) -> Result<String, PageError> {
    Ok(String::new())
}

pub fn configure(_cfg: &mut ServiceConfig) {}
