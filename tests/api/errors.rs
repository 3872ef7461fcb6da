use actix_web::web;
use probity::db::Backend;
use serde::Deserialize;

use crate::helpers::{app, assert_problem, spawn_app};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        unknown_route_is_404_problem,
        wrong_method_is_405_with_allow,
        malformed_json_is_400_problem,
        wrong_shape_is_422_problem,
        wrong_content_type_is_415_problem,
        oversize_body_is_413_problem,
        panic_is_500_problem_without_internals,
    ]
}

#[derive(Deserialize)]
struct Probe {
    #[allow(dead_code)]
    name: String,
}

/// Probes mounted only in tests: a JSON endpoint using the app's real JsonConfig, and a
/// handler that panics.
fn probes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/test/json",
        web::post().to(|_: web::Json<Probe>| async { "ok" }),
    )
    .route(
        "/test/panic",
        web::get().to(|| async {
            if std::hint::black_box(true) {
                panic!("secret internal detail");
            }
            "unreachable"
        }),
    );
}

async fn unknown_route_is_404_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(app.get("/api/v1/no-such-thing").await, 404, "not_found").await;
    assert_problem(app.get("/nowhere").await, 404, "not_found").await;
}

async fn wrong_method_is_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    assert_problem(response, 405, "method_not_allowed").await;
    let response = app
        .client
        .delete(app.url("/api/v1/audit/verify"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}

async fn malformed_json_is_400_problem(backend: Backend) {
    let app = app(backend).extra_routes(probes).spawn().await;
    let response = app
        .client
        .post(app.url("/test/json"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "malformed_json").await;
}

async fn wrong_shape_is_422_problem(backend: Backend) {
    let app = app(backend).extra_routes(probes).spawn().await;
    let response = app
        .client
        .post(app.url("/test/json"))
        .json(&serde_json::json!({"name": 5}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 422, "invalid_body").await;
}

async fn wrong_content_type_is_415_problem(backend: Backend) {
    let app = app(backend).extra_routes(probes).spawn().await;
    let response = app
        .client
        .post(app.url("/test/json"))
        .header("content-type", "text/plain")
        .body("{\"name\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415, "unsupported_media_type").await;
}

async fn oversize_body_is_413_problem(backend: Backend) {
    let app = app(backend)
        .extra_routes(probes)
        .set("server.json_body_limit", 1024)
        .spawn()
        .await;
    let big = serde_json::json!({"name": "x".repeat(4096)});
    let response = app
        .client
        .post(app.url("/test/json"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "payload_too_large").await;
    // A body within the limit still works.
    let ok = app
        .client
        .post(app.url("/test/json"))
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

async fn panic_is_500_problem_without_internals(backend: Backend) {
    let app = app(backend).extra_routes(probes).spawn().await;
    let response = app.get("/test/panic").await;
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body = assert_problem(response, 500, "internal_error").await;
    assert!(
        !body.to_string().contains("secret internal detail"),
        "{body}"
    );
    // The server keeps serving after the panic.
    assert_eq!(app.get("/healthz").await.status(), 200);
}
