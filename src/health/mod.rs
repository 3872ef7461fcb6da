//! Liveness and readiness.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::calendar::{CalendarHandle, CalendarStatus};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::deadlines::today_in_county;
use crate::error::ErrorCode;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the process is up; `ready` when it can serve.
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
    /// The working-day calendar: a missing year does not make the server unready (its
    /// deadlines count weekends only), it is named here for the administrator.
    pub calendar: CalendarStatus,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers and carries every migration this binary knows. The answer
/// also names the calendar's years and the missing ones (this county year and the next without
/// a calendar, on the server clock's county date); missing years still answer 200 and are
/// logged once per county day.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, body = Readiness),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(
    pool: web::Data<DbPool>,
    calendar: web::Data<CalendarHandle>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let (backend, pending) = db::run(&pool, |conn| {
        let pending = db::has_pending_migrations(conn).map_err(ApiError::database_unavailable)?;
        Ok((conn.backend(), pending))
    })
    .await?;
    if pending {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::MigrationsPending,
            "The database lacks migrations; run `probity migrate` or restart the server.",
        ));
    }
    let today = today_in_county(clock.now());
    calendar.warn_missing(today);
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        database: backend.name(),
        calendar: calendar.status(today),
    }))
}
