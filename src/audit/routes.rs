use actix_web::{get, web, HttpResponse};

use crate::audit::{self, VerifyReport};
use crate::auth::extract::Staff;
use crate::db::{self, DbPool};
use crate::domain::permissions::Permission;
use crate::error::{ApiError, Problem};

/// Verify the audit log's hash chain and name the first broken entry.
#[utoipa::path(
    tag = "audit",
    responses(
        (status = 200, description = "Chain verified; `status` is `ok` or `broken`", body = VerifyReport),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit/verify")]
pub async fn verify_chain(staff: Staff, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::ReadAudit)?;
    let report = db::run(&pool, |conn| Ok(audit::verify(conn)?)).await?;
    Ok(HttpResponse::Ok().json(report))
}
