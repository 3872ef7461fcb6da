//! The stylesheet and the optional print script, compiled into the binary and served by us:
//! no CDN, no web fonts.

use actix_web::http::header;
use actix_web::HttpResponse;

pub const STYLESHEET: &str = include_str!("../../static/probity.css");
/// The staff console's stylesheet (`/static/console.css`, issue 13).
pub const CONSOLE_STYLESHEET: &str = include_str!("../../static/console.css");
pub const PRINT_SCRIPT: &str = include_str!("../../static/print.js");

/// A day: the files change only with a release.
const CACHE: &str = "public, max-age=86400";

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(STYLESHEET)
}

pub async fn print_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(PRINT_SCRIPT)
}

pub async fn console_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(CONSOLE_STYLESHEET)
}
