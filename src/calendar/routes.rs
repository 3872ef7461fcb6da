//! `GET /api/v1/calendar` (any staff) and `POST /api/v1/calendar/reload` (administrators):
//! which years the working-day calendar holds, and reloading it from the calendar folder.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};

use super::{CalendarError, CalendarHandle, CalendarStatus};
use crate::audit;
use crate::auth::extract::Staff;
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::deadlines::today_in_county;
use crate::domain::permissions::Permission;
use crate::error::{ApiError, ErrorCode};

impl From<CalendarError> for ApiError {
    fn from(e: CalendarError) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CalendarInvalid,
            format!("The calendar was not reloaded; the one in use stays. {e}"),
        )
    }
}

/// The working-day calendar in use: the years it holds and, for today's county date (from the
/// server's clock), this year and the next when they have no calendar (deadlines in them count
/// weekends only). Any signed-in staff member.
#[utoipa::path(
    tag = "calendar",
    responses(
        (status = 200, description = "The calendar in use", body = CalendarStatus),
    ),
    security(("bearer" = []))
)]
#[get("/calendar")]
pub async fn calendar_status(
    _staff: Staff,
    calendar: web::Data<CalendarHandle>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    let today = today_in_county(clock.now());
    calendar.warn_missing(today);
    HttpResponse::Ok().json(calendar.status(today))
}

/// Reloads the calendar from the calendar folder (as SIGHUP does) and answers the calendar now
/// in use. Administrators only; recorded in the audit log as `calendar.reloaded`. A bad file
/// is refused with 422 `calendar_invalid` naming the file and line, and the calendar in use
/// stays.
#[utoipa::path(
    tag = "calendar",
    responses(
        (status = 200, description = "Reloaded; the calendar now in use", body = CalendarStatus),
    ),
    security(("bearer" = []))
)]
#[post("/calendar/reload")]
pub async fn reload_calendar(
    staff: Staff,
    calendar: web::Data<CalendarHandle>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let handle = calendar.get_ref().clone();
    let tx_clock = clock.get_ref().clone();
    let actor = staff.actor();
    db::run(&pool, move |conn| {
        let (loaded, source) = handle.load().map_err(|e| {
            // The administrator gets the reason in the answer; the log keeps a warning.
            tracing::warn!(error = %e, "calendar not reloaded: the calendar in use stays");
            ApiError::from(e)
        })?;
        let years = loaded.years();
        db::write_tx(conn, |conn| {
            audit::record(
                conn,
                tx_clock.now_naive(),
                &actor,
                "calendar.reloaded",
                "calendar",
                "working_days",
                serde_json::json!({
                    "years": years,
                    "source": source,
                    "dir": handle.dir().display().to_string(),
                }),
            )
        })?;
        handle.install(loaded, source);
        Ok(())
    })
    .await?;
    let today = today_in_county(clock.now());
    calendar.warn_missing(today);
    Ok(HttpResponse::Ok().json(calendar.status(today)))
}
