//! The ceiling for `scripts/bench-benefit-status.sh`: a bare actix-web handler answering
//! `GET /api/v1/villages/{code}/benefit-status` with the same JSON shape as Probity
//! (`probity::suspensions::routes::BenefitStatus`), without authentication, middleware or a
//! database. Never part of the server: an example binary, built only for the benchmark.
//!
//! Usage: `bare_status <port> [workers]` (workers: 0 or absent = one per core, as Probity).

use actix_web::{web, App, HttpResponse, HttpServer};
use probity::suspensions::routes::BenefitStatus;

async fn status(code: web::Path<String>) -> HttpResponse {
    let code = code.into_inner();
    HttpResponse::Ok().json(BenefitStatus {
        village_name: format!("基准村{}", &code[code.len().saturating_sub(3)..]),
        village_code: code,
        suspended: false,
        since: None,
        blocking_cases: Vec::new(),
        policies: None,
        on: None,
        lifted_at: None,
        suspension_id: None,
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(18080);
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    let mut server = HttpServer::new(|| {
        App::new().route(
            "/api/v1/villages/{code}/benefit-status",
            web::get().to(status),
        )
    })
    .bind(("127.0.0.1", port))?;
    if workers > 0 {
        server = server.workers(workers);
    }
    server.run().await
}
