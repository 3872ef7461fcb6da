//! The case page, `/staff/cases/{id}` (being built).

use actix_web::web::ServiceConfig;
use actix_web::{HttpRequest, HttpResponse};

use super::Failed;
use crate::console::page::PageError;
use crate::console::session::Desk;

/// Case `case_id`'s page for `desk`, showing `failed` (a refused form) when given, answered with
/// the refusal's status.
pub async fn show_case(
    _req: &HttpRequest,
    _desk: &Desk,
    _case_id: &str,
    _failed: Option<Failed>,
) -> Result<HttpResponse, PageError> {
    Err(PageError::not_found())
}

pub fn configure(_cfg: &mut ServiceConfig) {}
