use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use probity::db::Backend;

use crate::helpers::spawn_app;

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        healthz_answers_with_security_headers,
        readyz_names_the_backend,
        openapi_documents_the_routes_and_docs_load_nothing_from_outside,
        shutdown_finishes_in_flight_requests,
    ]
}

async fn healthz_answers_with_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let h = response.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("http"), "CSP names no outside source: {csp}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn readyz_names_the_backend(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], backend.name());
}

async fn openapi_documents_the_routes_and_docs_load_nothing_from_outside(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/healthz", "/readyz", "/api/v1/audit/verify"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    let redirect = app.get("/api/docs").await;
    assert_eq!(redirect.status(), 308);
    let page = app.get("/api/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "Swagger UI served");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no outside assets: {html}"
    );
    let init = app.get("/api/docs/swagger-initializer.js").await;
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/api/v1/openapi.json"));
}

/// Gates for the slow probe, one per test run (keyed by a random id in the query), so the test
/// decides when the in-flight request finishes instead of guessing with timers.
type Gate = (Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>);

fn gates() -> &'static Mutex<HashMap<String, Gate>> {
    static GATES: OnceLock<Mutex<HashMap<String, Gate>>> = OnceLock::new();
    GATES.get_or_init(Default::default)
}

fn gate(id: &str) -> Gate {
    gates()
        .lock()
        .unwrap()
        .entry(id.to_string())
        .or_insert_with(|| (Default::default(), Default::default()))
        .clone()
}

fn slow_probe(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.route(
        "/test/slow",
        actix_web::web::get().to(
            |query: actix_web::web::Query<HashMap<String, String>>| async move {
                let (started, release) = gate(&query["id"]);
                started.notify_one();
                release.notified().await;
                "finished"
            },
        ),
    );
}

async fn shutdown_finishes_in_flight_requests(backend: Backend) {
    let app = crate::helpers::app(backend)
        .extra_routes(slow_probe)
        .spawn()
        .await;
    let id = uuid::Uuid::new_v4().to_string();
    let (started, release) = gate(&id);
    let request = tokio::spawn({
        let client = app.client.clone();
        let url = app.url(&format!("/test/slow?id={id}"));
        async move { client.get(url).send().await }
    });
    // The request is in the handler before the stop begins.
    started.notified().await;
    // What SIGTERM does: a graceful stop, which waits for the request in flight.
    let stopping = tokio::spawn({
        let handle = app.handle();
        async move { handle.stop(true).await }
    });
    // The server stops accepting while the request is still held open.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.client.get(app.url("/healthz")).send().await.is_ok() {
        assert!(std::time::Instant::now() < give_up, "server kept listening");
        tokio::task::yield_now().await;
    }
    assert!(
        !request.is_finished(),
        "the in-flight request is still open"
    );
    release.notify_one();
    let response = request.await.unwrap().expect("in-flight request answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");
    stopping.await.unwrap();
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "no longer listening"
    );
}
