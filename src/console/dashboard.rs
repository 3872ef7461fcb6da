//! 工作台 (`/staff`): what needs the signed-in staff member today.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use super::page::{self, Shell};
use super::session::Desk;

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    shell: Shell,
}

/// `GET /staff`.
pub async fn page(desk: Desk) -> HttpResponse {
    let shell = desk.shell("/staff", "工作台");
    page::render(StatusCode::OK, &DashboardPage { shell })
}
