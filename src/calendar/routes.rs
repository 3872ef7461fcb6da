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
    HttpResponse::Ok().json(status_today(&calendar, &clock))
}

/// The calendar in use as `GET /calendar` shows it, for today's county date by `clock`: the
/// years it holds and this year and the next when they have none (each missing year is logged
/// as a warning, once a day).
pub fn status_today(calendar: &CalendarHandle, clock: &Clock) -> CalendarStatus {
    let today = today_in_county(clock.now());
    calendar.warn_missing(today);
    calendar.status(today)
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
    let status = reload(&staff, &calendar, &pool, &clock).await?;
    Ok(HttpResponse::Ok().json(status))
}

/// Reloads the working-day calendar from the calendar folder on behalf of `staff` (as SIGHUP
/// does), records `calendar.reloaded` with the years and source, installs it, and returns the
/// calendar now in use ([`status_today`]). What `POST /calendar/reload` does.
///
/// Errors: 403 unless `staff` may administer; 422 `calendar_invalid` naming the bad file and
/// line (the calendar in use stays); a database error.
pub async fn reload(
    staff: &Staff,
    calendar: &CalendarHandle,
    pool: &DbPool,
    clock: &Clock,
) -> Result<CalendarStatus, ApiError> {
    staff.require(Permission::Administer)?;
    let handle = calendar.clone();
    let tx_clock = clock.clone();
    let actor = staff.actor();
    db::run(pool, move |conn| {
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
    Ok(status_today(calendar, clock))
}
