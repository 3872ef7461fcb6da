//! 工作日历: the working-day calendar that every deadline counts in (SPEC.md → deadlines in
//! working days; docs/calendar.md).
//!
//! - `GET /staff/admin/calendar`: the years loaded, this year and the next when they have no
//!   calendar (deadlines in them count weekends only), and where the calendar was read from
//!   (`calendar::routes::status_today`, as `GET /api/v1/calendar`).
//! - `POST /staff/admin/calendar/reload`: reloads it from the calendar folder
//!   (`calendar::routes::reload`, as `POST /api/v1/calendar/reload`); a bad file is refused
//!   with 422 `calendar_invalid` naming the file and line, and the calendar in use stays.

use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;

use super::{admin, refusal, DoneQuery, AREA};
use crate::calendar::routes::{reload as reload_calendar, status_today};
use crate::calendar::{CalendarHandle, CalendarSource};
use crate::clock::Clock;
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::DbPool;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/staff/admin/calendar").route(web::get().to(show)))
        .service(web::resource("/staff/admin/calendar/reload").route(web::post().to(reload)));
}

const NOTICES: [(&str, &str); 1] = [("reloaded", "工作日历已重新载入。")];

#[derive(Template)]
#[template(path = "console/admin/calendar.html")]
struct CalendarPage {
    shell: Shell,
    years: Vec<i32>,
    missing_years: Vec<i32>,
    shipped: bool,
    dir: String,
    /// Why a reload was refused, as the server said it (the file and line).
    detail: String,
}

fn calendar_page(
    desk: &Desk,
    calendar: &CalendarHandle,
    clock: &Clock,
    notice: Option<String>,
    refused: Option<(Refusal, String)>,
) -> HttpResponse {
    let status = status_today(calendar, clock);
    let (refused, detail) = match refused {
        Some((r, d)) => (Some(r), d),
        None => (None, String::new()),
    };
    let page = CalendarPage {
        shell: desk
            .shell(AREA, "工作日历")
            .with_notice(notice)
            .with_refusal(refused),
        years: status.years,
        missing_years: status.missing_years,
        shipped: status.source == CalendarSource::Shipped,
        dir: calendar.dir().display().to_string(),
        detail,
    };
    page::show(&page.shell, &page)
}

/// `GET /staff/admin/calendar`: the calendar in use.
async fn show(
    desk: Desk,
    query: web::Query<DoneQuery>,
    calendar: web::Data<CalendarHandle>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let notice = page::notice(query.done.as_deref(), &NOTICES);
    Ok(calendar_page(&desk, &calendar, &clock, notice, None))
}

/// `POST /staff/admin/calendar/reload`: 303 back, or the page with the refusal (422
/// `calendar_invalid`, with the file and line).
async fn reload(
    posted: Posted,
    calendar: web::Data<CalendarHandle>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, .. } = posted;
    admin(&desk)?;
    match reload_calendar(&desk.staff, &calendar, &pool, &clock).await {
        Ok(_) => Ok(page::see_other("/staff/admin/calendar?done=reloaded")),
        Err(e) if e.status.is_client_error() && e.status != 403 => {
            let detail = e.detail.clone();
            Ok(calendar_page(
                &desk,
                &calendar,
                &clock,
                None,
                Some((refusal(&e), detail)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
