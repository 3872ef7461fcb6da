//! The OpenAPI document is a complete contract (issue 8, item 5): every operation states its
//! security requirement and every error status it can answer, as problem+json. These tests hold
//! every mounted operation to that, so a future endpoint cannot skip it; schemathesis
//! (`scripts/fuzz-api.sh`) then checks the live server against the document.

use probity::db::Backend;
use serde_json::Value;

use crate::helpers::spawn_app;

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        every_operation_declares_its_security_and_error_answers,
        secured_operations_answer_401_without_credentials,
    ]
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `(method, path, operation)` for every operation of the served document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn has_param_in(op: &Value, place: &str) -> bool {
    op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == place))
}

async fn every_operation_declares_its_security_and_error_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let ops = operations(&doc);
    assert!(ops.len() >= 30, "all operations documented: {}", ops.len());

    for (method, path, op) in &ops {
        let name = format!("{method} {path}");
        // A security requirement list: `[]` for public operations, otherwise known schemes.
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} declares no security requirement"));
        let names: Vec<&String> = security
            .iter()
            .flat_map(|req| req.as_object().expect("requirement").keys())
            .collect();
        for scheme in &names {
            assert!(
                schemes.contains_key(scheme.as_str()),
                "{name}: unknown scheme {scheme}"
            );
        }

        let mut expected: Vec<u16> = Vec::new();
        let has_body = op.get("requestBody").is_some();
        let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        if has_body || has_params {
            expected.extend([400, 422]);
        }
        if has_body {
            expected.extend([413, 415]);
        }
        if has_param_in(op, "path") {
            expected.push(404);
        }
        if !names.is_empty() {
            expected.push(401);
        }
        if names.iter().any(|s| *s == "bearer" || *s == "api_key") {
            expected.push(403);
        }
        if name != "GET /healthz" {
            expected.push(503);
        }
        let responses = op["responses"].as_object().expect("responses");
        for status in expected {
            assert!(
                responses.contains_key(&status.to_string()),
                "{name} does not declare {status}; declared: {:?}",
                responses.keys().collect::<Vec<_>>()
            );
        }
        // Every error answer is problem+json with the Problem schema.
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &response["content"]["application/problem+json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/Problem",
                    "{name} {status}: {response}"
                );
            }
        }
        for status in ["429", "503"] {
            if let Some(response) = responses.get(status) {
                assert!(
                    response["headers"]["Retry-After"].is_object(),
                    "{name} {status} names Retry-After"
                );
            }
        }
    }

    // Public endpoints say so with an empty requirement list; the rate-limited ones declare 429.
    let op = |m: &str, p: &str| doc["paths"][p][m].clone();
    assert_eq!(
        op("post", "/api/v1/auth/login")["security"],
        serde_json::json!([])
    );
    // Anonymous, or an intake officer logging a phone report with a token.
    assert_eq!(
        op("post", "/api/v1/reports")["security"],
        serde_json::json!([{}, {"bearer": []}])
    );
    for (m, p) in [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/reports"),
        ("post", "/api/v1/reporter/session"),
    ] {
        assert!(op(m, p)["responses"]["429"].is_object(), "{m} {p} 429");
    }
    assert!(op("get", "/api/v1/users")["responses"]["503"]["headers"]["Retry-After"].is_object());

    // The contract's lists name only mounted operations.
    let api = probity::routes::openapi();
    assert_eq!(
        probity::routes::CONTRACT.stale_entries(&api),
        Vec::<&str>::new()
    );
}

async fn secured_operations_answer_401_without_credentials(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        // Public, or credentials optional (`{}` among the requirements): not this check.
        let security = op["security"].as_array().cloned().unwrap_or_default();
        if security.is_empty() || security.iter().any(|r| r == &serde_json::json!({})) {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            401,
            "{method} {path} without credentials"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        checked += 1;
    }
    assert!(checked >= 20, "secured operations checked: {checked}");
}
